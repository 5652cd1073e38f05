"""Reduced validation grid for latency quantiles, cost ratios and paired-bootstrap F1.

Each cell uses the same functions as ``bench/sim_quantile.py`` with fewer replications, and
each is sized so that a plausible wrong formula falls outside the Monte Carlo band: the plain
type-7 percentile bootstrap of p95 (coverage about .89-.92 at lognormal n=100), a ratio SE
without the covariance term (coverage about .97), an interval from resampling that ignores
pairing. About 15 s on one core.
"""

from __future__ import annotations

import math

import numpy as np

from bench.sim_quantile import (
    f1_coverage,
    hd_coverage,
    heavy_ratio,
    quantile_type1,
    ratio_coverage,
)
from bench.simlib import SimRow

SEED = 20261126


def _band(row: SimRow) -> tuple[float, float]:
    return row.nominal - row.mc_error, row.nominal + row.mc_error


def test_hd_bootstrap_p95_covers_at_lognormal_n100() -> None:
    row = hd_coverage("lognormal", 100, 1000, SEED, 1)
    low, high = _band(row)
    # The band is [.929, .971]; the type-7 percentile bootstrap sits near .89-.92: outside it.
    assert row.replications == 1000 and high - low < 0.042
    assert low <= row.value <= high, row


def test_quantile_comparison_false_pass_rate_at_margin() -> None:
    row = quantile_type1(0.95, 400, False, 300, SEED, 3)
    assert row.ok, row
    # A comparison that ignored the baseline's uncertainty would pass about half the time.
    assert row.value < 0.06


def test_delta_method_ratio_coverage_and_covariance_term_matters() -> None:
    row = ratio_coverage(2000, SEED, 7)
    assert row.ok, row
    # The same data with the covariance term dropped over-covers beyond the band.
    rng = np.random.default_rng([SEED, 7])
    n, p, shape, scale = 500, 0.9, 4.0, 0.001
    truth = shape * scale * (1.0 + p) / p
    hits = 0
    for _ in range(2000):
        success = (rng.random(n) < p).astype(np.float64)
        cost = rng.gamma(shape, scale, n) * (1.0 + success)
        r = cost.sum() / success.sum()
        v = np.cov(cost, success)
        wrong_se = math.sqrt((v[0, 0] + r * r * v[1, 1]) / n) / success.mean()
        hits += abs(r - truth) <= 1.959964 * wrong_se
    assert hits / 2000 > row.nominal + row.mc_error


def test_paired_bootstrap_f1_coverage() -> None:
    row = f1_coverage(False, 1000, SEED, 9)
    assert row.ok, row


def test_tail_guard_keeps_heavy_cost_false_passes_at_alpha() -> None:
    # Lognormal sigma = 1.5 costs at n = 300: the delta-method interval alone sits wholly below
    # the truth (a false "no costlier") far more often than .025; the product's decision, with
    # the Hill tail-index guard, does not pass more often than alpha.
    auto = next(r for r in heavy_ratio("auto", 1000, SEED, 8) if r.quantity == "type1")
    delta = next(r for r in heavy_ratio("delta", 1000, SEED, 8) if r.quantity == "type1")
    assert auto.ok and auto.value <= 0.025
    assert not delta.ok and delta.value > 0.06
