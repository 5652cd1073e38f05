"""A single proportion against a fixed limit (budgets such as "error rate <= 2%").

Wilson's score interval is the default because it keeps coverage near 0 and 1, where budgets
live: exact coverage at n=100, p=.99 is .921 for Wilson and .633 for Wald (STATISTICS.md §2).
Clopper-Pearson, the conservative alternative the benches compare it with, is in
:mod:`gatekeeper.stats.reference`.
"""

from __future__ import annotations

import math

import numpy as np

from gatekeeper.stats.dist import norm_ppf, norm_sf
from gatekeeper.stats.types import Comparison


def check_counts(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def z_two_sided(confidence: float) -> float:
    """The normal quantile for a two-sided interval at ``confidence``."""
    check_confidence(confidence)
    return float(norm_ppf(0.5 + confidence / 2.0))


def wilson_arrays(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson limits for arrays of counts with n >= 1 (exact enumeration uses it)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # The exact endpoints at k = 0 and k = n are 0 and 1; rounding can miss them by an ulp.
    low = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
    high = np.where(k == n, 1.0, np.minimum(1.0, centre + half))
    return low, high


def wilson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval for k successes out of n; (0, 1) when n == 0 (no information)."""
    check_counts(k, n)
    z = z_two_sided(confidence)
    if n == 0:
        return (0.0, 1.0)
    low, high = wilson_arrays(np.asarray(k), np.asarray(n), z)
    return (float(low), float(high))


def _score_pvalue_below(k: int, n: int, limit: float) -> float:
    """One-sided score-test p-value for H0: p >= limit vs H1: p < limit.

    Wilson's interval inverts this very test, so 'upper Wilson limit < limit' and
    'p-value < alpha' always agree."""
    if limit <= 0.0:
        return 1.0  # no proportion can be shown below 0
    if limit >= 1.0:
        return 0.0 if k < n else 1.0
    z = (limit - k / n) / math.sqrt(limit * (1.0 - limit) / n)
    return float(norm_sf(z))


def compare_proportion_to_limit(
    k: int,
    n: int,
    limit: float,
    confidence: float,
    *,
    higher_is_better: bool = False,
) -> Comparison:
    """Compare an observed proportion k/n with a fixed limit; Δ = p - limit.

    The interval is Wilson's for p shifted by -limit. ``higher_is_better`` only orients the
    one-sided p-value: False (the default, for budgets such as an error rate) tests
    H0: p >= limit; True tests H0: p <= limit. The interval is the same either way."""
    check_counts(k, n)
    check_confidence(confidence)
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"a proportion limit must be in [0, 1], got {limit}")
    reason = (
        "a proportion against a fixed limit: Wilson score interval, which keeps its "
        "coverage near 0 and 1 where Wald collapses"
    )
    if n == 0:
        # delta is -limit, not 0.0 - limit: a limit of 0 gives -0.0, as it always has.
        return Comparison.degenerate_result(
            "wilson", reason, candidate=0.0, baseline=limit, delta=-limit,
            ci=(-limit, 1.0 - limit), n=(0, 0), confidence=confidence, p_value=1.0,
            notes=("no observations: the proportion is unknown",),
        )
    p = k / n
    low, high = wilson_interval(k, n, confidence)
    p_below = _score_pvalue_below(k, n, limit)
    if higher_is_better:
        p_value = 1.0 if limit >= 1.0 else _score_pvalue_below(n - k, n, 1.0 - limit)
    else:
        p_value = p_below
    se = math.sqrt(p * (1.0 - p) / n)
    notes: tuple[str, ...] = ()
    if k in (0, n):
        notes = (f"all {n} observations are {'successes' if k == n else 'failures'}",)
    return Comparison(
        method="wilson",
        reason=reason,
        candidate=p,
        baseline=limit,
        delta=p - limit,
        ci=(low - limit, high - limit),
        confidence=confidence,
        n=(n, 0),
        p_value=p_value,
        se=se,
        notes=notes,
    )
