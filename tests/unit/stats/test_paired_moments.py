"""compare_paired_moments: the paired t from sufficient statistics gives what the rows give.

The statistics here are computed the way `gatekeeper sql --kind mean` computes them in an
engine (a mean, then plain sums of squared and cubed deviations from it), not with the gate's
own chunked functions, so the test holds the two paths to the same answer, not to the same code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from gatekeeper.stats.continuous import (
    ClusterSummary,
    PairedSummary,
    compare_cluster_sums,
    compare_paired_mean,
    compare_paired_moments,
)
from gatekeeper.stats.moments import skewness_from_sums
from gatekeeper.stats.types import Hypothesis


def _as_an_engine_would(c: np.ndarray, b: np.ndarray) -> PairedSummary:
    d = c - b
    mean_d = float(d.mean())
    dev = d - mean_d
    m2, m3 = float((dev**2).sum()), float((dev**3).sum())
    n = d.size
    # g1 from the engine's sums, as the gate takes it from a bundle (M2/n past the floats'
    # reach in either direction included).
    g1 = skewness_from_sums(n, m2, m3)
    return PairedSummary(n=n, mean_candidate=float(c.mean()), mean_baseline=float(b.mean()),
                         mean_difference=mean_d, m2_difference=m2, skewness_difference=g1,
                         scale=float(max(np.abs(c).max(), np.abs(b).max())))


pairs = st.integers(min_value=2, max_value=400).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n),
    st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n)))


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(pairs, st.sampled_from([0.9, 0.95, 0.99]), st.booleans(),
       st.sampled_from([0.0, 0.01, 0.05]))
def test_moments_and_rows_agree(data: tuple[list[float], list[float]], confidence: float,
                                higher: bool, margin: float) -> None:
    c, b = np.asarray(data[0]), np.asarray(data[1])
    dev = (c - b) - float((c - b).mean())
    # A spread whose cube underflows cannot be carried as M2 and M3 (a bundle refuses it); the
    # rows handle it (test below).
    assume(float((dev**2).sum()) / dev.size >= 1e-200 or not float((dev**2).sum()))
    hyp = Hypothesis(confidence=confidence, margin=margin, higher_is_better=higher)
    rows = compare_paired_mean(c, b, hyp)
    stats = compare_paired_moments(_as_an_engine_would(c, b), hyp)
    assert stats.method == rows.method and stats.degenerate == rows.degenerate
    assert stats.n == rows.n and len(stats.notes) == len(rows.notes)
    assert stats.delta == pytest.approx(rows.delta, rel=1e-9, abs=1e-12)
    if not rows.degenerate:
        assert stats.ci == pytest.approx(rows.ci, rel=1e-7, abs=1e-10)
        assert stats.p_value == pytest.approx(rows.p_value, rel=1e-7, abs=1e-10)


def test_the_interval_is_scipys_paired_t() -> None:
    rng = np.random.default_rng(3)
    c = rng.normal(0.71, 0.1, 500)
    b = c - rng.normal(0.01, 0.05, 500)
    hyp = Hypothesis(confidence=0.95, higher_is_better=True)
    comp = compare_paired_moments(_as_an_engine_would(c, b), hyp)
    ref = sps.ttest_rel(c, b, alternative="greater")
    assert comp.method == "paired-t"
    assert comp.p_value == pytest.approx(float(ref.pvalue), rel=1e-9)
    low, high = ref.confidence_interval(confidence_level=0.95)  # one-sided: (low, inf)
    assert math.isinf(high)
    # The gate's two-sided interval at 95% has the one-sided 97.5% bound; scipy's one-sided
    # 95% bound is the two-sided 90% one: compare the matching one.
    two_sided = sps.ttest_rel(c, b).confidence_interval(confidence_level=0.95)
    assert comp.ci == pytest.approx((float(two_sided.low), float(two_sided.high)), rel=1e-9)
    assert low > two_sided.low


def test_scores_whose_spread_cubed_underflows_compare_as_their_scaled_copies() -> None:
    # Found by the property test above: the skewness divided by (M2/n)^1.5, which underflows
    # to 0 for scores around 1e-117 (exit 3 from the rows, before this fix, too).
    hyp = Hypothesis(confidence=0.9, higher_is_better=False)
    base = np.array([0.0, 0.0, 1.8251993849683944e-117])
    tiny = compare_paired_mean(np.zeros(3), base, hyp)
    scaled = compare_paired_mean(np.zeros(3), base * 1e100, hyp)
    assert tiny.method == scaled.method and tiny.degenerate == scaled.degenerate
    assert tiny.p_value == pytest.approx(scaled.p_value, rel=1e-9)
    assert tiny.notes == scaled.notes


def test_one_pair_and_equal_differences_give_no_information() -> None:
    hyp = Hypothesis(confidence=0.95)
    one = compare_paired_moments(PairedSummary(1, 0.5, 0.4, 0.1, 0.0, 0.0, 0.5), hyp)
    flat = compare_paired_moments(PairedSummary(100, 0.5, 0.4, 0.1, 0.0, 0.0, 0.5), hyp)
    assert one.degenerate and flat.degenerate
    assert "no variance information" in one.notes[-1]
    assert "all paired differences are equal" in flat.notes[-1]


clustered = st.integers(min_value=2, max_value=300).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n),
    st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n),
    st.lists(st.integers(0, 12), min_size=n, max_size=n)))


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(clustered, st.sampled_from([0.9, 0.95]), st.booleans())
def test_cluster_sums_and_rows_agree(data: tuple[list[float], list[float], list[int]],
                                     confidence: float, higher: bool) -> None:
    # The sums as an engine gives them: per cluster, its size and its plain sum of d; the
    # gate centres them itself.
    c, b, g = np.asarray(data[0]), np.asarray(data[1]), np.asarray(data[2])
    hyp = Hypothesis(confidence=confidence, higher_is_better=higher)
    rows = compare_paired_mean(c, b, hyp, clusters=g)
    d = c - b
    labels = np.unique(g)
    sizes = np.array([float((g == k).sum()) for k in labels])
    sums = np.array([float(d[g == k].sum()) for k in labels])
    delta = float(d.mean())
    stats = compare_cluster_sums(ClusterSummary(
        n=d.size, mean_candidate=float(c.mean()), mean_baseline=float(b.mean()),
        mean_difference=delta, centred_sums=sums - sizes * delta, sizes=sizes,
        scale=float(max(np.abs(c).max(), np.abs(b).max()))), hyp)
    assert stats.method == rows.method and stats.n == rows.n
    assert stats.degenerate == rows.degenerate
    assert stats.delta == pytest.approx(rows.delta, rel=1e-9, abs=1e-12)
    if not rows.degenerate:
        assert stats.ci == pytest.approx(rows.ci, rel=1e-7, abs=1e-10)
        assert stats.p_value == pytest.approx(rows.p_value, rel=1e-7, abs=1e-10)


def test_scores_whose_spread_underflows_agree_and_do_not_crash() -> None:
    # The example hypothesis found: (M2/n)^1.5 underflows to 0 for differences of 1e-117;
    # the rows' skewness divided by zero (exit 3 on such a bundle).
    c, b = np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.8251993849683944e-117])
    hyp = Hypothesis(confidence=0.9, margin=0.0, higher_is_better=False)
    rows = compare_paired_mean(c, b, hyp)
    stats = compare_paired_moments(_as_an_engine_would(c, b), hyp)
    assert rows.method == stats.method and rows.degenerate == stats.degenerate
    assert rows.delta == pytest.approx(stats.delta, abs=1e-300)
