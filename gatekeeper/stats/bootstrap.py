"""Paired bootstrap for metrics that are not a mean of per-example scores (F1, ...).

Berg-Kirkpatrick et al. (2012) and Koehn (2004): resample the evaluation examples (or whole
clusters of examples) with replacement, recompute the metric for both models on the same
resample, and read the interval of Δ = metric(candidate) - metric(baseline) off the
percentiles of the resampled Δ.

Every statistic here is a function of a few *sums* over examples, so a resample is summarised
by how many times it draws each distinct per-unit row of those sums. Units are compressed to
their distinct rows once (O(n)), and a resample is one multinomial draw over the distinct rows
(O(B * distinct)). For binary F1 the distinct rows are the 8 cells of (pred_c, pred_b, gold),
so 10^7 examples with B = 10^4 cost one ``np.bincount`` and one small multinomial.

Statistics
----------
``"f1"`` with ``labels``: ``candidate`` and ``baseline`` are per-example binary predictions
(0/1) and ``labels`` the gold 0/1; F1 = 2TP / (2TP + FP + FN) of the positive class.

``"f1"`` without ``labels``: ``candidate`` and ``baseline`` are (n, 3) arrays of per-example
contributions (tp, fp, fn), e.g. entity counts of one document in span-level NER; F1 is the
micro F1 of the summed counts, 2ΣTP / (2ΣTP + ΣFP + ΣFN). A binary prediction is the special
case tp = pred*gold, fp = pred*(1-gold), fn = (1-pred)*gold.

In both cases F1 is 0 when 2TP + FP + FN = 0 (no positives predicted or present), as in
scikit-learn's default ``zero_division``.

``"mean"``: ``candidate`` and ``baseline`` are per-example scores and Δ is the difference of
their means (with clusters, each cluster weighs by its size). It exists so the bootstrap can be
checked against the analytic paired t interval; the gate itself uses the t interval for means.

Clusters: pass one cluster id per example; whole clusters are drawn with replacement (G draws),
each contributing its summed rows.
"""

from __future__ import annotations

import numpy as np

from gatekeeper.stats.power import mde as power_mde
from gatekeeper.stats.types import Comparison, Hypothesis

# Counts are drawn in blocks of at most this many cells, which bounds memory at ~32 MB.
_BLOCK_CELLS = 1 << 22

STATISTICS = ("f1", "mean")


def multinomial_counts(
    rng: np.random.Generator, counts: np.ndarray, resamples: int
) -> np.ndarray:
    """(resamples, k) draws of how often each of k categories appears in a resample.

    ``counts[j]`` is how many of the N = sum(counts) units fall in category j; a resample
    draws N units with replacement, so its category counts are Multinomial(N, counts / N).
    Drawn in blocks so memory stays bounded; the blocks consume the generator in a fixed
    order, so the same seed gives the same bytes.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    k = int(counts.size)
    out = np.empty((resamples, k), dtype=np.int64)
    if total == 0 or k == 0:
        out[:] = 0
        return out
    block = max(1, _BLOCK_CELLS // max(k, total))
    if np.all(counts == 1):
        # One unit per category: uniform indices and a bincount beat k binomial draws.
        for start in range(0, resamples, block):
            stop = min(resamples, start + block)
            rows = stop - start
            picks = rng.integers(0, k, size=(rows, k), dtype=np.int64)
            picks += (np.arange(rows, dtype=np.int64) * k)[:, None]
            out[start:stop] = np.bincount(picks.ravel(), minlength=rows * k).reshape(rows, k)
        return out
    pvals = counts / total
    block = max(1, _BLOCK_CELLS // k)
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        out[start:stop] = rng.multinomial(total, pvals, size=stop - start)
    return out


def resampled_totals(
    rows: np.ndarray, rng: np.random.Generator, resamples: int
) -> np.ndarray:
    """(resamples, k) column sums of ``rows`` (units x k) over bootstrap resamples of units.

    Identical rows are merged first so the cost is O(B * distinct rows), not O(B * units).
    """
    unique_rows, weights = np.unique(rows, axis=0, return_counts=True)
    draws = multinomial_counts(rng, weights, resamples)
    return draws.astype(np.float64) @ unique_rows.astype(np.float64)


def percentile_summary(
    estimate: float, draws: np.ndarray, hypothesis: Hypothesis
) -> tuple[tuple[float, float], float, float, float | None]:
    """Percentile interval, one-sided p-value, SE and MDE from resampled Δ.

    The p-value is the share of oriented resampled Δ at or below the hypothesis threshold,
    with the +1 correction (never 0). SE is the SD of the resampled Δ; the MDE uses it with
    normal quantiles. ``estimate`` is unused for the percentile interval but kept so callers
    document what the draws are centred on.
    """
    del estimate
    alpha = 1.0 - hypothesis.confidence
    low, high = np.quantile(draws, [alpha / 2.0, 1.0 - alpha / 2.0])
    oriented = draws if hypothesis.higher_is_better else -draws
    beyond = int(np.count_nonzero(oriented <= hypothesis.threshold))
    p_value = (1.0 + beyond) / (draws.size + 1.0)
    se = float(np.std(draws, ddof=1)) if draws.size > 1 else 0.0
    mde = power_mde(se, hypothesis.alpha_one_sided) if se > 0.0 else None
    return (float(low), float(high)), float(p_value), se, mde


def _binary(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional 0/1 values, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0 and 1")
    return arr.astype(np.int64)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2.0 * tp + fp + fn
    safe = np.where(denom > 0, denom, 1.0)
    return np.where(denom > 0, 2.0 * tp / safe, 0.0)


def _cluster_index(clusters: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    ids = np.asarray(clusters)
    if ids.shape != (n,):
        raise ValueError(f"clusters must give one id per example: expected {n}, got {ids.shape}")
    _, index = np.unique(ids, return_inverse=True)
    index = index.reshape(-1)
    return index, int(index.max()) + 1 if n else 0


def _sum_by_cluster(rows: np.ndarray, index: np.ndarray, groups: int) -> np.ndarray:
    out = np.zeros((groups, rows.shape[1]), dtype=np.float64)
    for j in range(rows.shape[1]):
        out[:, j] = np.bincount(index, weights=rows[:, j], minlength=groups)
    return out


def _f1_units(
    candidate: np.ndarray,
    baseline: np.ndarray,
    labels: np.ndarray | None,
    clusters: np.ndarray | None,
) -> tuple[np.ndarray, int, int, str]:
    """Per-unit rows (tp_c, fp_c, fn_c, tp_b, fp_b, fn_b), unit count, example count, input."""
    if labels is not None:
        pc = _binary(candidate, "candidate predictions")
        pb = _binary(baseline, "baseline predictions")
        gold = _binary(labels, "labels")
        if not pc.shape == pb.shape == gold.shape:
            raise ValueError(
                "predictions and labels must have the same length: "
                f"candidate {pc.size}, baseline {pb.size}, labels {gold.size}"
            )
        n = int(pc.size)
        # 8 cells of (pred_c, pred_b, gold); one O(n) pass.
        code = pc * 4 + pb * 2 + gold
        cell_tp_fp_fn = np.array(
            [
                [c & g, c & (1 - g), (1 - c) & g, b & g, b & (1 - g), (1 - b) & g]
                for c in (0, 1)
                for b in (0, 1)
                for g in (0, 1)
            ],
            dtype=np.float64,
        )
        if clusters is None:
            cells = np.bincount(code, minlength=8)
            keep = cells > 0
            # The occupied cells are already the distinct rows; the last column is their count.
            return (
                np.concatenate([cell_tp_fp_fn[keep], cells[keep, None]], axis=1),
                n,
                n,
                "cells",
            )
        index, groups = _cluster_index(clusters, n)
        per_cluster = np.bincount(index * 8 + code, minlength=groups * 8).reshape(groups, 8)
        return per_cluster.astype(np.float64) @ cell_tp_fp_fn, groups, n, "rows"

    c = np.asarray(candidate, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 3 or c.shape != b.shape:
        raise ValueError(
            "without labels, f1 needs (n, 3) arrays of per-example (tp, fp, fn) counts for both "
            f"models; got candidate {c.shape}, baseline {b.shape}"
        )
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(b))) or np.any(c < 0) or np.any(b < 0):
        raise ValueError("per-example (tp, fp, fn) counts must be finite and non-negative")
    rows = np.concatenate([c, b], axis=1)
    n = int(c.shape[0])
    if clusters is None:
        return rows, n, n, "rows"
    index, groups = _cluster_index(clusters, n)
    return _sum_by_cluster(rows, index, groups), groups, n, "rows"


def _mean_units(
    candidate: np.ndarray, baseline: np.ndarray, clusters: np.ndarray | None
) -> tuple[np.ndarray, int, int]:
    """Per-unit rows (Σc, Σb, count) for the difference of means."""
    c = np.asarray(candidate, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if c.ndim != 1 or c.shape != b.shape:
        raise ValueError(
            f"paired scores must be 1-D and of the same length: {c.shape} vs {b.shape}"
        )
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(b))):
        raise ValueError("scores must be finite")
    n = int(c.size)
    rows = np.stack([c, b, np.ones(n)], axis=1)
    if clusters is None:
        return rows, n, n
    index, groups = _cluster_index(clusters, n)
    return _sum_by_cluster(rows, index, groups), groups, n


def compare_paired_bootstrap(
    candidate: np.ndarray,
    baseline: np.ndarray,
    hypothesis: Hypothesis,
    *,
    statistic: str,
    clusters: np.ndarray | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    labels: np.ndarray | None = None,
) -> Comparison:
    """Paired bootstrap of Δ = statistic(candidate) - statistic(baseline) over examples.

    See the module docstring for the accepted inputs of each statistic. The interval is the
    percentile interval of the resampled Δ at ``hypothesis.confidence``; ``p_value`` is the
    one-sided share of oriented resampled Δ at or below the threshold, (1 + #)/(B + 1); ``se``
    is the SD of the resampled Δ. Same seed, same bytes.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of {STATISTICS}")
    if resamples < 100:
        raise ValueError(f"need at least 100 resamples, got {resamples}")
    if np.asarray(candidate).shape[:1] == (0,):
        raise ValueError("no paired examples")
    rng = np.random.default_rng(seed)

    if statistic == "f1":
        rows, units, n, form = _f1_units(candidate, baseline, labels, clusters)
        if form == "cells":
            draws = multinomial_counts(rng, rows[:, 6].astype(np.int64), resamples)
            totals = draws.astype(np.float64) @ rows[:, :6]
            observed = rows[:, 6] @ rows[:, :6]
        else:
            totals = resampled_totals(rows, rng, resamples)
            observed = rows.sum(axis=0)
        f1_c, f1_b = (float(v) for v in _f1(observed[[0, 3]], observed[[1, 4]], observed[[2, 5]]))
        draws_delta = _f1(totals[:, 0], totals[:, 1], totals[:, 2]) - _f1(
            totals[:, 3], totals[:, 4], totals[:, 5]
        )
        method, what = "paired-bootstrap-f1", "F1 is a ratio of sums, not a per-example mean"
        cand, base = f1_c, f1_b
    else:
        rows, units, n = _mean_units(candidate, baseline, clusters)
        totals = resampled_totals(rows, rng, resamples)
        observed = rows.sum(axis=0)
        cand, base = float(observed[0] / observed[2]), float(observed[1] / observed[2])
        draws_delta = (totals[:, 0] - totals[:, 1]) / totals[:, 2]
        method, what = "paired-bootstrap-mean", "difference of means, resampled"

    unit_word = "clusters" if clusters is not None else "examples"
    reason = (
        f"{what}: paired bootstrap over {unit_word} ({resamples} resamples, percentile "
        "interval; Berg-Kirkpatrick et al. 2012)."
    )
    notes: tuple[str, ...] = ()
    if clusters is not None:
        notes = (f"n counts clusters: {units} clusters holding {n} paired examples",)
    delta = cand - base
    size = (units, units)
    if units < 2 or not np.all(np.isfinite(draws_delta)) or np.ptp(draws_delta) == 0.0:
        return Comparison.degenerate_result(
            method, reason, candidate=cand, baseline=base, delta=delta, n=size,
            confidence=hypothesis.confidence, se=0.0,
            notes=(*notes, f"every resample gives the same Δ over {n} examples: no variance "
                   "information"),
        )
    ci, p_value, se, mde = percentile_summary(delta, draws_delta, hypothesis)
    return Comparison(
        method=method,
        reason=reason,
        candidate=cand,
        baseline=base,
        delta=delta,
        ci=ci,
        confidence=hypothesis.confidence,
        n=size,
        p_value=p_value,
        mde=mde,
        se=se,
        notes=notes,
    )

