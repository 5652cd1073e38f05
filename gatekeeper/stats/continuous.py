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

import numpy as np
from scipy import stats

from gatekeeper.stats.moments import (
    as_float_array,
    cluster_robust_variance,
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
    crit = float(stats.t.ppf(1.0 - alpha, df))
    ci = (delta - crit * se, delta + crit * se)
    oriented = delta if hypothesis.higher_is_better else -delta
    t_stat = (oriented - hypothesis.threshold) / se
    p_value = float(stats.t.sf(t_stat, df))
    return ci, p_value, power_mde(se, alpha, df=df)


# Relative size below which a spread is rounding noise: 0.9 - 0.8 and 0.8 - 0.7 differ by 1e-16,
# and a "variance" made of that must not produce a razor-thin interval that passes.
_REL_TOL = 1e-12
# Below this many clusters the comparison says the cluster-robust interval may be narrow.
FEW_CLUSTERS = 20


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
    delta = candidate - baseline
    return Comparison(
        method=method,
        reason=reason,
        candidate=candidate,
        baseline=baseline,
        delta=delta,
        ci=(delta, delta),
        confidence=hypothesis.confidence,
        n=n,
        p_value=None,
        mde=None,
        se=0.0,
        notes=(*extra_notes, note),
        degenerate=True,
    )


def compare_paired_mean(
    candidate: np.ndarray,
    baseline: np.ndarray,
    hypothesis: Hypothesis,
    clusters: np.ndarray | None = None,
) -> Comparison:
    """Mean of paired differences d = c - b with a t interval.

    Without clusters: SE = sd(d)/sqrt(n), t with n - 1 df (Miller 2024, eq. 7). With clusters:
    the cluster-robust variance (1/n^2) sum_c (sum_{i in c} (d_ic - mean d))^2 * G/(G-1) and t
    with G - 1 df (Miller 2024, eq. 8); ``n`` is then (G, G) and a note gives the example count.
    The arrays must already be aligned (see ``pairing.pair_by_id``).
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
        method = "paired-t"
        reason = "Per-example scores paired by id: t interval on the mean difference, n-1 df."
        if n < 2:
            return _degenerate(
                method, reason, mc, mb, hypothesis, (n, n),
                f"only {n} paired example(s): no variance information",
            )
        if _negligible(md.sd, _scale(c, b)):
            return _degenerate(
                method, reason, mc, mb, hypothesis, (n, n),
                "all paired differences are equal: no variance information",
            )
        se = md.sd / math.sqrt(n)
        ci, p, mde = t_summary(delta, se, n - 1, hypothesis)
        return Comparison(
            method=method, reason=reason, candidate=mc, baseline=mb, delta=delta, ci=ci,
            confidence=hypothesis.confidence, n=(n, n), p_value=p, mde=mde, se=se,
            notes=_skew_note(d, md.mean, md.m2),
        )

    groups = cluster_sums(d, np.asarray(clusters))
    g = groups.n_clusters
    method = "cluster-t"
    reason = (
        "Per-example scores grouped in clusters: cluster-robust variance of the mean "
        "difference with t on G-1 df."
    )
    count_note = f"n counts clusters: {g} clusters holding {n} paired examples"
    if g < 2:
        return _degenerate(
            method, reason, mc, mb, hypothesis, (g, g),
            f"only {g} cluster(s): no variance information between clusters",
            (count_note,),
        )
    var = cluster_robust_variance(d, groups, delta)
    if _negligible(math.sqrt(var) * math.sqrt(n), _scale(c, b)):
        return _degenerate(
            method, reason, mc, mb, hypothesis, (g, g),
            "all cluster differences are equal: no variance information", (count_note,),
        )
    se = math.sqrt(var)
    ci, p, mde = t_summary(delta, se, g - 1, hypothesis)
    notes = [count_note]
    if g < FEW_CLUSTERS:
        # Validation (bench/sim_continuous.py): G = 10 clusters of 2-18 examples, ICC 0.3, give
        # 3.2% false passes at a nominal 2.5%; the G/(G-1) correction does not fully fix few,
        # unequal clusters.
        notes.append(
            f"only {g} clusters: with few clusters of unequal size the interval can be "
            "slightly too narrow"
        )
    return Comparison(
        method=method, reason=reason, candidate=mc, baseline=mb, delta=delta, ci=ci,
        confidence=hypothesis.confidence, n=(g, g), p_value=p, mde=mde, se=se,
        notes=tuple(notes),
    )


def _skew_note(d: np.ndarray, mean: float, m2: float) -> tuple[str, ...]:
    """Warn when the differences are too skewed for the t interval at this n.

    Cochran's rule asks n > 25 * skewness^2 before the mean is close enough to normal. The
    validation grid (bench/sim_continuous.py) shows why: with rare large regressions
    (skewness about -6) the t test passes 11% of the time at n = 30 instead of 2.5%.
    """
    n = d.size
    g1 = skewness(d, mean, m2)
    needed = 25.0 * g1 * g1
    if n >= needed:
        return ()
    return (
        f"the paired differences are strongly skewed (skewness {g1:.2g}): the t interval can "
        f"be too narrow below about {math.ceil(needed)} examples (Cochran's rule n > 25·g1²)",
    )


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
    if pooled_sd is not None and (not math.isfinite(pooled_sd) or pooled_sd < 0):
        raise ValueError(f"pooled_sd must be a finite number >= 0, got {pooled_sd}")
    mc_m, mb_m = moments(c), moments(b)
    mc, mb = mc_m.mean, mb_m.mean
    delta = mc - mb
    notes: list[str] = []

    paired = seeds_c is not None and seeds_b is not None and set(seeds_c) == set(seeds_b)
    if seeds_c is not None and seeds_b is not None and not paired:
        notes.append("seed sets differ between candidate and baseline: unpaired Welch t")

    se = 0.0
    df = 0.0
    if paired:
        assert seeds_c is not None and seeds_b is not None
        method = "paired-t"
        reason = "Seeds matched across models: paired t on per-seed differences, K-1 df."
        order_c = np.argsort(np.asarray(seeds_c))
        order_b = np.argsort(np.asarray(seeds_b))
        md = moments(c[order_c] - b[order_b])
        if kc >= 2 and not _negligible(md.sd, _scale(c, b)):
            se, df = md.sd / math.sqrt(kc), float(kc - 1)
    else:
        method = "welch-t"
        reason = "Seeds not matched across models: Welch t with Welch-Satterthwaite df."
        if kc >= 2 and kb >= 2:
            a = mc_m.variance / kc
            v = mb_m.variance / kb
            if not _negligible(math.sqrt(a * kc + v * kb), _scale(c, b)):
                se = math.sqrt(a + v)
                df = (a + v) ** 2 / (a * a / (kc - 1) + v * v / (kb - 1))

    if se > 0.0:
        ci, p, mde = t_summary(delta, se, df, hypothesis)
        return Comparison(
            method=method, reason=reason, candidate=mc, baseline=mb, delta=delta, ci=ci,
            confidence=hypothesis.confidence, n=(kc, kb), p_value=p, mde=mde, se=se,
            notes=tuple(notes),
        )

    if pooled_sd is not None and pooled_sd > 0.0:
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

    return _degenerate(
        method, reason, mc, mb, hypothesis, (kc, kb), "no variance information",
        tuple(notes),
    )
