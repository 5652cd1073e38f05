from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats.mstats import hdquantiles

from gatekeeper.stats.decision import decide
from gatekeeper.stats.quantile import (
    _hd_bootstrap,
    compare_quantile,
    harrell_davis,
    harrell_davis_rows,
    harrell_davis_weighted,
    hd_weights,
    quantile_label,
    quantile_with_interval,
    tail_note,
)
from gatekeeper.stats.types import Hypothesis, Outcome

LATENCY = Hypothesis(confidence=0.95, margin=0.1, higher_is_better=False)


def _lat(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(4.0, 0.6, n)


@pytest.mark.parametrize("n", [2, 7, 100, 1001])
@pytest.mark.parametrize("q", [0.05, 0.5, 0.9, 0.95, 0.99])
def test_harrell_davis_matches_scipy(n: int, q: float) -> None:
    x = np.random.default_rng(n).standard_normal(n) * 10 + 3
    assert harrell_davis(x, q) == pytest.approx(float(hdquantiles(x, [q])[0]), abs=1e-6)


def test_weights_sum_to_one_and_rows_match() -> None:
    assert harrell_davis(np.array([5.0]), 0.95) == 5.0
    assert hd_weights(37, 0.95).sum() == pytest.approx(1.0, abs=1e-12)
    x = np.random.default_rng(0).lognormal(size=(5, 60))
    rows = harrell_davis_rows(x, 0.95)
    assert rows == pytest.approx([harrell_davis(r, 0.95) for r in x], abs=1e-12)


def test_weighted_counts_equal_expanded_sample() -> None:
    rng = np.random.default_rng(3)
    values = np.sort(rng.lognormal(size=20))
    counts = rng.multinomial(50, np.full(20, 1 / 20), size=4)
    expanded = [np.repeat(values, c) for c in counts]
    expected = [harrell_davis(e, 0.9) for e in expanded]
    assert harrell_davis_weighted(values, counts, 0.9) == pytest.approx(expected, abs=1e-12)


def test_windowed_bootstrap_matches_full_distribution() -> None:
    # The rank window only merges units with no HD weight; the draw is the same in law.
    x = _lat(4000, 1)
    win = _hd_bootstrap([x], 0.95, 4000, np.random.default_rng(1))[0]
    full = _hd_bootstrap([x], 0.95, 4000, np.random.default_rng(2), windowed=False)[0]
    assert np.mean(win) == pytest.approx(np.mean(full), rel=2e-3)
    assert np.std(win) == pytest.approx(np.std(full), rel=0.06)


def test_quantile_interval_brackets_estimate_and_widens_with_confidence() -> None:
    x = _lat(500, 2)
    est, (lo90, hi90) = quantile_with_interval(x, 0.95, 0.90, 2000, 7)
    _, (lo99, hi99) = quantile_with_interval(x, 0.95, 0.99, 2000, 7)
    assert est == pytest.approx(harrell_davis(x, 0.95))
    assert lo99 < lo90 < est < hi90 < hi99


def test_identical_distribution_is_inconclusive_and_swap_negates() -> None:
    c, b = _lat(600, 3), _lat(600, 4)
    fwd = compare_quantile(c, b, 0.95, LATENCY, seed=5)
    rev = compare_quantile(b, c, 0.95, LATENCY, seed=5)
    assert fwd.scale == "log_ratio" and not fwd.degenerate and fwd.notes == ()
    assert fwd.delta == pytest.approx(math.log(fwd.candidate / fwd.baseline))
    # Swapping the arguments with the same seed swaps the two independent resample streams'
    # roles only approximately, so compare with bootstrap tolerance.
    assert rev.delta == pytest.approx(-fwd.delta, abs=1e-12)
    assert rev.ci[0] == pytest.approx(-fwd.ci[1], abs=0.03)
    assert rev.ci[1] == pytest.approx(-fwd.ci[0], abs=0.03)


def test_paired_swap_negates_interval_exactly() -> None:
    rng = np.random.default_rng(6)
    b = _lat(500, 6)
    c = b * np.exp(rng.normal(0.05, 0.1, 500))
    fwd = compare_quantile(c, b, 0.95, LATENCY, paired=True, seed=1)
    rev = compare_quantile(b, c, 0.95, LATENCY, paired=True, seed=1)
    assert rev.ci == pytest.approx((-fwd.ci[1], -fwd.ci[0]), abs=1e-12)
    assert fwd.p_value is not None and rev.p_value is not None


def test_scaling_all_latencies_leaves_log_ratio_unchanged() -> None:
    c, b = _lat(400, 8), _lat(400, 9)
    base = compare_quantile(c, b, 0.95, LATENCY, seed=3)
    scaled = compare_quantile(c * 1000.0, b * 1000.0, 0.95, LATENCY, seed=3)
    assert scaled.delta == pytest.approx(base.delta, abs=1e-12)
    assert scaled.ci == pytest.approx(base.ci, abs=1e-12)
    assert scaled.candidate == pytest.approx(base.candidate * 1000.0)


def test_same_seed_same_bytes() -> None:
    c, b = _lat(300, 10), _lat(300, 11)
    one = compare_quantile(c, b, 0.9, LATENCY, seed=42)
    two = compare_quantile(c, b, 0.9, LATENCY, seed=42)
    other = compare_quantile(c, b, 0.9, LATENCY, seed=43)
    assert repr(one) == repr(two)
    assert one.ci != other.ci


def test_width_monotone_in_confidence() -> None:
    c, b = _lat(400, 12), _lat(400, 13)
    widths = [
        np.diff(compare_quantile(c, b, 0.5, Hypothesis(confidence=level), seed=1).ci)[0]
        for level in (0.8, 0.9, 0.95, 0.99)
    ]
    assert all(a < b for a, b in itertools.pairwise(widths))


def test_clearly_faster_candidate_passes_and_slower_blocks() -> None:
    b = _lat(2000, 14)
    fast = compare_quantile(b * 0.7, _lat(2000, 15), 0.95, LATENCY, seed=0)
    slow = compare_quantile(b * 1.5, _lat(2000, 15), 0.95, LATENCY, seed=0)
    assert decide(fast, LATENCY) == Outcome.NON_INFERIOR
    assert fast.p_value is not None and fast.p_value < 0.001
    assert decide(slow, LATENCY) == Outcome.WORSE
    assert slow.p_value is not None and slow.p_value > 0.99
    assert slow.mde is not None and slow.mde > 0


def test_paired_is_tighter_than_unpaired_for_correlated_requests() -> None:
    rng = np.random.default_rng(16)
    b = _lat(1000, 16)
    c = b * np.exp(rng.normal(0.0, 0.05, 1000))
    paired = compare_quantile(c, b, 0.95, LATENCY, paired=True)
    unpaired = compare_quantile(c, b, 0.95, LATENCY, paired=False)
    assert np.diff(paired.ci)[0] < 0.5 * np.diff(unpaired.ci)[0]


def test_tail_guard_warns_never_passes() -> None:
    b = _lat(100, 17)
    result = compare_quantile(b * 0.5, b, 0.95, LATENCY, paired=True)
    assert result.degenerate
    assert result.notes == ("tail quantile p95 needs n(1−q) >= 20 (have 5)",)
    assert decide(result, LATENCY) == Outcome.NO_INFORMATION
    assert all(math.isfinite(v) for v in (result.delta, *result.ci))
    assert tail_note(400, 0.95) is None
    assert tail_note(1999, 0.99) == "tail quantile p99 needs n(1−q) >= 20 (have 19.99)"
    assert tail_note(30, 0.5) == "tail quantile p50 needs n(1−q) >= 20 (have 15)"
    assert quantile_label(0.999) == "p99.9"


def test_all_equal_latencies_are_degenerate_and_finite() -> None:
    x = np.full(500, 120.0)
    result = compare_quantile(x, x.copy(), 0.95, LATENCY)
    assert result.degenerate and result.se == 0.0
    assert result.ci == (0.0, 0.0)
    assert decide(result, LATENCY) == Outcome.NO_INFORMATION


def test_identical_paired_samples_are_degenerate() -> None:
    x = _lat(500, 18)
    result = compare_quantile(x, x.copy(), 0.95, LATENCY, paired=True)
    assert result.degenerate
    assert decide(result, LATENCY) == Outcome.NO_INFORMATION


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_non_positive_or_non_finite_latency_raises(bad: float) -> None:
    x = _lat(100, 19)
    x[3] = bad
    with pytest.raises(ValueError):
        compare_quantile(x, _lat(100, 20), 0.5, LATENCY)


def test_bad_arguments_raise() -> None:
    x = _lat(100, 21)
    with pytest.raises(ValueError, match="same requests"):
        compare_quantile(x, x[:50], 0.5, LATENCY, paired=True)
    with pytest.raises(ValueError, match="quantile level"):
        compare_quantile(x, x, 1.0, LATENCY)
    with pytest.raises(ValueError):
        harrell_davis(np.array([]), 0.5)
