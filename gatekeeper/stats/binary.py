"""Paired binary per-example scores (same eval set, matched by id).

Everything depends on the 2x2 table of (candidate, baseline) outcomes, written
[[n11, n10], [n01, n00]] with n10 = candidate correct and baseline wrong, and
Δ = p_candidate - p_baseline = (n10 - n01) / n.

- Interval and non-inferiority p-value: Tango's (1998) score interval and test. They invert the
  same statistic, so "lower limit > threshold" and "p < alpha" always agree.
- Newcombe's (1998) square-and-add interval (method 10) is the fallback.
- Superiority: McNemar mid-p (one-sided). Wald is not used: at n=100 with 3 discordant pairs
  per 100 it passes far more often than alpha at the margin; it and the two-sided McNemar tests
  live in :mod:`gatekeeper.stats.reference` for the validation benches.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from gatekeeper.stats.dist import binom_pmf, binom_sf, bisect_root, norm_sf
from gatekeeper.stats.power import mde as _mde
from gatekeeper.stats.proportion import wilson_arrays, z_two_sided
from gatekeeper.stats.types import Comparison, Hypothesis

# A score statistic this large is beyond any normal quantile a gate uses; a finite stand-in for
# ±inf keeps the root finder on plain floats.
_T_CAP = 1e12


def _binary_array(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.view(np.uint8)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0/1 scores for a paired binary comparison")
    return arr.astype(np.uint8)


def paired_table(candidate: np.ndarray, baseline: np.ndarray) -> tuple[int, int, int, int]:
    """(n11, n10, n01, n00) for 0/1 (or bool) arrays of equal length.

    Counted on one-byte arrays (np.bincount would first widen its input to 8-byte integers:
    80 MB at 10^7 examples, the peak of a whole `check`)."""
    c = _binary_array(candidate, "candidate")
    b = _binary_array(baseline, "baseline")
    if c.shape != b.shape:
        raise ValueError(f"candidate and baseline differ in length: {c.size} vs {b.size}")
    n11 = int(np.count_nonzero(c & b))
    n10 = int(np.count_nonzero(c > b))
    n01 = int(np.count_nonzero(c < b))
    return n11, n10, n01, int(c.size) - n11 - n10 - n01


def _check_discordant(n10: int, n01: int, n: int) -> None:
    if n10 < 0 or n01 < 0 or n10 + n01 > n:
        raise ValueError(f"need n10, n01 >= 0 and n10 + n01 <= n, got {n10}, {n01}, {n}")


def _tango_statistic(n10: int, n01: int, n: int, delta0: float) -> float:
    """Tango's score statistic T(δ0), decreasing in δ0; positive means 'Δ above δ0'."""
    numerator = n10 - n01 - n * delta0
    if numerator == 0:
        return 0.0
    # Constrained MLE of p01 under Δ = δ0: the positive root of a x² + b x + c = 0.
    a = 2.0 * n
    b = -n10 - n01 + (2.0 * n - n10 + n01) * delta0
    c = -n01 * delta0 * (1.0 - delta0)
    root_disc = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    # The textbook form (root_disc - b) / 2a cancels catastrophically when b > 0.
    p01 = (root_disc - b) / (2.0 * a) if b <= 0 else -2.0 * c / (b + root_disc)
    variance = n * (2.0 * p01 + delta0 * (1.0 - delta0))
    if variance <= 0.0:
        return math.copysign(_T_CAP, numerator)
    t = numerator / math.sqrt(variance)
    return max(-_T_CAP, min(_T_CAP, t))


def _tango_limit(n10: int, n01: int, n: int, target: float, lo: float, hi: float) -> float:
    """The δ in [lo, hi] with T(δ) = target; an endpoint when T never crosses it there."""

    def f(d: float) -> float:
        return _tango_statistic(n10, n01, n, d) - target

    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0.0:
        return lo
    if f_hi == 0.0:
        return hi
    if f_lo * f_hi > 0:
        # T is decreasing: no crossing means the limit sits at the edge of the parameter space.
        return lo if f_lo < 0 else hi
    return bisect_root(f, lo, hi)


def tango_interval(n10: int, n01: int, n: int, confidence: float) -> tuple[float, float]:
    """Tango's score interval for Δ = (n10 - n01)/n; (-1, 1) when n == 0."""
    _check_discordant(n10, n01, n)
    z = z_two_sided(confidence)
    if n == 0:
        return (-1.0, 1.0)
    estimate = (n10 - n01) / n
    low = -1.0 if n01 == n else _tango_limit(n10, n01, n, z, -1.0, estimate)
    high = 1.0 if n10 == n else _tango_limit(n10, n01, n, -z, estimate, 1.0)
    return (low, high)


def tango_score_pvalue(n10: int, n01: int, n: int, delta0: float) -> float:
    """One-sided p-value of Tango's score test, H0: Δ <= δ0 vs H1: Δ > δ0.

    n == 0 carries no evidence, so the p-value is 1."""
    _check_discordant(n10, n01, n)
    if not -1.0 <= delta0 <= 1.0:
        raise ValueError(f"a difference of proportions lies in [-1, 1], got δ0={delta0}")
    if n == 0:
        return 1.0
    return float(norm_sf(_tango_statistic(n10, n01, n, delta0)))


def newcombe_arrays(
    n11: np.ndarray, n10: np.ndarray, n01: np.ndarray, n00: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Newcombe square-and-add limits for tables with n >= 1."""
    n11, n10, n01, n00 = (np.asarray(x, dtype=float) for x in (n11, n10, n01, n00))
    n = n11 + n10 + n01 + n00
    row1, row2 = n11 + n10, n01 + n00
    col1, col2 = n11 + n01, n10 + n00
    p1, p2 = row1 / n, col1 / n
    l1, u1 = wilson_arrays(row1, n, z)
    l2, u2 = wilson_arrays(col1, n, z)
    # Newcombe's correlation between the marginal proportions, shrunk towards 0 by n/2 when
    # positive, and 0 when a margin is empty.
    cross = n11 * n00 - n10 * n01
    scale = np.sqrt(row1 * row2 * col1 * col2)
    safe = np.where(scale > 0, scale, 1.0)
    phi = np.where(cross > n / 2, (cross - n / 2) / safe, np.where(cross >= 0, 0.0, cross / safe))
    phi = np.where(scale > 0, phi, 0.0)
    delta = p1 - p2
    d_low = (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
    d_high = (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)
    low = delta - np.sqrt(np.maximum(d_low, 0.0))
    high = delta + np.sqrt(np.maximum(d_high, 0.0))
    return np.maximum(-1.0, low), np.minimum(1.0, high)


def newcombe_interval(
    n11: int, n10: int, n01: int, n00: int, confidence: float
) -> tuple[float, float]:
    """Newcombe's square-and-add interval (method 10) for Δ = p_candidate - p_baseline."""
    if min(n11, n10, n01, n00) < 0:
        raise ValueError("cell counts must be non-negative")
    z = z_two_sided(confidence)
    if n11 + n10 + n01 + n00 == 0:
        return (-1.0, 1.0)
    low, high = newcombe_arrays(
        np.asarray(n11), np.asarray(n10), np.asarray(n01), np.asarray(n00), z
    )
    return (float(low), float(high))


def wald_se(n10: int, n01: int, n: int) -> float:
    """Plug-in SE of (n10 - n01)/n: sqrt((n10+n01)/n² - Δ²/n); 0 without discordant pairs."""
    _check_discordant(n10, n01, n)
    if n == 0:
        return 0.0
    delta = (n10 - n01) / n
    return math.sqrt(max((n10 + n01) / n**2 - delta * delta / n, 0.0))


def mcnemar_midp_one_sided(n10: int, n01: int) -> float:
    """One-sided McNemar mid-p for H1: the candidate wins more discordant pairs (n10 > n01)."""
    discordant = n10 + n01
    if discordant == 0:
        return 0.5  # mid-p of a point mass: no evidence either way
    upper = binom_sf(n10, discordant, 0.5) + 0.5 * binom_pmf(n10, discordant, 0.5)
    return float(min(1.0, upper))


_REASON = (
    "binary scores paired by id: Tango score interval; Wald is too liberal with few "
    "discordant pairs"
)


def compare_paired_binary(
    candidate: np.ndarray, baseline: np.ndarray, hypothesis: Hypothesis
) -> Comparison:
    """Compare paired 0/1 scores. ``ci`` is on the natural scale (candidate - baseline);
    ``p_value`` tests the oriented H0 'Δ <= threshold' (oriented Δ = -Δ when lower is better),
    so it agrees with :func:`gatekeeper.stats.decision.decide` on the same interval."""
    return compare_paired_counts(*paired_table(candidate, baseline), hypothesis)


def compare_paired_counts(n11: int, n10: int, n01: int, n00: int, hypothesis: Hypothesis
                          ) -> Comparison:
    """:func:`compare_paired_binary` from its sufficient statistics, the four paired cell
    counts (both correct, only the candidate, only the baseline, neither), as an engine such as
    DuckDB computes them where the data lives (`gatekeeper sql`)."""
    for name, count in (("n11", n11), ("n10", n10), ("n01", n01), ("n00", n00)):
        if count < 0:
            raise ValueError(f"{name} must be >= 0, got {count}")
    n = n11 + n10 + n01 + n00
    confidence = hypothesis.confidence
    if n == 0:
        return Comparison.degenerate_result(
            "tango", _REASON, candidate=0.0, baseline=0.0, n=(0, 0), confidence=confidence,
            ci=(-1.0, 1.0), p_value=1.0, notes=("no paired examples: nothing to compare",),
        )
    delta = (n10 - n01) / n
    notes: list[str] = []
    method = "tango"
    reason = _REASON
    try:
        ci = tango_interval(n10, n01, n, confidence)
        if not all(math.isfinite(x) for x in ci):
            raise ValueError(f"non-finite Tango limits {ci}")
    except (ValueError, RuntimeError) as exc:
        ci = newcombe_interval(n11, n10, n01, n00, confidence)
        method = "newcombe"
        reason = (
            "binary scores paired by id: Newcombe square-and-add interval, because the Tango "
            "score interval could not be computed"
        )
        notes.append(f"Tango root finding failed ({exc}); fell back to Newcombe")

    # Orientation: when lower is better the oriented Δ is -Δ, i.e. the table with the roles of
    # the discordant cells swapped (Tango's statistic is symmetric under that swap).
    wins, losses = (n10, n01) if hypothesis.higher_is_better else (n01, n10)
    threshold = min(1.0, max(-1.0, hypothesis.threshold))
    p_value = tango_score_pvalue(wins, losses, n, threshold)
    if method == "newcombe":
        notes.append("p-value is Tango's score test; the interval is Newcombe's")

    se = wald_se(n10, n01, n)
    # With no (or very few) discordant pairs the plug-in SE is 0 although the score interval
    # has width; the MDE uses whichever is larger so it never claims unlimited power.
    se_interval = (ci[1] - ci[0]) / (2.0 * z_two_sided(confidence))
    mde_value = _mde(max(se, se_interval), hypothesis.alpha_one_sided)

    if n10 + n01 == 0:
        notes.append(f"no discordant pairs among {n} examples: both models agree on every example")
    if hypothesis.require_improvement:
        midp = mcnemar_midp_one_sided(wins, losses)
        note = f"McNemar mid-p (one-sided, H1: candidate better) = {midp:.4g}"
        if hypothesis.gain > 0:
            note += f"; it tests Δ > 0, the gate tests Δ > {hypothesis.gain:g}"
        notes.append(note)

    return Comparison(
        method=method,
        reason=reason,
        candidate=(n11 + n10) / n,
        baseline=(n11 + n01) / n,
        delta=delta,
        ci=ci,
        confidence=confidence,
        n=(n, n),
        p_value=p_value,
        mde=mde_value,
        se=se,
        notes=tuple(notes),
    )
