"""Choose the comparison method from the shape of the data (STATISTICS.md §2).

| data | method |
| --- | --- |
| one value per side | none: degenerate, "single values carry no uncertainty" |
| replicates, seeds matched | paired t on per-seed differences (K-1 df) |
| replicates, otherwise | Welch t |
| per-example 0/1 scores, paired by id | Tango score interval (binary module) |
| per-example continuous scores, paired by id | paired t (n-1 df) |
| per-example scores with clusters | cluster-robust t (CR2, Bell–McCaffrey df), binary or not |
| per-example, non-decomposable aggregate (F1, ...) | paired bootstrap (bootstrap module) |
| samples (latency, cost) | not here: the caller uses the quantile module |

``method=`` overrides the choice; an override that does not fit the data raises ValueError.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gatekeeper.stats import binary
from gatekeeper.stats.continuous import compare_paired_mean, compare_replicates
from gatekeeper.stats.dist import norm_ppf
from gatekeeper.stats.fast import bootstrap_mean_difference, percentile_interval
from gatekeeper.stats.moments import as_float_array
from gatekeeper.stats.pairing import match_ids
from gatekeeper.stats.types import Comparison, Hypothesis

KINDS = ("value", "replicates", "per_example", "samples")
METHODS = ("welch-t", "paired-t", "cluster-t", "tango", "newcombe", "bootstrap")
# Aggregates that are a mean of per-example scores; anything else (f1, bleu, ...) is
# non-decomposable and goes to the paired bootstrap.
MEAN_AGGREGATES = (None, "mean")


@dataclass(frozen=True, eq=False)
class MetricData:
    """One side of a metric as the bundle gives it."""

    kind: str
    values: np.ndarray
    ids: np.ndarray | None = None
    seeds: tuple[int, ...] | None = None
    clusters: np.ndarray | None = None
    # Gold 0/1 labels per example, for non-decomposable aggregates such as F1 of predictions.
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown metric kind {self.kind!r}; expected one of {KINDS}")


def compare(
    candidate: MetricData,
    baseline: MetricData,
    hypothesis: Hypothesis,
    *,
    method: str | None = None,
    aggregate: str | None = None,
    seed: int = 0,
    require_full_overlap: bool = False,
    resamples: int = 10_000,
    pooled_sd: float | None = None,
) -> Comparison:
    """Compare candidate with baseline using the method the data calls for.

    ``pooled_sd`` (a registry's historical seed SD) only matters for replicates, see
    ``continuous.compare_replicates``.
    """
    if candidate.kind != baseline.kind:
        raise ValueError(
            f"candidate gives {candidate.kind!r} data but baseline gives {baseline.kind!r}: "
            "the two runs must report the metric the same way"
        )
    if method is not None and method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    kind = candidate.kind
    if kind == "samples":
        raise ValueError(
            "latency/cost samples are compared as log ratios of quantiles: use "
            "gatekeeper.stats.quantile, not select.compare"
        )
    if kind == "value":
        if method is not None:
            raise ValueError(
                f"method {method!r} needs replicates or per-example scores; single values "
                "carry no uncertainty"
            )
        return _single_values(candidate, baseline, hypothesis)
    if kind == "replicates":
        return _replicates(candidate, baseline, hypothesis, method, pooled_sd)
    return _per_example(
        candidate, baseline, hypothesis, method, aggregate, seed, require_full_overlap, resamples
    )


def _single_values(c: MetricData, b: MetricData, hypothesis: Hypothesis) -> Comparison:
    vc = as_float_array(np.atleast_1d(c.values), "candidate value")
    vb = as_float_array(np.atleast_1d(b.values), "baseline value")
    if vc.size != 1 or vb.size != 1:
        raise ValueError("a 'value' metric holds exactly one number per run")
    return Comparison.degenerate_result(
        "none", "Each run reports a single value, so no interval can be formed.",
        candidate=float(vc[0]), baseline=float(vb[0]), n=(1, 1),
        confidence=hypothesis.confidence, notes=("single values carry no uncertainty",),
    )


def _replicates(
    c: MetricData,
    b: MetricData,
    hypothesis: Hypothesis,
    method: str | None,
    pooled_sd: float | None,
) -> Comparison:
    if method not in (None, "welch-t", "paired-t"):
        raise ValueError(
            f"method {method!r} does not apply to seed replicates; use 'paired-t' (matched "
            "seeds) or 'welch-t'"
        )
    seeds_c, seeds_b = c.seeds, b.seeds
    if method == "paired-t" and (
        seeds_c is None or seeds_b is None or set(seeds_c) != set(seeds_b)
    ):
        raise ValueError(
            "method 'paired-t' on replicates needs the same set of seeds on both runs; "
            f"got candidate seeds {seeds_c} and baseline seeds {seeds_b}"
        )
    if method == "welch-t":
        seeds_c = seeds_b = None
    return compare_replicates(c.values, b.values, hypothesis, seeds_c, seeds_b, pooled_sd)


def _is_binary(*arrays: np.ndarray) -> bool:
    return all(bool(np.all((a == 0) | (a == 1))) for a in arrays)


def _per_example(
    c: MetricData,
    b: MetricData,
    hypothesis: Hypothesis,
    method: str | None,
    aggregate: str | None,
    seed: int,
    require_full_overlap: bool,
    resamples: int,
) -> Comparison:
    if c.ids is None or b.ids is None:
        raise ValueError("per-example scores need example ids on both runs to be paired")
    if method == "welch-t":
        raise ValueError(
            "method 'welch-t' is for seed replicates; per-example scores are paired by id "
            "(use 'paired-t', or 'cluster-t' with clusters)"
        )
    non_decomposable = aggregate not in MEAN_AGGREGATES
    if non_decomposable:
        # Rows may be 2-D (e.g. per-example tp, fp, fn counts for micro F1).
        vc, vb = np.asarray(c.values, dtype=np.float64), np.asarray(b.values, dtype=np.float64)
    else:
        vc = as_float_array(c.values, "candidate scores")
        vb = as_float_array(b.values, "baseline scores")
    if vc.shape[:1] != np.shape(c.ids) or vb.shape[:1] != np.shape(b.ids):
        raise ValueError("per-example scores and ids differ in length")
    match = match_ids(c.ids, b.ids)
    pair_notes = match.notes()
    if require_full_overlap and pair_notes:
        raise ValueError(
            "example ids differ between candidate and baseline: " + "; ".join(pair_notes)
        )
    sc, sb = _gather(vc, vb, match.idx_candidate, match.idx_baseline,
                     two_by_two=_two_by_two(c, b, method, non_decomposable))
    clusters = _paired_clusters(c, b, match.idx_candidate, match.idx_baseline)
    unmatched = (match.n_only_candidate, match.n_only_baseline)
    examples = (match.examples_only_candidate, match.examples_only_baseline)
    if sc.size == 0:
        return Comparison.degenerate_result(
            "none", "The two runs share no example ids.",
            candidate=float(vc.mean()) if vc.size else 0.0,
            baseline=float(vb.mean()) if vb.size else 0.0,
            delta=0.0, n=(0, 0), confidence=hypothesis.confidence,
            notes=(*pair_notes, "no example ids in common: nothing to compare"),
            unmatched=unmatched, unmatched_examples=examples,
        )

    if non_decomposable:
        assert aggregate is not None
        if method not in (None, "bootstrap"):
            raise ValueError(
                f"aggregate {aggregate!r} is not a mean of per-example scores; only the paired "
                f"bootstrap applies, not {method!r}"
            )
        labels = _paired_labels(c, b, match.idx_candidate, match.idx_baseline)
        result = _bootstrap_module()(
            sc, sb, hypothesis, statistic=aggregate, clusters=clusters,
            resamples=resamples, seed=seed, labels=labels,
        )
    else:
        result = _dispatch(sc, sb, clusters, hypothesis, method, seed, resamples)
    return dataclasses.replace(result, notes=(*result.notes, *pair_notes), unmatched=unmatched,
                               unmatched_examples=examples)


# Rows gathered at a time when 0/1 scores are gathered as booleans (8 MB of float64 each).
_GATHER_ROWS = 1 << 20


def _two_by_two(c: MetricData, b: MetricData, method: str | None, non_decomposable: bool
                ) -> bool:
    """Whether 0/1 paired scores would go to the 2x2 table: a mean, no clusters on either side,
    no method other than the table's."""
    return (not non_decomposable and method in (None, "tango", "newcombe")
            and c.clusters is None and b.clusters is None)


def _gather(vc: np.ndarray, vb: np.ndarray, idx_c: np.ndarray, idx_b: np.ndarray, *,
            two_by_two: bool) -> tuple[np.ndarray, np.ndarray]:
    """The paired scores. When the comparison would be the 2x2 table of 0/1 scores (no
    clusters, a mean, no other method) and every paired score is 0 or 1, as booleans: the
    table's four counts are all that is read from them, and a float64 copy of each side would
    be 160 MB at 10^7 examples. Otherwise (or at the first paired score that is not 0 or 1)
    as float64, as before."""
    if two_by_two:
        bc = _gather_binary(vc, idx_c)
        bb = _gather_binary(vb, idx_b) if bc is not None else None
        if bc is not None and bb is not None:
            return bc, bb
    return vc[idx_c], vb[idx_b]


def _gather_binary(values: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
    """``values[idx] == 1`` when every gathered value is 0 or 1, else None; by chunks, so no
    float64 copy of the gathered rows exists at once."""
    out = np.empty(idx.size, dtype=np.bool_)
    for start in range(0, idx.size, _GATHER_ROWS):
        part = values[idx[start:start + _GATHER_ROWS]]
        ones = part == 1
        if int(np.count_nonzero(ones)) + int(np.count_nonzero(part == 0)) != part.size:
            return None
        out[start:start + _GATHER_ROWS] = ones
    return out


def _paired_labels(
    c: MetricData, b: MetricData, idx_c: np.ndarray, idx_b: np.ndarray
) -> np.ndarray | None:
    """Gold labels of the matched examples, from either side; both sides must agree."""
    out: np.ndarray | None = None
    for data, idx, side in ((c, idx_c, "candidate"), (b, idx_b, "baseline")):
        if data.labels is None:
            continue
        lab = np.asarray(data.labels)
        rows = np.shape(data.values)[:1]
        if lab.shape[:1] != rows:
            raise ValueError(f"{side}: {rows[0]} scores but {lab.shape[0]} labels")
        lab = lab[idx]
        if out is not None and not np.array_equal(out, lab):
            raise ValueError("candidate and baseline give different gold labels for an example")
        out = lab
    return out


def _paired_clusters(
    c: MetricData, b: MetricData, idx_c: np.ndarray, idx_b: np.ndarray
) -> np.ndarray | None:
    """Cluster labels of the matched examples, from either side; both sides must agree."""
    lab_c = None if c.clusters is None else np.asarray(c.clusters)
    lab_b = None if b.clusters is None else np.asarray(b.clusters)
    for lab, values, side in ((lab_c, c.values, "candidate"), (lab_b, b.values, "baseline")):
        rows = np.shape(values)[:1]
        if lab is not None and lab.shape != rows:
            raise ValueError(f"{side}: {rows[0]} scores but {lab.size} cluster labels")
    if lab_c is not None and lab_b is not None:
        pc, pb = lab_c[idx_c], lab_b[idx_b]
        if pc.dtype.kind != pb.dtype.kind:
            pc, pb = pc.astype(str), pb.astype(str)
        if not np.array_equal(pc, pb):
            raise ValueError("candidate and baseline assign some example to different clusters")
        return pc
    if lab_c is not None:
        return lab_c[idx_c]
    if lab_b is not None:
        return lab_b[idx_b]
    return None


def _dispatch(
    sc: np.ndarray,
    sb: np.ndarray,
    clusters: np.ndarray | None,
    hypothesis: Hypothesis,
    method: str | None,
    seed: int,
    resamples: int,
) -> Comparison:
    if method == "bootstrap":
        return _bootstrap_mean(sc, sb, clusters, hypothesis, seed, resamples)
    if method == "cluster-t" and clusters is None:
        raise ValueError("method 'cluster-t' needs cluster labels for the examples")
    if method in ("tango", "newcombe"):
        if clusters is not None:
            raise ValueError(
                f"method {method!r} assumes independent examples; these examples are clustered "
                "(use 'cluster-t')"
            )
        if not _is_binary(sc, sb):
            raise ValueError(f"method {method!r} needs 0/1 scores on both runs")
        return _binary(sc, sb, hypothesis, method)
    if method == "paired-t" and clusters is not None:
        # An explicit request to ignore the clustering: allowed, but said in the report.
        res = compare_paired_mean(sc, sb, hypothesis)
        note = "clusters ignored on request: the interval assumes independent examples"
        return dataclasses.replace(res, notes=(*res.notes, note))
    if clusters is not None:
        res = compare_paired_mean(sc, sb, hypothesis, clusters=clusters)
        if _is_binary(sc, sb):
            note = "0/1 scores in clusters: the cluster-robust t replaces the 2x2-table interval"
            res = dataclasses.replace(res, notes=(*res.notes, note))
        return res
    if method is None and _is_binary(sc, sb):
        return _binary(sc, sb, hypothesis, "tango")
    return compare_paired_mean(sc, sb, hypothesis)


def _binary(sc: np.ndarray, sb: np.ndarray, hypothesis: Hypothesis, method: str) -> Comparison:
    res = binary.compare_paired_binary(sc, sb, hypothesis)
    if method == "newcombe" and res.method != "newcombe":
        n11, n10, n01, n00 = binary.paired_table(sc, sb)
        ci = binary.newcombe_interval(n11, n10, n01, n00, hypothesis.confidence)
        res = dataclasses.replace(
            res,
            method="newcombe",
            reason="Binary scores paired by id: Newcombe square-and-add interval (requested).",
            ci=ci,
            notes=(*res.notes, "p-value is Tango's score test; the interval is Newcombe's"),
        )
    return res


def _bootstrap_module() -> Callable[..., Comparison]:
    # Imported lazily: only non-decomposable aggregates need it.
    module = importlib.import_module("gatekeeper.stats.bootstrap")
    fn: Callable[..., Comparison] = module.compare_paired_bootstrap
    return fn


def _bootstrap_mean(
    sc: np.ndarray,
    sb: np.ndarray,
    clusters: np.ndarray | None,
    hypothesis: Hypothesis,
    seed: int,
    resamples: int,
) -> Comparison:
    """Percentile bootstrap of the mean difference (explicit override only)."""
    d = sc - sb
    dist = bootstrap_mean_difference(d, resamples=resamples, seed=seed, clusters=clusters)
    n = int(d.size)
    delta = float(d.mean())
    se = float(dist.std(ddof=1)) if resamples > 1 else 0.0
    unit = "clusters" if clusters is not None else "examples"
    reason = f"Percentile bootstrap of the mean difference over {unit} (requested)."
    if se == 0.0:
        return Comparison.degenerate_result(
            "bootstrap", reason, candidate=float(sc.mean()), baseline=float(sb.mean()),
            delta=delta, n=(n, n), confidence=hypothesis.confidence, se=0.0,
            notes=("bootstrap distribution has no spread: no variance information",),
        )
    ci = percentile_interval(dist, hypothesis.confidence)
    oriented = dist if hypothesis.higher_is_better else -dist
    p_value = float((1 + np.count_nonzero(oriented <= hypothesis.threshold)) / (resamples + 1))
    z = float(norm_ppf(1.0 - hypothesis.alpha_one_sided) + norm_ppf(0.8))
    return Comparison(
        method="bootstrap", reason=reason, candidate=float(sc.mean()), baseline=float(sb.mean()),
        delta=delta, ci=ci, confidence=hypothesis.confidence, n=(n, n), p_value=p_value,
        mde=z * se, se=se, notes=(f"{resamples} resamples, seed {seed}",),
    )
