from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gatekeeper.stats import binary
from gatekeeper.stats.continuous import compare_paired_mean
from gatekeeper.stats.decision import decide
from gatekeeper.stats.fast import bootstrap_mean_difference
from gatekeeper.stats.reference import bootstrap_paired_binary
from gatekeeper.stats.select import MetricData, compare
from gatekeeper.stats.types import Hypothesis, Outcome

H = Hypothesis(confidence=0.95, margin=0.02)


def _per_example(values: np.ndarray, ids: np.ndarray, clusters: np.ndarray | None = None
                 ) -> MetricData:
    return MetricData("per_example", values, ids=ids, clusters=clusters)


def _binary_pair(n11: int, n10: int, n01: int, n00: int) -> tuple[MetricData, MetricData]:
    c = np.repeat([1, 1, 0, 0], [n11, n10, n01, n00]).astype(float)
    b = np.repeat([1, 0, 1, 0], [n11, n10, n01, n00]).astype(float)
    ids = np.arange(c.size)
    rev = ids[::-1]
    return _per_example(c, ids), _per_example(b[::-1], rev)


def test_binary_scores_go_to_tango() -> None:
    cand, base = _binary_pair(59, 6, 16, 80)
    res = compare(cand, base, H)
    ref = binary.compare_paired_binary(
        np.repeat([1, 1, 0, 0], [59, 6, 16, 80]), np.repeat([1, 0, 1, 0], [59, 6, 16, 80]), H
    )
    assert res.method == "tango"
    assert res.ci == pytest.approx(ref.ci, abs=1e-12)
    assert res.ci == pytest.approx((-0.1240, -0.0054), abs=1e-4)  # STATISTICS.md §5


def test_newcombe_override_gives_reference_interval() -> None:
    cand, base = _binary_pair(59, 6, 16, 80)
    res = compare(cand, base, H, method="newcombe")
    assert res.method == "newcombe"
    assert res.ci == pytest.approx((-0.1186, -0.0046), abs=1e-4)


def test_continuous_scores_go_to_paired_t() -> None:
    rng = np.random.default_rng(0)
    c, b = rng.uniform(size=80), rng.uniform(size=80)
    ids = np.array([f"ex{i}" for i in range(80)])
    perm = rng.permutation(80)
    res = compare(_per_example(c, ids), _per_example(b[perm], ids[perm]), H)
    assert res.method == "paired-t"
    order = np.argsort(ids)
    ref = stats.ttest_rel(c[order], b[order]).confidence_interval(0.95)
    assert res.ci == pytest.approx(tuple(ref), abs=1e-12)


def test_clusters_go_to_cluster_t_even_for_binary_scores() -> None:
    rng = np.random.default_rng(1)
    n = 300
    clusters = rng.integers(0, 30, n)
    c = (rng.uniform(size=n) < 0.8).astype(float)
    b = (rng.uniform(size=n) < 0.78).astype(float)
    ids = np.arange(n)
    res = compare(_per_example(c, ids, clusters), _per_example(b, ids), H)
    assert res.method == "cluster-t"
    assert res.n == (30, 30)
    assert any("0/1 scores in clusters" in note for note in res.notes)
    # Cluster labels on the baseline side only are used as well.
    res_b = compare(_per_example(c, ids), _per_example(b, ids, clusters), H)
    assert res_b.ci == res.ci
    with pytest.raises(ValueError, match="different clusters"):
        compare(_per_example(c, ids, clusters), _per_example(b, ids, (clusters + 1) % 30), H)


def test_replicates_choose_paired_or_welch() -> None:
    c = np.array([0.91, 0.93, 0.92])
    b = np.array([0.90, 0.92, 0.915])
    paired = compare(MetricData("replicates", c, seeds=(0, 1, 2)),
                     MetricData("replicates", b[::-1], seeds=(2, 1, 0)), H)
    assert paired.method == "paired-t"
    assert paired.ci == pytest.approx(tuple(stats.ttest_rel(c, b).confidence_interval()))
    welch = compare(MetricData("replicates", c), MetricData("replicates", b), H)
    assert welch.method == "welch-t"
    forced = compare(MetricData("replicates", c, seeds=(0, 1, 2)),
                     MetricData("replicates", b, seeds=(0, 1, 2)), H, method="welch-t")
    assert forced.method == "welch-t"
    pooled = compare(MetricData("replicates", np.full(3, 0.9)),
                     MetricData("replicates", np.full(3, 0.9)), H, pooled_sd=0.01)
    assert pooled.method == "pooled-sd-t"


def test_single_values_carry_no_uncertainty() -> None:
    res = compare(MetricData("value", np.array([0.88])), MetricData("value", np.array(0.85)), H)
    assert res.degenerate and res.notes == ("single values carry no uncertainty",)
    assert res.delta == pytest.approx(0.03)
    assert decide(res, H) is Outcome.NO_INFORMATION


def test_samples_are_left_to_the_quantile_module() -> None:
    s = MetricData("samples", np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"gatekeeper\.stats\.quantile"):
        compare(s, s, H)


@pytest.mark.parametrize(
    ("kind", "method", "match"),
    [
        ("continuous", "cluster-t", "needs cluster labels"),
        ("continuous", "tango", "needs 0/1 scores"),
        ("continuous", "welch-t", "for seed replicates"),
        ("continuous", "wald", "unknown method"),
        ("replicates", "tango", "does not apply to seed replicates"),
        ("replicates", "paired-t", "same set of seeds"),
        ("value", "welch-t", "single values"),
    ],
)
def test_overrides_that_do_not_fit_raise(kind: str, method: str, match: str) -> None:
    if kind == "continuous":
        data = _per_example(np.array([0.1, 0.5, 0.7]), np.arange(3))
    elif kind == "replicates":
        data = MetricData("replicates", np.array([0.1, 0.2, 0.3]))
    else:
        data = MetricData("value", np.array([0.5]))
    with pytest.raises(ValueError, match=match):
        compare(data, data, H, method=method)


def test_other_input_errors() -> None:
    data = _per_example(np.array([0.1, 0.5]), np.arange(2))
    with pytest.raises(ValueError, match="must report the metric the same way"):
        compare(data, MetricData("replicates", np.array([0.1, 0.5])), H)
    with pytest.raises(ValueError, match="need example ids"):
        compare(MetricData("per_example", np.array([0.1, 0.5])), data, H)
    with pytest.raises(ValueError, match="unknown metric kind"):
        MetricData("histogram", np.array([1.0]))
    clustered = _per_example(np.array([0.0, 1.0]), np.arange(2), np.array([0, 1]))
    with pytest.raises(ValueError, match="assumes independent examples"):
        compare(clustered, clustered, H, method="tango")
    with pytest.raises(ValueError, match="only the paired bootstrap"):
        compare(data, data, H, aggregate="f1", method="paired-t")


def test_unmatched_ids_are_reported_or_refused() -> None:
    rng = np.random.default_rng(2)
    c = _per_example(rng.uniform(size=10), np.arange(10))
    b = _per_example(rng.uniform(size=9), np.arange(3, 12))
    res = compare(c, b, H)
    assert res.n == (7, 7)
    assert "3 example id(s) only in the candidate" in res.notes[-2]
    assert "(e.g. 0, 1, 2)" in res.notes[-2]
    assert "2 example id(s) only in the baseline" in res.notes[-1]
    with pytest.raises(ValueError, match="example ids differ"):
        compare(c, b, H, require_full_overlap=True)
    disjoint = compare(c, _per_example(np.ones(2), np.array([50, 51])), H)
    assert disjoint.degenerate and decide(disjoint, H) is Outcome.NO_INFORMATION


def test_all_ties_are_no_information() -> None:
    ids = np.arange(40)
    tied = _per_example(np.full(40, 0.6), ids)
    assert decide(compare(tied, tied, H), H) is Outcome.NO_INFORMATION
    correct = _per_example(np.ones(40), ids)
    res = compare(correct, correct, H)  # 100% correct on both: binary path
    assert all(math.isfinite(x) for x in res.ci)
    # No discordant pairs among 40: the score interval is wider than the margin, so no pass.
    assert decide(res, H) is Outcome.INCONCLUSIVE


def test_f1_goes_to_the_paired_bootstrap() -> None:
    rng = np.random.default_rng(3)
    n = 500
    gold = (rng.uniform(size=n) < 0.4).astype(float)
    pc = np.where(rng.uniform(size=n) < 0.85, gold, 1 - gold)
    pb = np.where(rng.uniform(size=n) < 0.8, gold, 1 - gold)
    ids = np.arange(n)
    cand = MetricData("per_example", pc, ids=ids, labels=gold)
    base = MetricData("per_example", pb[::-1], ids=ids[::-1])
    res = compare(cand, base, H, aggregate="f1", seed=7, resamples=2000)
    assert res.method.startswith("paired-bootstrap")
    again = compare(cand, base, H, aggregate="f1", seed=7, resamples=2000)
    assert res.ci == again.ci


def test_bootstrap_override_for_a_mean_is_seeded_and_close_to_t() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    c, b = rng.normal(0.5, 0.2, n), rng.normal(0.49, 0.2, n)
    ids = np.arange(n)
    args = (_per_example(c, ids), _per_example(b, ids), H)
    boot = compare(*args, method="bootstrap", seed=11, resamples=4000)
    assert boot.method == "bootstrap"
    assert boot == compare(*args, method="bootstrap", seed=11, resamples=4000)
    assert boot.ci != compare(*args, method="bootstrap", seed=12, resamples=4000).ci
    t = compare_paired_mean(c, b, H)
    assert boot.ci == pytest.approx(t.ci, abs=0.1 * (t.ci[1] - t.ci[0]))


# -------------------------------------------------------------------- fast bootstrap paths


def test_fast_paths_same_seed_same_bytes() -> None:
    rng = np.random.default_rng(5)
    d = rng.standard_t(3, size=20_000)
    clusters = rng.integers(0, 200, d.size)
    for kwargs in ({}, {"clusters": clusters}):
        one = bootstrap_mean_difference(d, resamples=500, seed=3, **kwargs)
        two = bootstrap_mean_difference(d, resamples=500, seed=3, **kwargs)
        assert one.tobytes() == two.tobytes()
        assert one.tobytes() != bootstrap_mean_difference(d, resamples=500, seed=4,
                                                          **kwargs).tobytes()
    c, b = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)
    assert (bootstrap_paired_binary(c, b, resamples=300, seed=1).tobytes()
            == bootstrap_paired_binary(c, b, resamples=300, seed=1).tobytes())


def test_binned_bootstrap_reproduces_the_standard_error() -> None:
    rng = np.random.default_rng(6)
    d = np.exp(rng.standard_normal(100_000))
    dist = bootstrap_mean_difference(d, resamples=4000, seed=0)
    se = d.std(ddof=0) / math.sqrt(d.size)
    assert dist.mean() == pytest.approx(d.mean(), abs=4 * se / math.sqrt(4000) + 1e-12)
    assert dist.std() == pytest.approx(se, rel=0.05)
    flat = bootstrap_mean_difference(np.full(10, 2.5), resamples=5, seed=0)
    assert np.all(flat == 2.5)


def test_cluster_bootstrap_matches_cluster_robust_se() -> None:
    rng = np.random.default_rng(7)
    g = 400
    labels = np.repeat(np.arange(g), 10)
    d = rng.normal(size=g)[labels] + rng.normal(size=labels.size)
    dist = bootstrap_mean_difference(d, resamples=4000, seed=0, clusters=labels)
    res = compare_paired_mean(d, np.zeros_like(d), H, clusters=labels)
    assert res.se is not None
    assert dist.std() == pytest.approx(res.se, rel=0.06)
    # The plain (unclustered) bootstrap is far too narrow here: the clusters matter.
    naive = bootstrap_mean_difference(d, resamples=4000, seed=0)
    assert naive.std() < 0.6 * res.se
