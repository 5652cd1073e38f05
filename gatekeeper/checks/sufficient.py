"""vs_baseline from sufficient statistics instead of rows: the numbers `gatekeeper sql` computes
where the data lives (docs/performance.md, "Past one machine").

Three shapes, each served by the code path the rows would take:

- ``paired_counts`` (0/1 scores): the four paired cell counts, Tango's interval
  (``stats.binary.compare_paired_counts``);
- ``paired_moments`` (other scores): the count, means, M2 and M3 of the paired differences,
  the paired t with its skewness guards (``stats.continuous.compare_paired_moments``);
- ``paired_cluster_sums`` (examples in clusters): the means and each cluster's size and sum of
  differences, the cluster-robust t (``stats.continuous.compare_cluster_sums``).

The gate never sees the rows behind them, so it takes them only where rows would get the same
comparison, and only against the baseline run they were computed with. Each refusal below closes
a way to get a pass from statistics that the same rows would not get.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gatekeeper.checks.evidence import Evidence
from gatekeeper.checks.missing import MAX_UNMATCHED, all_zero_or_one
from gatekeeper.inputs.cluster_sums import ClusterRows
from gatekeeper.inputs.scores import LoadedMetric
from gatekeeper.models.policy import MetricRule
from gatekeeper.models.run import MetricSpec, PairedClusterSums, PairedCounts, PairedMoments
from gatekeeper.models.verdict import STATISTICS_NOTE
from gatekeeper.stats.types import Comparison, Hypothesis

KINDS = ("paired_counts", "paired_moments", "paired_cluster_sums")
_METHOD = {"paired_counts": "tango", "paired_moments": "paired-t",
           "paired_cluster_sums": "cluster-t"}
_GIVES = {"paired_counts": "the Tango interval of a mean of 0/1 scores",
          "paired_moments": "the paired t interval of a mean of scores",
          "paired_cluster_sums": "the cluster-robust t interval of a mean of scores"}
Statistics = PairedCounts | PairedMoments | PairedClusterSums
Means = PairedMoments | PairedClusterSums  # the shapes that state means, not counts
# How far the baseline bundle's own mean may sit from the one the engine reports: summation
# order differs between engines, the value does not.
_MEAN_AGREEMENT = 1e-9
# A refusal names what disagrees, never the baseline's own numbers: under the Ladder (or a
# sealed holdout) exact baseline scores are not released, and a refusal must not be the way
# round that. Whoever needs them reads the baseline bundle in the registry.
WITHHELD = "the baseline's own numbers are not shown"


def compare_sufficient(ctx: Evidence, rule: MetricRule, hyp: Hypothesis, cand: LoadedMetric,
                       base: LoadedMetric) -> Comparison:
    """The comparison from the statistics the candidate's bundle carries for ``rule.metric``;
    ValueError (an input error naming the rule) when they cannot stand in for rows."""
    spec = ctx.bundle.run.metrics[rule.metric]
    stats: Statistics | None = spec.paired_counts or spec.paired_moments or \
        spec.paired_cluster_sums
    assert stats is not None and ctx.baseline is not None
    kind = spec.kind
    if stats.baseline_run_id != ctx.baseline.run.run_id:
        raise ValueError(f"the {kind} were computed against run {stats.baseline_run_id!r}, "
                         f"but the baseline is run {ctx.baseline.run.run_id!r}")
    rows = cand.cluster_sums  # the clusters file of paired_cluster_sums, read with the bundle
    assert (rows is not None) == isinstance(stats, PairedClusterSums)
    refused = _refusal(rule, spec, stats, base, ctx.baseline.run.metrics[rule.metric]) or (
        _clusters_disagree(rows, base, stats) if rows is not None else None)
    if refused is not None:
        raise ValueError(f"{kind}: {refused}")
    comp = _compare(stats, rows, hyp)
    notes = [f"{STATISTICS_NOTE} ({kind}), not rows: inputs "
             + ", ".join(f"{x.name} sha256:{x.sha256[:12]}" for x in stats.inputs)
             + (f"; query sha256:{stats.query_sha256[:12]}" if stats.query_sha256 else "")]
    only_c, only_b = _unpaired(stats)
    if only_c or only_b:
        notes.append(f"{only_c} example id(s) only in the candidate and {only_b} only in the "
                     "baseline, left out of the comparison")
    return dataclasses.replace(comp, notes=(*comp.notes, *notes))


def _refusal(rule: MetricRule, spec: MetricSpec, stats: Statistics,
             base: LoadedMetric, own: MetricSpec) -> str | None:
    """Why these statistics cannot stand in for rows (``own``: the baseline bundle's spec)."""
    # The baseline's clusters: from its rows, or declared by its own statistics.
    clustered = base.clusters is not None or own.cluster_column is not None
    return (_rule_refusal(rule, spec.kind, spec.cluster_column, clustered)
            or _shape_refusal(spec.kind, base, own)
            or _pairing_refusal(rule, stats) or _range_refusal(rule, stats)
            or _baseline_disagrees(stats, base)
            or _baseline_stats_disagree(
                stats, own.paired_counts or own.paired_moments or own.paired_cluster_sums, base))


def _compare(stats: Statistics, rows: ClusterRows | None, hyp: Hypothesis) -> Comparison:
    # lazy: the statistics stay off checks with no vs_baseline rule
    from gatekeeper.stats.binary import compare_paired_counts
    from gatekeeper.stats.continuous import (
        ClusterSummary,
        PairedSummary,
        compare_cluster_sums,
        compare_paired_moments,
    )

    if isinstance(stats, PairedCounts):
        return compare_paired_counts(stats.n11, stats.n10, stats.n01, stats.n00, hyp)
    # Δ is the difference of the two means the verdict shows, not mean_difference: the model
    # lets the two differ by 1e-9 of max_abs_score (engine rounding), and max_abs_score is a
    # claim the gate can bound only by a range, so a large one let Δ drift away from them.
    delta = stats.mean_candidate - stats.mean_baseline
    if isinstance(stats, PairedMoments):
        return compare_paired_moments(PairedSummary(
            n=stats.n_paired, mean_candidate=stats.mean_candidate,
            mean_baseline=stats.mean_baseline, mean_difference=delta,
            m2_difference=stats.m2_difference, skewness_difference=stats.skewness,
            scale=stats.max_abs_score), hyp)
    assert rows is not None
    # Each cluster's sum of deviations from Δ, as CR2 takes it.
    return compare_cluster_sums(ClusterSummary(
        n=stats.n_paired, mean_candidate=stats.mean_candidate,
        mean_baseline=stats.mean_baseline, mean_difference=delta,
        centred_sums=rows.sums - rows.sizes * delta, sizes=rows.sizes,
        scale=stats.max_abs_score), hyp)


def _paired(stats: Statistics) -> int:
    return stats.n if isinstance(stats, PairedCounts) else stats.n_paired


def _unpaired(stats: Statistics) -> tuple[int, int]:
    n = _paired(stats)
    return stats.n_candidate - n, stats.n_baseline - n


def _rule_refusal(rule: MetricRule, kind: str, cluster_column: str | None,
                  base_clustered: bool) -> str | None:
    """Whether the rule, and the baseline's rows, ask for a comparison these statistics
    cannot give."""
    vs = rule.vs_baseline
    assert vs is not None
    if vs.method not in (None, _METHOD[kind]) or vs.aggregate not in (None, "mean"):
        return (f"the rule asks for method {vs.method!r}, aggregate {vs.aggregate!r}: "
                f"{kind} give only {_GIVES[kind]}")
    # Clustered examples get the cluster-robust interval from rows, wider than the plain one:
    # statistics without the clusters would narrow it.
    if kind != "paired_cluster_sums" and (cluster_column is not None or base_clustered):
        return ("the examples are clustered (cluster_column in the "
                f"{'candidate' if cluster_column is not None else 'baseline'} bundle): the "
                "cluster-robust interval needs the rows with their clusters, or "
                "paired_cluster_sums")
    return None


def _shape_refusal(kind: str, base: LoadedMetric, own: MetricSpec) -> str | None:
    """Rows choose Tango's interval exactly when both sides are 0/1 scores, and block a
    candidate that is not 0/1 against a baseline that is: moments of 0/1 scores would get the
    paired t instead, narrower near 0 and 1 (a pass where Tango is inconclusive), and counts
    against a baseline that is not 0/1 would get Tango where rows get the t."""
    if base.kind not in ("per_example", *KINDS):
        # A value or replicates: no examples to pair with (rows are refused there too), and
        # nothing to hold the statistics' baseline side against.
        return (f"the baseline gives the metric as {base.kind}, not per-example scores: "
                "paired statistics have no examples of it to be paired with")
    if kind == "paired_cluster_sums":
        return None  # rows with clusters get the cluster-robust t, 0/1 scores or not
    binary_base = own.paired_counts is not None or (
        base.kind == "per_example" and all_zero_or_one(base.values))
    if kind == "paired_moments" and binary_base:
        return ("the baseline's scores are all 0 or 1: rows of 0/1 scores get Tango's "
                "interval, which moments cannot give; give the four counts (paired_counts, "
                "`gatekeeper sql` without --kind mean)")
    if kind == "paired_counts" and (own.paired_moments is not None or (
            base.kind == "per_example" and not binary_base)):
        return ("the baseline's scores are not all 0 or 1: counts of 0/1 scores cannot be "
                "compared with them (give paired_moments, `gatekeeper sql --kind mean`)")
    return None


def _range_refusal(rule: MetricRule, stats: Statistics) -> str | None:
    """The rule's range against the largest |score| and the means: rows outside it block."""
    if rule.range is None or isinstance(stats, PairedCounts):
        return None
    lo, hi = rule.range
    outside = [v for v in (stats.mean_candidate, stats.mean_baseline) if not lo <= v <= hi]
    if outside:
        return f"a mean of {outside[0]:g} lies outside the rule's range [{lo:g}, {hi:g}]"
    if stats.max_abs_score > max(abs(lo), abs(hi)):
        return (f"max_abs_score = {stats.max_abs_score:g}, but scores in the rule's range "
                f"[{lo:g}, {hi:g}] have none above {max(abs(lo), abs(hi)):g}")
    return None


def _pairing_refusal(rule: MetricRule, stats: Statistics) -> str | None:
    """The examples left unpaired, judged as the rows' pairing judges them."""
    vs = rule.vs_baseline
    assert vs is not None
    only_c, only_b = _unpaired(stats)
    if only_b and vs.missing == "fail":
        return (f"{only_b:,} baseline examples have no candidate score; missing: fail scores "
                "them as failures, which needs their baseline scores: pair every baseline "
                "example (a left join from the baseline) or choose missing: drop")
    if (only_c or only_b) and vs.require_full_overlap:
        return "the rule requires full overlap, and the statistics leave examples unpaired"
    if (only_c > MAX_UNMATCHED * stats.n_candidate
            or only_b > vs.max_missing_fraction * stats.n_baseline):
        return (f"{only_c:,} candidate and {only_b:,} baseline examples unpaired: the two "
                "runs were not scored on the same examples")
    return None


def _baseline_disagrees(stats: Statistics, base: LoadedMetric) -> str | None:
    return (_counts_disagree(stats, base) if isinstance(stats, PairedCounts)
            else _moments_disagree(stats, base))


def _counts_disagree(pc: PairedCounts, base: LoadedMetric) -> str | None:
    """The baseline's side of the table against the rows its bundle holds."""
    if base.kind != "per_example":
        return None
    if base.values.size != pc.n_baseline:
        return (f"n_baseline = {pc.n_baseline:,}, but the baseline bundle has "
                f"{base.values.size:,} examples ({base.file})")
    # The k baseline examples left unpaired hold between 0 and k of its correct: the pairs
    # hold the rest (all of them when every example is paired).
    correct, k = int(base.values.sum()), pc.n_baseline - pc.n
    low, high = max(correct - k, 0), min(correct, pc.n)
    if not low <= pc.n11 + pc.n01 <= high:
        unpaired = f", whichever {k:,} of its examples are unpaired" if k else ""
        return (f"the counts give the baseline {pc.n11 + pc.n01:,} correct among the pairs, "
                f"which the baseline bundle's own rows do not allow{unpaired} ({base.file}; "
                f"{WITHHELD})")
    return None


def _moments_disagree(pm: Means, base: LoadedMetric) -> str | None:
    """The baseline's mean and largest score against the rows its bundle holds."""
    if base.kind != "per_example":
        return None
    values = base.values
    if values.size != pm.n_baseline:
        return (f"n_baseline = {pm.n_baseline:,}, but the baseline bundle has "
                f"{values.size:,} examples ({base.file})")
    if pm.n_baseline == pm.n_paired:  # every baseline row is in the statistics
        top = max(float(values.max()), -float(values.min()))
        if top > pm.max_abs_score:
            return (f"max_abs_score = {pm.max_abs_score:g} is below the largest |score| the "
                    f"baseline bundle holds ({base.file}; {WITHHELD})")
        mean = float(values.mean())
        if abs(mean - pm.mean_baseline) > _MEAN_AGREEMENT * max(top, 1e-300):
            return (f"mean_baseline = {pm.mean_baseline!r} is not the mean of the baseline "
                    f"bundle's {values.size:,} scores ({base.file}; {WITHHELD})")
        return None
    # Some baseline rows unpaired: whichever they are, the paired ones hold at least the
    # (k+1)-th largest |score|, and average between the mean without the largest and the mean
    # without the smallest scores.
    k = pm.n_baseline - pm.n_paired
    kept = float(np.partition(np.abs(values), values.size - k - 1)[values.size - k - 1])
    if kept > pm.max_abs_score:
        return (f"max_abs_score = {pm.max_abs_score:g}, but whichever {k:,} baseline examples "
                f"are unpaired, the pairs hold a larger |score| ({base.file}; {WITHHELD})")
    low, high = _paired_mean_bounds(values, k)
    slack = _MEAN_AGREEMENT * max(float(values.max()), -float(values.min()), 1e-300)
    if not low - slack <= pm.mean_baseline <= high + slack:
        return (f"mean_baseline = {pm.mean_baseline!r}, but whichever "
                f"{pm.n_baseline - pm.n_paired:,} of the baseline bundle's {values.size:,} "
                f"scores are unpaired, the rest cannot average that ({base.file}; {WITHHELD})")
    return None


def _paired_mean_bounds(values: np.ndarray, k: int) -> tuple[float, float]:
    """The smallest and largest mean of ``values`` without ``k`` of them (0 < k < size): drop
    the k largest, or the k smallest. np.partition, not a sort: linear at 10^7 rows."""
    n = values.size
    total = float(values.sum())
    smallest = float(np.partition(values, k - 1)[:k].sum())
    largest = float(np.partition(values, n - k)[n - k:].sum())
    return (total - largest) / (n - k), (total - smallest) / (n - k)


def _own_side(stats: Statistics) -> tuple[int, float | None, tuple[float, float]]:
    """What a bundle's statistics state about its own (candidate) side: its rows, their mean
    when every row is paired (None otherwise), and the interval every score lies in."""
    if isinstance(stats, PairedCounts):
        full = stats.n_candidate == stats.n
        return (stats.n_candidate, (stats.n11 + stats.n10) / stats.n if full else None,
                (0.0, 1.0))
    full = stats.n_candidate == stats.n_paired
    top = stats.max_abs_score
    return stats.n_candidate, stats.mean_candidate if full else None, (-top, top)


def _claimed_baseline(stats: Statistics) -> float:
    """The baseline's mean over the pairs, as the candidate's statistics state it."""
    if isinstance(stats, PairedCounts):
        return (stats.n11 + stats.n01) / stats.n
    return stats.mean_baseline


def _baseline_stats_disagree(stats: Statistics, own: Statistics | None, base: LoadedMetric
                             ) -> str | None:
    """A baseline bundle that is itself statistics (no rows to check against) still states its
    own side: its number of rows and, fully paired, its mean. The candidate's statistics must
    agree with them, or a lowered mean_baseline would make any candidate look better; with k
    baseline examples unpaired, the mean of the others lies within what k scores in the
    baseline's range can move it."""
    if own is None:
        return None
    rows, mean, (lo, hi) = _own_side(own)
    if stats.n_baseline != rows:
        return (f"n_baseline = {stats.n_baseline:,}, but the baseline bundle's own statistics "
                f"count {rows:,} examples ({base.file})")
    if mean is None:
        return None
    k, paired = rows - _paired(stats), _paired(stats)
    # Scales from the baseline's own statistics (registry data), never the candidate's.
    slack = _MEAN_AGREEMENT * max(abs(lo), abs(hi), 1e-300)
    low, high = (mean * rows - k * hi) / paired, (mean * rows - k * lo) / paired
    claimed = _claimed_baseline(stats)
    if not low - slack <= claimed <= high + slack:
        field = "(n11 + n01) / n" if isinstance(stats, PairedCounts) else "mean_baseline"
        return (f"the statistics give the baseline a mean of {claimed!r} ({field}) over "
                f"{paired:,} pairs, which the baseline bundle's own statistics do not allow "
                f"({base.file}; {WITHHELD})")
    return None


def _clusters_disagree(rows: ClusterRows, base: LoadedMetric, stats: Statistics) -> str | None:
    """Clusters of the baseline's rows against the clusters file, when every baseline row is
    paired: the same labels, each of the same size (a finer grouping than the rows' would
    narrow the interval)."""
    if base.clusters is None or stats.n_baseline != _paired(stats):
        return None
    labels, counts = np.unique(base.clusters.astype(str), return_counts=True)
    order = np.argsort(rows.labels)
    if not (np.array_equal(labels, rows.labels[order])
            and np.array_equal(counts, rows.sizes[order].astype(np.int64))):
        return (f"the clusters in {rows.file} are not the baseline bundle's "
                f"{labels.size:,} clusters of its {base.values.size:,} examples ({base.file})")
    return None
