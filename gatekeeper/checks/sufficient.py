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
from gatekeeper.checks.missing import MAX_UNMATCHED
from gatekeeper.inputs.cluster_sums import ClusterRows, read_cluster_sums
from gatekeeper.inputs.scores import LoadedMetric
from gatekeeper.models.policy import MetricRule
from gatekeeper.models.run import PairedClusterSums, PairedCounts, PairedMoments
from gatekeeper.stats.types import Comparison, Hypothesis

KINDS = ("paired_counts", "paired_moments", "paired_cluster_sums")
_METHOD = {"paired_counts": "tango", "paired_moments": "paired-t",
           "paired_cluster_sums": "cluster-t"}
_GIVES = {"paired_counts": "the Tango interval of a mean of 0/1 scores",
          "paired_moments": "the paired t interval of a mean of scores",
          "paired_cluster_sums": "the cluster-robust t interval of a mean of scores"}
Statistics = PairedCounts | PairedMoments | PairedClusterSums
# How far the baseline bundle's own mean may sit from the one the engine reports: summation
# order differs between engines, the value does not.
_MEAN_AGREEMENT = 1e-9


def compare_sufficient(ctx: Evidence, rule: MetricRule, hyp: Hypothesis, base: LoadedMetric
                       ) -> Comparison:
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
    rows = read_cluster_sums(ctx.bundle, rule.metric) \
        if isinstance(stats, PairedClusterSums) else None
    refused = (_rule_refusal(rule, kind, spec.cluster_column, base)
               or _pairing_refusal(rule, stats) or _disagreement(stats, base, rows))
    if refused is not None:
        raise ValueError(f"{kind}: {refused}")
    comp = _compare(stats, rows, hyp)
    notes = [f"from sufficient statistics ({kind}), not rows: inputs "
             + ", ".join(f"{x.name} sha256:{x.sha256[:12]}" for x in stats.inputs)
             + (f"; query sha256:{stats.query_sha256[:12]}" if stats.query_sha256 else "")]
    only_c, only_b = _unpaired(stats)
    if only_c or only_b:
        notes.append(f"{only_c} example id(s) only in the candidate and {only_b} only in the "
                     "baseline, left out of the comparison")
    return dataclasses.replace(comp, notes=(*comp.notes, *notes))


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
    if isinstance(stats, PairedMoments):
        return compare_paired_moments(PairedSummary(
            n=stats.n_paired, mean_candidate=stats.mean_candidate,
            mean_baseline=stats.mean_baseline, mean_difference=stats.mean_difference,
            m2_difference=stats.m2_difference, skewness_difference=stats.skewness,
            scale=stats.max_abs_score), hyp)
    assert rows is not None
    # Each cluster's sum of deviations from the mean difference, as CR2 takes it.
    centred = rows.sums - rows.sizes * stats.mean_difference
    return compare_cluster_sums(ClusterSummary(
        n=stats.n_paired, mean_candidate=stats.mean_candidate,
        mean_baseline=stats.mean_baseline, mean_difference=stats.mean_difference,
        centred_sums=centred, sizes=rows.sizes, scale=stats.max_abs_score), hyp)


def _paired(stats: Statistics) -> int:
    return stats.n if isinstance(stats, PairedCounts) else stats.n_paired


def _unpaired(stats: Statistics) -> tuple[int, int]:
    n = _paired(stats)
    return stats.n_candidate - n, stats.n_baseline - n


def _rule_refusal(rule: MetricRule, kind: str, cluster_column: str | None,
                  base: LoadedMetric) -> str | None:
    """Whether the rule, and the baseline's rows, ask for a comparison these statistics
    cannot give."""
    vs = rule.vs_baseline
    assert vs is not None
    if vs.method not in (None, _METHOD[kind]) or vs.aggregate not in (None, "mean"):
        return (f"the rule asks for method {vs.method!r}, aggregate {vs.aggregate!r}: "
                f"{kind} give only {_GIVES[kind]}")
    # Clustered examples get the cluster-robust interval from rows, wider than the plain one:
    # statistics without the clusters would narrow it.
    if kind != "paired_cluster_sums" and (cluster_column is not None
                                          or base.clusters is not None):
        return ("the examples are clustered (cluster_column in the "
                f"{'candidate' if cluster_column is not None else 'baseline'} bundle): the "
                "cluster-robust interval needs the rows with their clusters, or "
                "paired_cluster_sums")
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


def _disagreement(stats: Statistics, base: LoadedMetric, rows: ClusterRows | None
                  ) -> str | None:
    """What the baseline bundle's own rows contradict."""
    if base.kind != "per_example":
        return None
    if base.values.size != stats.n_baseline:
        return (f"n_baseline = {stats.n_baseline:,}, but the baseline bundle has "
                f"{base.values.size:,} examples ({base.file})")
    if stats.n_baseline != _paired(stats):  # only when every baseline row is in the statistics
        return None
    if isinstance(stats, PairedCounts):
        if float(base.values.sum()) != float(stats.n11 + stats.n01):
            return (f"the counts give the baseline {stats.n11 + stats.n01:,} correct, its "
                    f"bundle {float(base.values.sum()):g} ({base.file})")
        return None
    return _mean_disagrees(stats, base) or (
        _clusters_disagree(rows, base) if rows is not None else None)


def _mean_disagrees(stats: PairedMoments | PairedClusterSums, base: LoadedMetric
                    ) -> str | None:
    values = base.values
    top = max(float(values.max()), -float(values.min()))
    if top > stats.max_abs_score:
        return (f"max_abs_score = {stats.max_abs_score:g}, but the baseline bundle holds a "
                f"score of magnitude {top:g} ({base.file})")
    mean = float(values.mean())
    if abs(mean - stats.mean_baseline) > _MEAN_AGREEMENT * max(top, 1e-300):
        return (f"mean_baseline = {stats.mean_baseline!r}, but the baseline bundle's "
                f"{values.size:,} scores average {mean!r} ({base.file})")
    return None


def _clusters_disagree(rows: ClusterRows, base: LoadedMetric) -> str | None:
    """Clusters of the baseline's rows against the clusters file: the same labels, each of
    the same size (a coarser or finer grouping than the rows' changes the interval)."""
    if base.clusters is None:
        return None
    labels, counts = np.unique(base.clusters.astype(str), return_counts=True)
    order = np.argsort(rows.labels)
    if not (np.array_equal(labels, rows.labels[order])
            and np.array_equal(counts, rows.sizes[order].astype(np.int64))):
        return (f"the clusters in {rows.file} are not the baseline bundle's "
                f"{labels.size:,} clusters of its {base.values.size:,} examples ({base.file})")
    return None
