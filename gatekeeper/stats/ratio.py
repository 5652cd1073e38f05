"""Cost per request and cost per success: ratios of means with delta-method intervals.

Cost per request is mean(cost); cost per successful task is Σcost / Σsuccess, i.e. the ratio
of means R = mean(num) / mean(den) with num_i = cost_i and den_i = success_i ∈ {0, 1} (den_i = 1
gives cost per request). Linearising R around the sample means gives the delta-method SE

    se(R) = sqrt(var(num_i - R den_i) / n) / mean(den)
          = sqrt((s²_num - 2R s_num,den + R² s²_den) / n) / mean(den),

with sample (n - 1) variances. Two samples (candidate vs baseline, independent requests) are
compared on log(R_c / R_b), whose delta-method SE is sqrt(se_c²/R_c² + se_b²/R_b²).

The normal interval errs by about 0.085·γ/√n on each side, where γ is the skewness of the
linearised contributions num_i - R den_i (first Edgeworth term at z = 1.96). Costs are often
heavy-tailed (a few very long generations), so ``compare_ratio(method="auto")`` switches to a
bootstrap-t on the log ratio (studentised with the same delta-method SE in every resample) when
|γ| > 0.1·√n in either sample, i.e. when the one-sided error would pass about 0.01. The
bootstrap-t corrects that skewness to the next order; it can be forced with
``method="bootstrap-t"``.

No interval of a mean survives a tail that is too heavy for the sample: the rare very large
costs that make up much of the mean are missing from most samples, and the interval then sits
below the truth (lognormal σ = 1.5 costs at n = 300: the delta method misses on that side 9.6%
of the time and the bootstrap-t 7.1%, against .025). So before any interval, the Hill (1975)
estimate of the tail index of each sample's costs, from its top k = max(10, n/10) values, is
checked: below 2 the data look like a distribution without a finite variance, the mean is not
estimable at this n, and the comparison is degenerate ("no information", never a pass). The
delta-method interval is still reported for context, and no bootstrap is run.
"""

from __future__ import annotations

import math

import numpy as np

from gatekeeper.stats.bootstrap import multinomial_counts
from gatekeeper.stats.dist import norm_ppf, norm_sf
from gatekeeper.stats.power import mde as power_mde
from gatekeeper.stats.types import Comparison, Hypothesis

METHODS = ("auto", "delta", "bootstrap-t")
# |skewness| / sqrt(n) above which "auto" uses the bootstrap-t (see module docstring).
SKEW_PER_ROOT_N = 0.1
# Above this the bootstrap-t still under-covers in simulation (docs/statistics-latency-cost.md):
# the result carries a note.
SEVERE_SKEW_PER_ROOT_N = 0.3
# Hill tail index below which the mean counts as not estimable (a finite variance needs > 2).
MIN_TAIL_INDEX = 2.0
# The Hill estimate uses the top max(HILL_MIN_K, n // HILL_FRACTION) positive values and needs
# at least HILL_MIN_N positive values to be computed at all.
HILL_MIN_K = 10
HILL_FRACTION = 10
HILL_MIN_N = 20


def hill_tail_index(x: np.ndarray) -> tuple[float, int] | None:
    """Hill (1975) estimate of the tail index of the positive values of ``x``, and its k.

    alpha = 1 / mean(log x_(n-i+1) - log x_(n-k)) over the top k order statistics, with
    k = max(10, n/10). None when fewer than 20 positive values exist; inf when the top values
    are tied (no tail at all). O(n) via a partition, so fine at 10^7.
    """
    pos = x[x > 0.0]
    n = int(pos.size)
    if n < HILL_MIN_N:
        return None
    k = max(HILL_MIN_K, n // HILL_FRACTION)
    top = np.partition(pos, n - k - 1)[n - k - 1 :]
    logs = np.log(top)
    threshold = float(np.min(logs))
    spacing = float(np.mean(logs)) * (k + 1) / k - threshold * (k + 1) / k
    if spacing <= 0.0:
        return math.inf, k
    return 1.0 / spacing, k


def _pair(num: np.ndarray, den: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(num, dtype=np.float64)
    y = np.asarray(den, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"{name}: numerator and denominator must be 1-D and equally long, got "
            f"{x.shape} and {y.shape}"
        )
    if x.size < 2:
        raise ValueError(f"{name}: need at least 2 observations, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"{name}: values must be finite")
    if np.any(y < 0):
        raise ValueError(f"{name}: the denominator (successes, requests) must be non-negative")
    return x, y


def _ratio_se(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """R, its delta-method SE, and the linearised contributions x_i - R y_i."""
    mean_y = float(np.mean(y))
    ratio = float(np.mean(x)) / mean_y
    z = x - ratio * y
    se = float(np.std(z, ddof=1)) / math.sqrt(x.size) / mean_y
    return ratio, se, z


def ratio_of_means(
    num: np.ndarray, den: np.ndarray, confidence: float
) -> tuple[float, tuple[float, float], float]:
    """Σnum / Σden with a delta-method interval: (estimate, (low, high), se).

    The interval is R ± z_{(1+confidence)/2}·se. When Σden = 0 (no successes) the cost per
    success is infinite: the result is (inf, (inf, inf), inf), which exceeds any budget.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    x, y = _pair(num, den, "ratio")
    if float(np.sum(y)) == 0.0:
        if float(np.sum(x)) == 0.0:
            raise ValueError("ratio undefined: numerator and denominator both sum to 0")
        return math.inf, (math.inf, math.inf), math.inf
    ratio, se, _ = _ratio_se(x, y)
    crit = float(norm_ppf(0.5 + confidence / 2.0))
    return ratio, (ratio - crit * se, ratio + crit * se), se


def skewness(z: np.ndarray) -> float:
    """Sample skewness (biased moment estimator); 0 for a constant sample."""
    centred = z - np.mean(z)
    m2 = float(np.mean(centred**2))
    if m2 == 0.0:
        return 0.0
    return float(np.mean(centred**3)) / m2**1.5


def _bootstrap_log_ratio_t(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, resamples: int
) -> tuple[np.ndarray, np.ndarray]:
    """log R* and its delta-method SE in each resample of one sample."""
    n = x.size
    # Centred columns keep the resample variances free of cancellation at large n.
    xc, yc = x - np.mean(x), y - np.mean(y)
    columns = np.stack([xc, yc, xc * xc, yc * yc, xc * yc], axis=1)
    counts = multinomial_counts(rng, np.ones(n, dtype=np.int64), resamples)
    sums = counts.astype(np.float64) @ columns
    mx, my = sums[:, 0] / n, sums[:, 1] / n
    var_x = (sums[:, 2] - n * mx * mx) / (n - 1)
    var_y = (sums[:, 3] - n * my * my) / (n - 1)
    cov = (sums[:, 4] - n * mx * my) / (n - 1)
    mean_x, mean_y = mx + np.mean(x), my + np.mean(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = mean_x / mean_y
        var_z = np.maximum(var_x - 2.0 * ratio * cov + ratio * ratio * var_y, 0.0)
        se_log = np.sqrt(var_z / n) / mean_y / ratio
        return np.log(ratio), se_log


def compare_ratio(
    candidate_num: np.ndarray,
    candidate_den: np.ndarray,
    baseline_num: np.ndarray,
    baseline_den: np.ndarray,
    hypothesis: Hypothesis,
    *,
    method: str = "auto",
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare two ratios of means (independent samples) on log(R_c / R_b).

    ``candidate``/``baseline`` of the result are the ratios in natural units; ``delta``, ``ci``,
    ``se`` and ``mde`` are in log units (scale "log_ratio"). ``method`` is "delta", "bootstrap-t"
    or "auto" (bootstrap-t when the linearised contributions are too skewed for the normal
    approximation, see the module docstring). A ratio that is zero or undefined (no cost, no
    successes) cannot be compared on the log scale: the result is degenerate, never a pass.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    xc, yc = _pair(candidate_num, candidate_den, "candidate")
    xb, yb = _pair(baseline_num, baseline_den, "baseline")
    if np.any(xc < 0) or np.any(xb < 0):
        raise ValueError("costs must be non-negative")
    size = (int(xc.size), int(xb.size))
    sums = (float(np.sum(xc)), float(np.sum(yc)), float(np.sum(xb)), float(np.sum(yb)))
    if min(sums) <= 0.0:
        return _undefined_ratio(sums, size, hypothesis)
    r_c, se_c, z_c = _ratio_se(xc, yc)
    r_b, se_b, z_b = _ratio_se(xb, yb)
    delta = math.log(r_c) - math.log(r_b)
    se = math.hypot(se_c / r_c, se_b / r_b)
    worst = max(abs(skewness(z_c)) / math.sqrt(xc.size), abs(skewness(z_b)) / math.sqrt(xb.size))
    too_heavy = _too_heavy_notes(xc, xb, size)
    use_t = method == "bootstrap-t" or (
        method == "auto" and worst > SKEW_PER_ROOT_N and not too_heavy
    )
    notes: tuple[str, ...] = tuple(too_heavy)
    if se == 0.0:
        return Comparison.degenerate_result(
            "delta-method-log-ratio", "ratio of means compared on the log scale",
            candidate=r_c, baseline=r_b, delta=delta, n=size,
            confidence=hypothesis.confidence, se=0.0, scale="log_ratio",
            notes=("the per-request contributions do not vary: no variance information",),
        )
    alpha = hypothesis.alpha_one_sided
    oriented = delta if hypothesis.higher_is_better else -delta
    t_obs = (oriented - hypothesis.threshold) / se
    if not use_t:
        name = "delta-method-log-ratio"
        reason = "ratio of means: delta-method SE of log(R_c/R_b), normal interval."
        if too_heavy:
            reason = (
                "ratio of means: the costs are too heavy-tailed for an interval of the mean "
                "(Hill tail index < 2), so no verdict; the delta-method interval of "
                "log(R_c/R_b) is shown for context only."
            )
        crit = float(norm_ppf(1.0 - alpha))
        ci = (delta - crit * se, delta + crit * se)
        p_value = float(norm_sf(t_obs))
    else:
        name = "bootstrap-t-log-ratio"
        why = "on request" if method == "bootstrap-t" else (
            f"because the per-request contributions are skewed (|skewness|/√n = {worst:.3g} "
            f"> {SKEW_PER_ROOT_N})"
        )
        reason = (
            f"ratio of means: bootstrap-t of log(R_c/R_b) studentised by the delta-method SE "
            f"({resamples} resamples), used {why}."
        )
        ci, p_value, notes = _bootstrap_t(
            (xc, yc), (xb, yb), delta, se, t_obs, worst, hypothesis,
            resamples=resamples, seed=seed, notes=notes,
        )
    return Comparison(
        method=name, reason=reason, candidate=r_c, baseline=r_b, delta=delta, ci=ci,
        confidence=hypothesis.confidence, n=size, p_value=p_value,
        mde=power_mde(se, alpha), se=se, scale="log_ratio", notes=notes,
        degenerate=bool(too_heavy),
    )


def _undefined_ratio(
    sums: tuple[float, float, float, float], size: tuple[int, int], hypothesis: Hypothesis
) -> Comparison:
    """No cost or no successes on a side: the log ratio does not exist."""
    r_c = sums[0] / sums[1] if sums[1] > 0 else math.inf
    r_b = sums[2] / sums[3] if sums[3] > 0 else math.inf
    return Comparison.degenerate_result(
        "delta-method-log-ratio", "ratio of means compared on the log scale",
        candidate=r_c, baseline=r_b, delta=0.0, n=size, confidence=hypothesis.confidence,
        se=0.0, scale="log_ratio",
        notes=("a ratio is zero or undefined (no cost or no successes): the log ratio "
               "cannot be compared",),
    )


def _too_heavy_notes(xc: np.ndarray, xb: np.ndarray, size: tuple[int, int]) -> list[str]:
    """A note for each side whose costs are too heavy-tailed for a mean to be estimated."""
    tails = [(side, hill_tail_index(x)) for side, x in (("candidate", xc), ("baseline", xb))]
    return [
        f"the {side}'s costs look too heavy-tailed for a mean (Hill tail index {est[0]:.2g} < "
        f"{MIN_TAIL_INDEX:g} from the top {est[1]} values): rare large costs missing from "
        f"{size[0] if side == 'candidate' else size[1]} requests dominate the mean, so no "
        "interval of it is reliable; gather more requests or cap costs"
        for side, est in tails
        if est is not None and est[0] < MIN_TAIL_INDEX
    ]


def _bootstrap_t(
    candidate: tuple[np.ndarray, np.ndarray],
    baseline: tuple[np.ndarray, np.ndarray],
    delta: float,
    se: float,
    t_obs: float,
    worst: float,
    hypothesis: Hypothesis,
    *,
    resamples: int,
    seed: int,
    notes: tuple[str, ...],
) -> tuple[tuple[float, float], float, tuple[str, ...]]:
    """(interval, p-value, notes) of the bootstrap-t of log(R_c/R_b)."""
    if resamples < 100:
        raise ValueError(f"need at least 100 resamples, got {resamples}")
    alpha = hypothesis.alpha_one_sided
    rng = np.random.default_rng(seed)
    log_c, sl_c = _bootstrap_log_ratio_t(*candidate, rng, resamples)
    log_b, sl_b = _bootstrap_log_ratio_t(*baseline, rng, resamples)
    with np.errstate(invalid="ignore"):
        t_star = (log_c - log_b - delta) / np.hypot(sl_c, sl_b)
    usable = t_star[np.isfinite(t_star)]
    dropped = resamples - usable.size
    if dropped:
        notes = (*notes, f"{dropped} resamples without successes or spread were dropped")
    if usable.size < 100:
        raise ValueError("too few usable bootstrap resamples for a bootstrap-t interval")
    if worst > SEVERE_SKEW_PER_ROOT_N:
        notes = (
            *notes,
            f"very heavy-tailed costs (|skewness|/√n = {worst:.3g}): even the bootstrap-t "
            "interval tends to be too narrow here; more requests help",
        )
    q_low, q_high = np.quantile(usable, [alpha, 1.0 - alpha])
    ci = (delta - float(q_high) * se, delta - float(q_low) * se)
    oriented_t = usable if hypothesis.higher_is_better else -usable
    p_value = (1.0 + float(np.count_nonzero(oriented_t >= t_obs))) / (usable.size + 1.0)
    return ci, p_value, notes
