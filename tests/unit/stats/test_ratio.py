from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from gatekeeper.stats.decision import decide
from gatekeeper.stats.ratio import (
    MIN_TAIL_INDEX,
    compare_ratio,
    hill_tail_index,
    ratio_of_means,
    skewness,
)
from gatekeeper.stats.types import Hypothesis, Outcome

COST = Hypothesis(confidence=0.95, margin=0.05, higher_is_better=False)


def _costs(n: int, seed: int, p: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    success = (rng.random(n) < p).astype(np.float64)
    return rng.gamma(4.0, 0.001, n) * (1.0 + success), success


def test_delta_method_se_matches_direct_formula() -> None:
    num, den = _costs(400, 1)
    est, (lo, hi), se = ratio_of_means(num, den, 0.95)
    n = num.size
    r = num.sum() / den.sum()
    cov = np.cov(num, den, ddof=1)
    direct = math.sqrt((cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / n) / den.mean()
    assert est == pytest.approx(r, rel=1e-12)
    assert se == pytest.approx(direct, rel=1e-10)
    assert (lo, hi) == pytest.approx((r - 1.959964 * se, r + 1.959964 * se), rel=1e-6)


def test_delta_method_se_matches_large_bootstrap() -> None:
    num, den = _costs(300, 2)
    _, _, se = ratio_of_means(num, den, 0.95)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, num.size, size=(20_000, num.size))
    boot = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    assert se == pytest.approx(float(np.std(boot)), rel=0.05)


def test_ratio_of_means_with_unit_denominator_is_mean_with_z_interval() -> None:
    x = np.random.default_rng(3).gamma(2.0, 1.0, 250)
    est, ci, se = ratio_of_means(x, np.ones_like(x), 0.9)
    assert est == pytest.approx(x.mean())
    assert se == pytest.approx(x.std(ddof=1) / math.sqrt(x.size))
    assert ci[1] - ci[0] == pytest.approx(2 * stats.norm.ppf(0.95) * se)


def test_zero_successes_is_infinite_cost_per_success() -> None:
    est, ci, se = ratio_of_means(np.array([0.1, 0.2]), np.array([0.0, 0.0]), 0.95)
    assert est == math.inf and ci == (math.inf, math.inf) and se == math.inf
    with pytest.raises(ValueError):
        ratio_of_means(np.zeros(3), np.zeros(3), 0.95)


def test_compare_delta_matches_log_formula() -> None:
    (cn, cd), (bn, bd) = _costs(800, 4), _costs(900, 5)
    res = compare_ratio(cn, cd, bn, bd, COST, method="delta")
    rc, _, se_c = ratio_of_means(cn, cd, 0.95)
    rb, _, se_b = ratio_of_means(bn, bd, 0.95)
    se = math.hypot(se_c / rc, se_b / rb)
    assert res.method == "delta-method-log-ratio" and res.scale == "log_ratio"
    assert res.candidate == pytest.approx(rc) and res.baseline == pytest.approx(rb)
    assert res.delta == pytest.approx(math.log(rc / rb))
    assert res.se == pytest.approx(se)
    z = stats.norm.ppf(0.975)
    assert res.ci == pytest.approx((res.delta - z * se, res.delta + z * se))
    # Lower is better: H0 is -delta <= -margin.
    assert res.p_value == pytest.approx(stats.norm.sf((-res.delta + 0.05) / se))


def test_auto_uses_delta_for_light_tails_and_bootstrap_t_for_heavy() -> None:
    (cn, cd), (bn, bd) = _costs(1000, 6), _costs(1000, 7)
    assert compare_ratio(cn, cd, bn, bd, COST).method == "delta-method-log-ratio"
    # Pareto(3): skewed enough for the bootstrap-t, but with a finite variance.
    heavy = np.random.default_rng(0).pareto(3.0, 400) + 1.0
    assert abs(skewness(heavy - heavy.mean())) / math.sqrt(400) > 0.3
    est = hill_tail_index(heavy)
    assert est is not None and est[0] > MIN_TAIL_INDEX
    res = compare_ratio(heavy, np.ones(400), bn, np.ones(1000), COST)
    assert res.method == "bootstrap-t-log-ratio" and not res.degenerate
    assert "skewed" in res.reason
    assert any(note.startswith("very heavy-tailed costs") for note in res.notes)
    assert res.ci[0] < res.delta < res.ci[1]


def test_hill_tail_index_recovers_pareto_alpha() -> None:
    for alpha in (1.5, 4.0):
        x = np.random.default_rng(1).pareto(alpha, 100_000) + 1.0
        est = hill_tail_index(x)
        assert est is not None and est[1] == 10_000
        assert est[0] == pytest.approx(alpha, rel=0.05)
    assert hill_tail_index(np.arange(1.0, 20.0)) is None  # fewer than 20 positive values
    tied = hill_tail_index(np.concatenate([np.ones(30), np.full(20, 5.0)]))
    assert tied is not None and tied[0] == math.inf


@pytest.mark.parametrize("method", ["auto", "delta", "bootstrap-t"])
def test_too_heavy_tails_give_no_verdict(method: str) -> None:
    # Lognormal sigma = 2 costs: the mean of 500 requests is dominated by values rarely seen.
    heavy = np.random.default_rng(8).lognormal(0.0, 2.0, 500)
    (bn, _bd) = _costs(1000, 7)
    easy = Hypothesis(margin=5.0, higher_is_better=False)
    res = compare_ratio(heavy, np.ones(500), bn, np.ones(1000), easy, method=method)
    assert res.degenerate and decide(res, easy) == Outcome.NO_INFORMATION
    assert any("too heavy-tailed for a mean" in note for note in res.notes)
    assert all(math.isfinite(v) for v in res.ci)
    if method == "auto":  # no bootstrap is run for a comparison that cannot pass
        assert res.method == "delta-method-log-ratio" and "no verdict" in res.reason


def test_bootstrap_t_close_to_delta_for_light_tails() -> None:
    (cn, cd), (bn, bd) = _costs(2000, 9), _costs(2000, 10)
    delta = compare_ratio(cn, cd, bn, bd, COST, method="delta")
    boot = compare_ratio(cn, cd, bn, bd, COST, method="bootstrap-t", resamples=4000)
    assert boot.ci == pytest.approx(delta.ci, abs=0.1 * (delta.ci[1] - delta.ci[0]))
    assert boot.p_value == pytest.approx(delta.p_value, abs=0.02)


@pytest.mark.parametrize("method", ["delta", "bootstrap-t"])
def test_swap_negates_and_scale_invariant(method: str) -> None:
    (cn, cd), (bn, bd) = _costs(500, 11), _costs(600, 12)
    fwd = compare_ratio(cn, cd, bn, bd, COST, method=method, seed=3)
    scaled = compare_ratio(cn * 100, cd, bn * 100, bd, COST, method=method, seed=3)
    assert scaled.ci == pytest.approx(fwd.ci, abs=1e-9)
    if method == "delta":
        rev = compare_ratio(bn, bd, cn, cd, COST, method=method)
        assert rev.ci == pytest.approx((-fwd.ci[1], -fwd.ci[0]), abs=1e-12)


def test_same_seed_same_bytes_and_width_monotone() -> None:
    heavy = np.random.default_rng(13).lognormal(0.0, 1.5, 400)
    other = np.random.default_rng(14).lognormal(0.0, 1.5, 400)
    args = (heavy, np.ones(400), other, np.ones(400))
    one = compare_ratio(*args, COST, method="bootstrap-t", seed=1)
    two = compare_ratio(*args, COST, method="bootstrap-t", seed=1)
    assert repr(one) == repr(two)
    widths = [
        np.diff(compare_ratio(*args, Hypothesis(confidence=c), method=m, seed=1).ci)[0]
        for m in ("delta", "bootstrap-t")
        for c in (0.8, 0.9, 0.95, 0.99)
    ]
    assert all(a < b for a, b in itertools.pairwise(widths[:4]))
    assert all(a < b for a, b in itertools.pairwise(widths[4:]))


def test_degenerate_inputs_never_pass() -> None:
    ones = np.ones(50)
    flat = compare_ratio(ones * 0.01, ones, ones * 0.01, ones, COST)
    assert flat.degenerate and decide(flat, COST) == Outcome.NO_INFORMATION
    assert math.isfinite(flat.delta) and all(math.isfinite(v) for v in flat.ci)
    no_success = compare_ratio(ones * 0.01, np.zeros(50), ones * 0.01, ones, COST)
    assert no_success.degenerate and decide(no_success, COST) == Outcome.NO_INFORMATION
    assert no_success.candidate == math.inf


def test_bad_inputs_raise() -> None:
    x = np.ones(10)
    with pytest.raises(ValueError):
        compare_ratio(x, x[:5], x, x, COST)
    with pytest.raises(ValueError):
        compare_ratio(-x, x, x, x, COST)
    with pytest.raises(ValueError):
        compare_ratio(x, x, x, x, COST, method="fieller")
    with pytest.raises(ValueError):
        ratio_of_means(x, -x, 0.95)
