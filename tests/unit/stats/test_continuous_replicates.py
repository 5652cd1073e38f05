from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gatekeeper.stats.continuous import compare_replicates
from gatekeeper.stats.decision import decide
from gatekeeper.stats.types import Hypothesis, Outcome

H = Hypothesis(confidence=0.95, margin=0.005)
C = np.array([0.912, 0.915, 0.909, 0.918, 0.911])
B = np.array([0.913, 0.910, 0.914, 0.908, 0.912, 0.915])


def test_welch_matches_scipy() -> None:
    res = compare_replicates(C, B, H, None, None)
    ref = stats.ttest_ind(C, B, equal_var=False)
    assert res.method == "welch-t"
    assert res.ci == pytest.approx(tuple(ref.confidence_interval(0.95)), abs=1e-12)
    p_ref = stats.ttest_ind(C + H.margin, B, equal_var=False, alternative="greater").pvalue
    assert res.p_value == pytest.approx(p_ref, rel=1e-8)
    assert res.n == (5, 6)
    assert res.se == pytest.approx(math.sqrt(C.var(ddof=1) / 5 + B.var(ddof=1) / 6), rel=1e-12)


def test_welch_df_is_welch_satterthwaite() -> None:
    res = compare_replicates(C, B, H, None, None)
    a, v = C.var(ddof=1) / 5, B.var(ddof=1) / 6
    df = (a + v) ** 2 / (a * a / 4 + v * v / 5)
    half = stats.t.ppf(0.975, df) * math.sqrt(a + v)
    assert res.ci[1] - res.ci[0] == pytest.approx(2 * half, rel=1e-12)


def test_paired_by_seed_value_not_position() -> None:
    c = np.array([0.90, 0.95, 0.85, 0.92])
    b = np.array([0.89, 0.93, 0.86, 0.90])
    seeds = [11, 3, 7, 42]
    ref = stats.ttest_rel(c, b)
    order = [3, 1, 0, 2]  # baseline listed in another order, seeds moved with it
    res = compare_replicates(c, b[order], H, seeds, [seeds[i] for i in order])
    assert res.method == "paired-t"
    assert res.ci == pytest.approx(tuple(ref.confidence_interval(0.95)), abs=1e-12)
    # Pairing by position instead would give another interval.
    by_position = stats.ttest_rel(c, b[order]).confidence_interval(0.95)
    assert abs(by_position[0] - res.ci[0]) > 1e-3


def test_different_seed_sets_fall_back_to_welch_with_note() -> None:
    res = compare_replicates(C, B, H, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5])
    assert res.method == "welch-t"
    assert any("seed sets differ" in note for note in res.notes)


def test_seed_errors() -> None:
    with pytest.raises(ValueError, match="seed 1 appears more than once"):
        compare_replicates(C, C, H, [0, 1, 1, 2, 3], [0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="5 replicate values but 4 seeds"):
        compare_replicates(C, C, H, [0, 1, 2, 3], None)
    with pytest.raises(ValueError, match="at least one value"):
        compare_replicates(np.array([]), C, H, None, None)


def test_t_not_z_at_small_k() -> None:
    c = np.array([0.91, 0.93, 0.92])
    b = np.array([0.90, 0.915, 0.905])
    res = compare_replicates(c, b, H, None, None)
    a, v = c.var(ddof=1) / 3, b.var(ddof=1) / 3
    z_half = stats.norm.ppf(0.975) * math.sqrt(a + v)
    assert (res.ci[1] - res.ci[0]) / 2 > 1.2 * z_half


def test_swap_and_shift() -> None:
    ab = compare_replicates(C, B, H, None, None)
    ba = compare_replicates(B, C, H, None, None)
    assert ba.ci == pytest.approx((-ab.ci[1], -ab.ci[0]), abs=1e-12)
    moved = compare_replicates(C + 7.0, B + 7.0, H, None, None)
    assert moved.ci == pytest.approx(ab.ci, abs=1e-9)


def test_width_monotone_in_confidence() -> None:
    widths = [
        np.diff(compare_replicates(C, B, Hypothesis(confidence=q), None, None).ci)[0]
        for q in (0.6, 0.9, 0.95, 0.99)
    ]
    assert widths == sorted(widths) and len(set(widths)) == 4


@pytest.mark.parametrize(
    ("c", "b", "seeds"),
    [
        (np.array([0.9, 0.9, 0.9]), np.array([0.8, 0.8, 0.8]), None),  # both SDs 0
        (np.array([0.9, 0.9, 0.9]), np.array([0.8, 0.8, 0.8]), [0, 1, 2]),  # paired, SD 0
        (np.array([0.9]), np.array([0.8]), None),  # K = 1
        (np.array([0.9]), np.array([0.8]), [0]),  # K = 1, paired
        (np.array([0.9]), np.array([0.8, 0.85, 0.7]), None),  # one side has one seed
        (np.array([0.9, 0.8]), np.array([0.8, 0.7]), [1, 2]),  # constant paired difference
    ],
)
def test_no_variance_information_is_degenerate(
    c: np.ndarray, b: np.ndarray, seeds: list[int] | None
) -> None:
    res = compare_replicates(c, b, H, seeds, seeds)
    assert res.degenerate
    assert "no variance information" in res.notes
    assert all(math.isfinite(x) for x in res.ci)
    assert decide(res, H) is Outcome.NO_INFORMATION


def test_pooled_sd_fills_in_when_runs_have_no_variance() -> None:
    c = np.array([0.9, 0.9, 0.9])
    b = np.array([0.88, 0.88, 0.88])
    res = compare_replicates(c, b, H, None, None, pooled_sd=0.01)
    assert res.method == "pooled-sd-t"
    assert not res.degenerate
    se = 0.01 * math.sqrt(1 / 3 + 1 / 3)
    half = stats.t.ppf(0.975, 4) * se
    assert res.ci == pytest.approx((0.02 - half, 0.02 + half), abs=1e-12)
    assert decide(res, H) is Outcome.NON_INFERIOR
    # K = 1 on each side: df is floored at 1.
    one = compare_replicates(np.array([0.9]), np.array([0.88]), H, None, None, pooled_sd=0.01)
    assert one.ci[1] - 0.02 == pytest.approx(stats.t.ppf(0.975, 1) * 0.01 * math.sqrt(2))


def test_pooled_sd_does_not_override_observed_variance() -> None:
    with_pool = compare_replicates(C, B, H, None, None, pooled_sd=1e-6)
    assert with_pool.method == "welch-t"
    assert with_pool.ci == compare_replicates(C, B, H, None, None).ci
    with pytest.raises(ValueError, match="pooled_sd"):
        compare_replicates(C, B, H, None, None, pooled_sd=-1.0)
