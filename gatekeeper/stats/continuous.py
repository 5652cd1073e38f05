"""t intervals for means: paired per-example scores (optionally clustered) and seed replicates.

Every function returns a :class:`Comparison` on the natural scale (candidate - baseline) with a
two-sided interval at ``hypothesis.confidence`` and a one-sided p-value for the oriented null
``Δ_oriented <= hypothesis.threshold``. Inputs without variance information come back with
``degenerate=True`` and finite numbers, so the decision maps them to "no information" and
never to a pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gatekeeper.stats.dist import t_ppf, t_sf
from gatekeeper.stats.moments import (
    Moments,
    as_float_array,
    cluster_sums,
    mean,
    moments,
    skewness,
)
from gatekeeper.stats.power import mde as power_mde
from gatekeeper.stats.types import Comparison, Hypothesis


def t_summary(
    delta: float, se: float, df: float, hypothesis: Hypothesis
) -> tuple[tuple[float, float], float, float]:
    """(interval, one-sided p-value, MDE) of a t statistic with ``df`` degrees of freedom.

    The interval is delta +/- t_{1-alpha, df} * se with alpha one-sided, i.e. the two-sided
    interval at ``confidence``. The p-value is for the oriented null, so a lower-is-better
    metric is tested on -delta, exactly as ``decision.oriented_interval`` flips the interval.
    """
    alpha = hypothesis.alpha_one_sided
    crit = float(t_ppf(1.0 - alpha, df))
    ci = (delta - crit * se, delta + crit * se)
    oriented = delta if hypothesis.higher_is_better else -delta
    t_stat = (oriented - hypothesis.threshold) / se
    p_value = float(t_sf(t_stat, df))
    return ci, p_value, power_mde(se, alpha, df=df)


# Relative size below which a spread is rounding noise: 0.9 - 0.8 and 0.8 - 0.7 differ by 1e-16,
# and a "variance" made of that must not produce a razor-thin interval that passes.
_REL_TOL = 1e-12
# Below this many clusters the comparison notes that G is small (CR2 and Bell-McCaffrey df
# keep the validation grid within Monte Carlo error down to G = 10, but not below).
FEW_CLUSTERS = 20
# Cochran (1977): the mean is close enough to normal once n > 25 * g1^2. (Sugden et al. 2000
# add 28 to the right-hand side; with t intervals that would flag every small sample with a
# little negative skewness by chance, e.g. a quarter of normal samples at n = 30.)
COCHRAN_PER_SKEW2 = 25.0
# Between Cochran's limit and this one, differences skewed towards the candidate's losses still
# make the plain t pass too often (d = -lognormal at n = 1,000: 4.1% instead of 2.5%); Johnson's
# (1978) skewness-corrected t brings that back to 2.9%, within Monte Carlo error at R = 10,000.
JOHNSON_PER_SKEW2 = 400.0
# ...and only for clearly skewed data (|g1| >= 1), so that ordinary samples keep the plain t that
# the reference values (scipy's ttest_rel) describe.
JOHNSON_MIN_SKEW = 1.0


def _scale(*arrays: np.ndarray) -> float:
    # max and -min instead of abs(): no temporary array at n = 10^7.
    return max((max(float(a.max()), -float(a.min())) for a in arrays if a.size), default=0.0)


def _negligible(sd: float, scale: float) -> bool:
    return sd <= _REL_TOL * scale


def _degenerate(
    method: str,
    reason: str,
    candidate: float,
    baseline: float,
    hypothesis: Hypothesis,
    n: tuple[int, int],
    note: str,
    extra_notes: tuple[str, ...] = (),
) -> Comparison:
    return Comparison.degenerate_result(
        method, reason, candidate=candidate, baseline=baseline, n=n,
        confidence=hypothesis.confidence, se=0.0, notes=(*extra_notes, note),
    )


@dataclass(frozen=True)
class PairedSummary:
    """What the paired t (and its skewness guards) reads from paired differences d = c - b:
    their count, the two means, d's mean, M2 (sum of squared deviations) and moment skewness
    g1, and the largest |score| (the scale below which a spread is rounding noise). Computed
    from rows by :func:`compare_paired_mean`, or where the data lives (`gatekeeper sql --kind
    mean`) and carried by a bundle as ``paired_moments``."""

    n: int
    mean_candidate: float
    mean_baseline: float
    mean_difference: float
    m2_difference: float
    skewness_difference: float
    scale: float

    @property
    def sd(self) -> float:
        return Moments(self.n, self.mean_difference, self.m2_difference).sd


def compare_paired_moments(m: PairedSummary, hypothesis: Hypothesis) -> Comparison:
    """The paired comparison of :func:`compare_paired_mean` (without clusters) from its
    sufficient statistics: the rows give the same numbers through here."""
    n, mc, mb, delta, g1 = (m.n, m.mean_candidate, m.mean_baseline, m.mean_difference,
                            m.skewness_difference)
    method = "paired-t"
    reason = "Per-example scores paired by id: t interval on the mean difference, n-1 df."
    if n < 2:
        return _degenerate(
            method, reason, mc, mb, hypothesis, (n, n),
            f"only {n} paired example(s): no variance information",
        )
    sd = m.sd
    if _negligible(sd, m.scale):
        return _degenerate(
            method, reason, mc, mb, hypothesis, (n, n),
            "all paired differences are equal: no variance information",
        )
    se = sd / math.sqrt(n)
    ci, p, mde = t_summary(delta, se, n - 1, hypothesis)
    skew_notes, unsafe = _skew_guard(n, g1, hypothesis.higher_is_better)
    oriented_g1 = g1 if hypothesis.higher_is_better else -g1
    if (not unsafe and oriented_g1 <= -JOHNSON_MIN_SKEW
            and n < JOHNSON_PER_SKEW2 * g1 * g1):
        johnson = johnson_t(n, delta, sd, g1, hypothesis)
        if johnson is None:
            unsafe = True
            skew_notes = (*skew_notes, "the skewness-corrected t has no lower bound at this "
                          "level: the differences are too skewed to give a verdict")
        else:
            ci, p = johnson
            method = "johnson-t"
            reason = ("Per-example scores paired by id, skewed towards the candidate's "
                      f"losses (skewness {g1:.2g}): Johnson's skewness-corrected t, n-1 df.")
    if unsafe:
        reason = (
            "Per-example scores paired by id: t interval on the mean difference, n-1 df; "
            "the differences are too skewed towards the candidate's losses for any interval "
            "of the mean at this n, so the comparison gives no verdict."
        )
    return Comparison(
        method=method, reason=reason, candidate=mc, baseline=mb, delta=delta, ci=ci,
        confidence=hypothesis.confidence, n=(n, n), p_value=p, mde=mde, se=se,
        notes=skew_notes, degenerate=unsafe,
    )


def compare_paired_mean(
    candidate: np.ndarray,
    baseline: np.ndarray,
    hypothesis: Hypothesis,
    clusters: np.ndarray | None = None,
) -> Comparison:
    """Mean of paired differences d = c - b with a t interval.

    Without clusters: SE = sd(d)/sqrt(n), t with n - 1 df (Miller 2024, eq. 7). When the
    differences are skewed towards the losing side beyond Cochran's rule (n < 25·g1², see
    :func:`_skew_guard`), no t, bootstrap or skew-corrected interval keeps the false-pass rate
    at alpha (the sample lacks the rare large losses), so the comparison is marked degenerate:
    the interval is reported, the verdict is "no information", never a pass.

    With clusters: the CR2 bias-reduced variance of Bell & McCaffrey (2002) with their degrees
    of freedom (see :func:`cr2_from_sums`); ``n`` is then (G, G) and a note gives the
    example count. With equal cluster sizes CR2 equals Miller 2024 eq. 8 (CR1 with G/(G-1)) and
    the df are G - 1. The arrays must already be aligned (see ``pairing.pair_by_id``).
    """
    c = as_float_array(candidate, "candidate scores")
    b = as_float_array(baseline, "baseline scores")
    if c.shape != b.shape:
        raise ValueError(
            f"paired scores must have the same length: candidate {c.size}, baseline {b.size}"
        )
    n = int(c.size)
    d = c - b
    mc, mb, md = mean(c), mean(b), moments(d)
    delta = md.mean

    if clusters is None:
        g1 = skewness(d, md.mean, md.m2) if n >= 2 else 0.0
        return compare_paired_moments(
            PairedSummary(n=n, mean_candidate=mc, mean_baseline=mb, mean_difference=md.mean,
                          m2_difference=md.m2, skewness_difference=g1, scale=_scale(c, b)),
            hypothesis)

    groups = cluster_sums(d, np.asarray(clusters))
    # Centred before they are summed per cluster, so no large common offset cancels inside the
    # cluster sums.
    centred = np.bincount(groups.inverse, weights=d - delta, minlength=groups.n_clusters)
    return compare_cluster_sums(
        ClusterSummary(n=n, mean_candidate=mc, mean_baseline=mb, mean_difference=delta,
                       centred_sums=centred, sizes=groups.counts, scale=_scale(c, b)),
        hypothesis)


@dataclass(frozen=True)
class ClusterSummary:
    """What the cluster-robust t reads from paired differences d = c - b in clusters: their
    count, the two means, d's mean, each cluster's sum of deviations from it and its size, and
    the largest |score|. Computed from rows by :func:`compare_paired_mean`, or from the
    per-cluster sums a bundle carries (``paired_cluster_sums``)."""

    n: int
    mean_candidate: float
    mean_baseline: float
    mean_difference: float
    centred_sums: np.ndarray
    sizes: np.ndarray
    scale: float


def compare_cluster_sums(m: ClusterSummary, hypothesis: Hypothesis) -> Comparison:
    """The clustered comparison of :func:`compare_paired_mean` from per-cluster sums."""
    n, mc, mb, delta = m.n, m.mean_candidate, m.mean_baseline, m.mean_difference
    g = int(m.sizes.size)
    method = "cluster-t"
    reason = (
        "Per-example scores grouped in clusters: CR2 (Bell-McCaffrey) cluster-robust variance "
        "of the mean difference with t on Bell-McCaffrey df."
    )
    count_note = f"n counts clusters: {g} clusters holding {n} paired examples"
    if g < 2:
        return _degenerate(
            method, reason, mc, mb, hypothesis, (g, g),
            f"only {g} cluster(s): no variance information between clusters",
            (count_note,),
        )
    var, df = cr2_from_sums(m.centred_sums, m.sizes)
    if _negligible(math.sqrt(var) * math.sqrt(n), m.scale):
        return _degenerate(
            method, reason, mc, mb, hypothesis, (g, g),
            "all cluster differences are equal: no variance information", (count_note,),
        )
    se = math.sqrt(var)
    ci, p, mde = t_summary(delta, se, df, hypothesis)
    notes = [count_note, f"Bell-McCaffrey df = {df:.3g} (G - 1 = {g - 1})"]
    if g < FEW_CLUSTERS:
        notes.append(
            f"only {g} clusters: the interval rests on few independent units; CR2 and the "
            "Bell-McCaffrey df are validated down to 10 clusters"
        )
    return Comparison(
        method=method, reason=reason, candidate=mc, baseline=mb, delta=delta, ci=ci,
        confidence=hypothesis.confidence, n=(g, g), p_value=p, mde=mde, se=se,
        notes=tuple(notes),
    )


def cr2_from_sums(centred_sums: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """CR2 variance of a mean and Bell-McCaffrey df from centred cluster sums and sizes.

    For the intercept-only model the hat matrix block of cluster g is (n_g/n) J, so the CR2
    adjustment (I - H_gg)^(-1/2) scales the residual sum of cluster g by 1/sqrt(1 - n_g/n):

        V = (1/n^2) sum_g S_g^2 / (1 - n_g/n).

    Bell & McCaffrey's df (working covariance I) is (tr M)^2 / tr(M^2) for the G x G matrix
    M = W (D - v v'/n) W / n^2 with v = (n_g), D = diag(v), W = diag((1 - n_g/n)^(-1/2));
    in closed form n^2 / (sum n_g^2 + (sum b)^2 - sum b^2) with b_g = n_g^2 / (n - n_g).
    With equal sizes V is Miller's eq. 8 and the df are G - 1.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    n = float(sizes.sum())
    keep = 1.0 - sizes / n
    var = float(np.sum(centred_sums * centred_sums / keep)) / (n * n)
    b = sizes * sizes / (n - sizes)
    df = n * n / (float(np.dot(sizes, sizes)) + float(b.sum()) ** 2 - float(np.dot(b, b)))
    return var, df


def johnson_t(n: int, mean_: float, sd: float, g1: float, hypothesis: Hypothesis
              ) -> tuple[tuple[float, float], float] | None:
    """Johnson (1978) modified t for a skewed mean: (interval, one-sided p) or None.

    t_J(μ) = [u + μ3/(6 s² n) + μ3 u²/(3 s⁴)] / (s/√n) with u = x̄ - μ corrects the first-order
    effect of skewness on the t statistic. Bounds solve t_J = ±t_{1-α, n-1} for u; with a long
    losing tail the lower bound may not exist (no μ is rejected): then None, and no verdict.
    """
    se = sd / math.sqrt(n)
    m3 = g1 * sd**3 * ((n - 1) / n) ** 1.5  # the central third moment behind g1
    a = m3 / (6.0 * sd * sd * n)
    b = m3 / (3.0 * sd**4)
    crit = float(t_ppf(1.0 - hypothesis.alpha_one_sided, n - 1))

    def solve(c: float) -> float | None:
        if abs(b) < 1e-300:
            return c * se - a
        disc = 1.0 - 4.0 * b * (a - c * se)
        if disc < 0.0:
            return None
        return (-1.0 + math.sqrt(disc)) / (2.0 * b)

    u_low, u_high = solve(crit), solve(-crit)
    if u_low is None or u_high is None:
        return None
    ci = (mean_ - u_low, mean_ - u_high)
    oriented_mean = mean_ if hypothesis.higher_is_better else -mean_
    oriented_m3 = m3 if hypothesis.higher_is_better else -m3
    u = oriented_mean - hypothesis.threshold
    t_j = (u + oriented_m3 / (6.0 * sd * sd * n) + oriented_m3 * u * u / (3.0 * sd**4)) / se
    return (min(ci), max(ci)), float(t_sf(t_j, n - 1))


def cochran_limit(g1: float) -> float:
    """Smallest n at which the mean of data with skewness g1 is close enough to normal."""
    return COCHRAN_PER_SKEW2 * g1 * g1


def _skew_guard(n: int, g1: float, higher_is_better: bool) -> tuple[tuple[str, ...], bool]:
    """(notes, unsafe) for differences too skewed for the t interval at this n.

    Cochran's rule asks n > 25·g1². Below it the t
    interval is off on the side of the long tail. When that tail holds the candidate's losses
    (oriented skewness < 0), the t test passes too often: in the validation grid, d = -lognormal
    (skewness -6) passes 11.8% of the time at n = 30 instead of 2.5%. A bootstrap-t of the mean
    only brings that to 6.9% (and hurts t3 data, whose sample skewness trips the rule by
    chance), because a small sample rarely holds the rare large losses that drive the mean;
    no interval built from the sample can see them. So the comparison is ``unsafe``: never a
    pass. A long tail on the winning side makes the t interval conservative for a pass, so
    that case only gets the note.
    """
    needed = cochran_limit(g1)
    if n >= needed:
        return (), False
    oriented = g1 if higher_is_better else -g1
    if oriented < 0:
        return (
            f"the paired differences are strongly skewed towards the candidate's losses "
            f"(skewness {g1:.2g}, n = {n}): below about {math.ceil(needed)} examples "
            "(Cochran's rule n > 25·g1²) rare large losses are missing from the sample "
            "and the t interval passes too often, so no verdict is given",
        ), True
    return (
        f"the paired differences are strongly skewed (skewness {g1:.2g}, n = {n}): the t "
        f"interval is conservative on the losing side below about {math.ceil(needed)} examples "
        "(Cochran's rule n > 25·g1²)",
    ), False


def _seed_list(seeds: Sequence[int] | None, k: int, side: str) -> list[int] | None:
    if seeds is None:
        return None
    out = [int(s) for s in seeds]
    if len(out) != k:
        raise ValueError(f"{side}: {k} replicate values but {len(out)} seeds")
    if len(set(out)) != len(out):
        dup = sorted(s for s in set(out) if out.count(s) > 1)[0]
        raise ValueError(f"{side}: seed {dup} appears more than once")
    return out


def compare_replicates(
    candidate: np.ndarray,
    baseline: np.ndarray,
    hypothesis: Hypothesis,
    candidate_seeds: Sequence[int] | None,
    baseline_seeds: Sequence[int] | None,
    pooled_sd: float | None = None,
) -> Comparison:
    """One metric value per seed on each side.

    - Both seed lists given and equal as sets: paired t on the per-seed differences (paired by
      seed value, not position), K - 1 df.
    - Otherwise Welch t with Welch-Satterthwaite df. Never z, never a bootstrap: at K = 3 both
      pass far more often than alpha.
    - ``pooled_sd`` (a historical seed SD from the registry) is used only when the runs carry no
      variance information of their own (both SDs 0, or a side with a single seed): SE =
      pooled_sd * sqrt(1/K_c + 1/K_b) with t on K_c + K_b - 2 df (at least 1). The df are those
      of a pooled two-sample t with the current seeds, since the history's own size is not known
      here; t rather than z keeps a small history from giving a falsely narrow interval.
    - No variance information and no pooled SD: degenerate ("no variance information").
    """
    c = as_float_array(candidate, "candidate replicates")
    b = as_float_array(baseline, "baseline replicates")
    kc, kb = int(c.size), int(b.size)
    if kc == 0 or kb == 0:
        raise ValueError("replicates need at least one value on each side")
    seeds_c = _seed_list(candidate_seeds, kc, "candidate")
    seeds_b = _seed_list(baseline_seeds, kb, "baseline")
    _check_pooled_sd(pooled_sd)
    mc_m, mb_m = moments(c), moments(b)
    mc, mb = mc_m.mean, mb_m.mean
    delta = mc - mb
    notes: list[str] = []

    paired = seeds_c is not None and seeds_b is not None and set(seeds_c) == set(seeds_b)
    if seeds_c is not None and seeds_b is not None and not paired:
        notes.append("seed sets differ between candidate and baseline: unpaired Welch t")

    if paired:
        assert seeds_c is not None and seeds_b is not None
        method = "paired-t"
        reason = "Seeds matched across models: paired t on per-seed differences, K-1 df."
        se, df = _paired_seed_se(c, b, seeds_c, seeds_b)
    else:
        method = "welch-t"
        reason = "Seeds not matched across models: Welch t with Welch-Satterthwaite df."
        se, df = _welch_se(c, b, mc_m, mb_m)

    if se > 0.0:
        ci, p, mde = t_summary(delta, se, df, hypothesis)
        return Comparison(
            method=method, reason=reason, candidate=mc, baseline=mb, delta=delta, ci=ci,
            confidence=hypothesis.confidence, n=(kc, kb), p_value=p, mde=mde, se=se,
            notes=tuple(notes),
        )

    if pooled_sd is not None and pooled_sd > 0.0:
        return _pooled_sd_t(mc, mb, pooled_sd, hypothesis, (kc, kb), notes)

    return _degenerate(
        method, reason, mc, mb, hypothesis, (kc, kb), "no variance information",
        tuple(notes),
    )


def _check_pooled_sd(pooled_sd: float | None) -> None:
    if pooled_sd is not None and (not math.isfinite(pooled_sd) or pooled_sd < 0):
        raise ValueError(f"pooled_sd must be a finite number >= 0, got {pooled_sd}")


def _paired_seed_se(
    c: np.ndarray, b: np.ndarray, seeds_c: list[int], seeds_b: list[int]
) -> tuple[float, float]:
    """(SE, df) of the mean per-seed difference, paired by seed value; (0, 0) without spread."""
    k = int(c.size)
    order_c = np.argsort(np.asarray(seeds_c))
    order_b = np.argsort(np.asarray(seeds_b))
    md = moments(c[order_c] - b[order_b])
    if k >= 2 and not _negligible(md.sd, _scale(c, b)):
        return md.sd / math.sqrt(k), float(k - 1)
    return 0.0, 0.0


def _welch_se(c: np.ndarray, b: np.ndarray, mc_m: Moments, mb_m: Moments) -> tuple[float, float]:
    """(SE, Welch-Satterthwaite df) of the difference of means; (0, 0) without spread."""
    kc, kb = int(c.size), int(b.size)
    if kc < 2 or kb < 2:
        return 0.0, 0.0
    a = mc_m.variance / kc
    v = mb_m.variance / kb
    if _negligible(math.sqrt(a * kc + v * kb), _scale(c, b)):
        return 0.0, 0.0
    return math.sqrt(a + v), (a + v) ** 2 / (a * a / (kc - 1) + v * v / (kb - 1))


def _pooled_sd_t(
    mc: float, mb: float, pooled_sd: float, hypothesis: Hypothesis, n: tuple[int, int],
    notes: list[str],
) -> Comparison:
    """The t interval from the registry's pooled seed SD, for runs without variance of their
    own."""
    kc, kb = n
    delta = mc - mb
    se = pooled_sd * math.sqrt(1.0 / kc + 1.0 / kb)
    df = float(max(kc + kb - 2, 1))
    ci, p, mde = t_summary(delta, se, df, hypothesis)
    notes.append(
        f"the runs carry no variance information; the registry's pooled seed SD "
        f"{pooled_sd:.6g} is used with {int(df)} df"
    )
    return Comparison(
        method="pooled-sd-t",
        reason="No seed variance in these runs: t interval from the registry's pooled seed SD.",
        candidate=mc, baseline=mb, delta=delta, ci=ci, confidence=hypothesis.confidence,
        n=(kc, kb), p_value=p, mde=mde, se=se, notes=tuple(notes),
    )
