from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from scipy import stats

from gatekeeper.stats.bootstrap import compare_paired_bootstrap, multinomial_counts
from gatekeeper.stats.decision import decide
from gatekeeper.stats.types import Hypothesis, Outcome

H = Hypothesis(confidence=0.95, margin=0.01)


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = int(np.sum((pred == 1) & (gold == 1)))
    fp = int(np.sum((pred == 1) & (gold == 0)))
    fn = int(np.sum((pred == 0) & (gold == 1)))
    return 2 * tp / (2 * tp + fp + fn)


def _predictions(n: int, seed: int, acc_c: float = 0.88, acc_b: float = 0.86) -> tuple[
    np.ndarray, np.ndarray, np.ndarray
]:
    rng = np.random.default_rng(seed)
    gold = (rng.random(n) < 0.3).astype(np.int64)
    shared = rng.random(n)
    pc = np.where(shared < acc_c, gold, 1 - gold)
    pb = np.where((shared < acc_b) ^ (rng.random(n) < 0.05), gold, 1 - gold)
    return pc, pb, gold


def test_f1_from_cells_equals_direct_f1() -> None:
    pc, pb, gold = _predictions(1000, 1)
    res = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, resamples=500)
    assert res.candidate == pytest.approx(_f1(pc, gold), abs=1e-15)
    assert res.baseline == pytest.approx(_f1(pb, gold), abs=1e-15)
    assert res.delta == pytest.approx(_f1(pc, gold) - _f1(pb, gold), abs=1e-15)
    assert res.method == "paired-bootstrap-f1" and res.n == (1000, 1000)


def test_cells_bootstrap_matches_index_bootstrap_in_law() -> None:
    pc, pb, gold = _predictions(400, 2)
    res = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, resamples=10_000)
    rng = np.random.default_rng(5)
    idx = rng.integers(0, 400, size=(4000, 400))
    direct = [_f1(pc[i], gold[i]) - _f1(pb[i], gold[i]) for i in idx]
    assert res.se == pytest.approx(float(np.std(direct)), rel=0.06)


def test_contribution_form_equals_label_form() -> None:
    pc, pb, gold = _predictions(600, 3)

    def counts(pred: np.ndarray) -> np.ndarray:
        return np.stack([pred * gold, pred * (1 - gold), (1 - pred) * gold], axis=1)

    by_labels = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, seed=4)
    by_counts = compare_paired_bootstrap(counts(pc), counts(pb), H, statistic="f1", seed=4)
    assert by_counts.delta == pytest.approx(by_labels.delta, abs=1e-15)
    assert by_counts.se == pytest.approx(by_labels.se, rel=0.05)
    assert by_counts.ci == pytest.approx(by_labels.ci, abs=0.01)


def test_mean_statistic_agrees_with_paired_t() -> None:
    rng = np.random.default_rng(6)
    b = rng.normal(0.6, 0.2, 800)
    c = b + rng.normal(0.02, 0.1, 800)
    res = compare_paired_bootstrap(c, b, H, statistic="mean", resamples=10_000)
    d = c - b
    se = d.std(ddof=1) / math.sqrt(d.size)
    t = stats.t.ppf(0.975, d.size - 1)
    assert res.delta == pytest.approx(d.mean(), abs=1e-12)
    assert res.se == pytest.approx(se, rel=0.03)
    assert res.ci == pytest.approx((d.mean() - t * se, d.mean() + t * se), abs=0.1 * t * se)
    # One-sided p for H0: Δ <= -margin agrees with the t test within bootstrap noise.
    p_t = stats.t.sf((d.mean() + 0.01) / se, d.size - 1)
    assert res.p_value == pytest.approx(p_t, abs=0.01)


def test_swap_negates_interval_and_same_seed_same_bytes() -> None:
    pc, pb, gold = _predictions(2000, 7)
    fwd = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, seed=9)
    rev = compare_paired_bootstrap(pb, pc, H, statistic="f1", labels=gold, seed=9)
    again = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, seed=9)
    # Swapping permutes the 8 cells, so the draws differ: equal up to bootstrap noise.
    assert rev.delta == -fwd.delta
    assert rev.ci == pytest.approx((-fwd.ci[1], -fwd.ci[0]), abs=0.003)
    assert repr(again) == repr(fwd)


def test_width_monotone_in_confidence() -> None:
    pc, pb, gold = _predictions(1500, 8)
    widths = [
        np.diff(
            compare_paired_bootstrap(
                pc, pb, Hypothesis(confidence=level), statistic="f1", labels=gold, seed=1
            ).ci
        )[0]
        for level in (0.8, 0.9, 0.95, 0.99)
    ]
    assert all(a < b for a, b in itertools.pairwise(widths))


def test_clusters_widen_interval_when_errors_cluster() -> None:
    rng = np.random.default_rng(10)
    groups, size = 60, 20
    gold = (rng.random(groups * size) < 0.4).astype(np.int64)
    # Whole documents are easy or hard for the candidate: errors are correlated within one.
    hard = np.repeat(rng.random(groups) < 0.3, size)
    pc = np.where(hard & (rng.random(gold.size) < 0.6), 1 - gold, gold)
    pb = np.where(rng.random(gold.size) < 0.12, 1 - gold, gold)
    clusters = np.repeat(np.arange(groups), size)
    flat = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold)
    clustered = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, clusters=clusters)
    assert clustered.n == (groups, groups)
    assert clustered.delta == pytest.approx(flat.delta, abs=1e-15)
    assert clustered.se is not None and flat.se is not None
    assert clustered.se > 1.5 * flat.se
    assert clustered.notes == ("n counts clusters: 60 clusters holding 1200 paired examples",)


def test_clusters_of_one_equal_examples_in_law() -> None:
    pc, pb, gold = _predictions(800, 11)
    flat = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold)
    singles = compare_paired_bootstrap(
        pc, pb, H, statistic="f1", labels=gold, clusters=np.arange(800)
    )
    assert singles.se == pytest.approx(flat.se, rel=0.05)


def test_identical_predictions_are_degenerate_not_pass() -> None:
    pc, _, gold = _predictions(500, 12)
    res = compare_paired_bootstrap(pc, pc.copy(), H, statistic="f1", labels=gold)
    assert res.degenerate and res.delta == 0.0 and res.ci == (0.0, 0.0)
    assert decide(res, H) == Outcome.NO_INFORMATION


def test_no_positives_anywhere_is_finite_and_degenerate() -> None:
    zeros = np.zeros(100, dtype=np.int64)
    res = compare_paired_bootstrap(zeros, zeros, H, statistic="f1", labels=zeros)
    assert res.candidate == 0.0 and res.degenerate
    assert all(math.isfinite(v) for v in res.ci)


def test_clear_improvement_passes_and_p_value_is_oriented() -> None:
    pc, pb, gold = _predictions(5000, 13, acc_c=0.95, acc_b=0.85)
    up = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, resamples=2000)
    assert decide(up, H) == Outcome.NON_INFERIOR
    assert up.p_value == pytest.approx(1 / 2001)
    lower = Hypothesis(confidence=0.95, margin=0.01, higher_is_better=False)
    down = compare_paired_bootstrap(pc, pb, lower, statistic="f1", labels=gold, resamples=2000)
    assert down.p_value == pytest.approx(1.0)
    assert up.mde is not None and up.mde > 0


def test_ten_million_examples_are_fast() -> None:
    n = 10**7
    rng = np.random.default_rng(14)
    gold = rng.integers(0, 2, n, dtype=np.int8)
    pc = np.where(rng.random(n) < 0.9, gold, 1 - gold)
    pb = np.where(rng.random(n) < 0.89, gold, 1 - gold)
    start = time.perf_counter()
    res = compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, resamples=10_000)
    assert time.perf_counter() - start < 5.0  # ~0.7 s here; generous for shared CI runners
    assert res.ci[0] < res.delta < res.ci[1]


def test_multinomial_counts_rows_sum_to_total() -> None:
    draws = multinomial_counts(np.random.default_rng(0), np.array([3, 0, 5, 1]), 50)
    assert draws.shape == (50, 4) and np.all(draws.sum(axis=1) == 9)
    assert np.all(draws[:, 1] == 0)
    ones = multinomial_counts(np.random.default_rng(0), np.ones(7, dtype=np.int64), 20)
    assert np.all(ones.sum(axis=1) == 7)


def test_bad_inputs_raise() -> None:
    pc, pb, gold = _predictions(50, 15)
    with pytest.raises(ValueError, match="unknown statistic"):
        compare_paired_bootstrap(pc, pb, H, statistic="bleu")
    with pytest.raises(ValueError, match="0 and 1"):
        compare_paired_bootstrap(pc * 2, pb, H, statistic="f1", labels=gold)
    with pytest.raises(ValueError, match="same length"):
        compare_paired_bootstrap(pc, pb[:10], H, statistic="f1", labels=gold)
    with pytest.raises(ValueError, match="tp, fp, fn"):
        compare_paired_bootstrap(pc, pb, H, statistic="f1")
    with pytest.raises(ValueError, match="one id per example"):
        compare_paired_bootstrap(pc, pb, H, statistic="f1", labels=gold, clusters=np.arange(3))
