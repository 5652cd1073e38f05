"""Reduced validation grid of the t intervals (R = 2,000 per cell, a few seconds).

Each assertion that the shipped method is within Monte Carlo error is paired with one that a
tempting wrong formula is not: the naive SE under clustering, z instead of t at K = 3 or with
G = 10 clusters, the percentile bootstrap at K = 3. So a regression to any of them fails here.
The simulation also checks, cell by cell, that its vectorised formulas equal the library's
output on the first replications.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.sim_continuous import NOT_USED, run
from bench.simlib import SimRow
from gatekeeper.stats.continuous import compare_paired_mean
from gatekeeper.stats.types import Hypothesis

R = 2000
SEED = 20261126


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str, str], SimRow]:
    return {(r.method, r.cell, r.quantity): r for r in run(R, SEED)}


def _row(rows: dict[tuple[str, str, str], SimRow], method: str, cell: str, q: str) -> SimRow:
    return rows[(method, cell, q)]


def test_every_shipped_cell_is_within_mc_error_except_strong_skew(
    rows: dict[tuple[str, str, str], SimRow],
) -> None:
    judged = [
        r for r in rows.values()
        if r.quantity in ("coverage", "type1") and not r.method.endswith(NOT_USED)
    ]
    # Strongly skewed d (lognormal, skewness 6) is the documented limit of the t interval:
    # its two-sided coverage at n <= 100, and at n = 1000 the false-pass rate with the long tail
    # on the losing side, where the sample skewness (about 3) no longer trips Cochran's rule.
    # Everything else must hold. Welch's over-coverage with equal SDs at K = 3 is conservative.
    failing = [
        r for r in judged
        if not r.ok
        and not ("lognormal" in r.cell and r.quantity == "coverage")
        and (r.cell, r.quantity) != ("-lognormal d, n=1000", "type1")
        and not (r.quantity == "coverage" and r.value > r.nominal)
    ]
    assert failing == []
    assert len(judged) >= 60


@pytest.mark.parametrize("n", [30, 100])
def test_skew_guard_holds_the_false_pass_rate_where_plain_t_fails(
    rows: dict[tuple[str, str, str], SimRow], n: int
) -> None:
    cell = f"-lognormal d, n={n}"
    guarded = _row(rows, "paired-t", cell, "type1")
    plain = _row(rows, "plain paired-t without the skew guards" + NOT_USED, cell, "type1")
    assert guarded.ok and guarded.value < plain.value / 2
    assert not plain.ok and plain.value > 0.06


def test_cr2_holds_at_ten_unequal_clusters(rows: dict[tuple[str, str, str], SimRow]) -> None:
    for icc in ("0", "0.3", "0.7"):
        for q in ("type1", "coverage"):
            assert _row(rows, "cluster-t", f"G=10, ICC={icc}", q).ok
    cr2 = _row(rows, "cluster-t", "G=10, ICC=0.3", "type1").value
    cr1 = _row(rows, "CR1 (eq. 8), G-1 df" + NOT_USED, "G=10, ICC=0.3", "type1").value
    assert cr2 < cr1  # CR2 + Bell-McCaffrey df is the more conservative of the two


@pytest.mark.parametrize("cell", ["G=10, ICC=0.3", "G=50, ICC=0.3"])
def test_cluster_t_holds_where_naive_se_fails(
    rows: dict[tuple[str, str, str], SimRow], cell: str
) -> None:
    assert _row(rows, "cluster-t", cell, "type1").ok
    assert _row(rows, "cluster-t", cell, "coverage").ok
    naive = _row(rows, "naive paired-t" + NOT_USED, cell, "type1")
    assert naive.value > 0.1  # four times alpha and more


def test_t_on_g_minus_1_df_matters_at_ten_clusters(
    rows: dict[tuple[str, str, str], SimRow],
) -> None:
    z = _row(rows, "cluster z" + NOT_USED, "G=10, ICC=0.3", "type1")
    assert not z.ok and z.value > 0.04
    assert _row(rows, "cluster-t", "G=10, ICC=0.3", "type1").ok


@pytest.mark.parametrize("k", [3, 5])
def test_welch_t_holds_where_z_and_bootstrap_fail(
    rows: dict[tuple[str, str, str], SimRow], k: int
) -> None:
    cell = f"K={k}, sd 1:1"
    assert _row(rows, "welch-t", cell, "type1").ok
    assert not _row(rows, "z with sample SD" + NOT_USED, cell, "type1").ok
    assert not _row(rows, "percentile bootstrap" + NOT_USED, cell, "type1").ok


def test_k3_z_is_far_above_alpha(rows: dict[tuple[str, str, str], SimRow]) -> None:
    assert _row(rows, "z with sample SD" + NOT_USED, "K=3, sd 1:1", "type1").value > 0.05
    assert _row(rows, "welch-t", "K=3, sd 1:1", "type1").value < 0.025 + 0.0105


def test_paired_seeds_and_normal_cells(rows: dict[tuple[str, str, str], SimRow]) -> None:
    for k in (3, 5, 10, 20):
        assert _row(rows, "paired-t (seeds)", f"K={k}, shared seed effect", "coverage").ok
    for n in (30, 100, 1000):
        assert _row(rows, "paired-t", f"normal d, n={n}", "coverage").ok
        assert _row(rows, "paired-t", f"t3 d, n={n}", "type1").ok


def test_power_at_the_reported_mde_is_about_80_percent(
    rows: dict[tuple[str, str, str], SimRow],
) -> None:
    for key in (("paired-t", "normal d, n=30, Δ=-m+MDE"),
                ("paired-t", "normal d, n=100, Δ=-m+MDE"),
                ("cluster-t", "G=50, ICC=0.3, Δ=-m+MDE")):
        assert 0.74 < _row(rows, *key, "power").value < 0.86


def test_skew_limit_is_real_and_guarded(rows: dict[tuple[str, str, str], SimRow]) -> None:
    # Rare large regressions make the plain t test pass too often at small n...
    plain = "plain paired-t without the skew guards" + NOT_USED
    assert _row(rows, plain, "-lognormal d, n=30", "type1").value > 0.05
    # ...which is why such data give no verdict in the comparison.
    rng = np.random.default_rng(0)
    d = -(np.exp(rng.standard_normal(30)) - np.exp(0.5))
    res = compare_paired_mean(d, np.zeros(30), Hypothesis(margin=0.1))
    assert res.degenerate
    assert any("strongly skewed towards the candidate's losses" in note for note in res.notes)


def test_johnson_correction_holds_the_moderately_skewed_cell(
        rows: dict[tuple[str, str, str], SimRow]) -> None:
    # At n = 1,000 Cochran's rule no longer fires for d = -lognormal, but the plain t still
    # passes too often; Johnson's skewness-corrected t is what keeps the product within alpha.
    cell = "-lognormal d, n=1000"
    product = _row(rows, "paired-t", cell, "type1")
    plain = _row(rows, "plain paired-t without the skew guards" + NOT_USED, cell, "type1")
    assert product.value < plain.value
    assert product.ok
    rng = np.random.default_rng(0)  # a sample with skewness -3.9: past Cochran, below Johnson
    d = -(np.exp(rng.standard_normal(1000)) - np.exp(0.5))
    res = compare_paired_mean(d, np.zeros(1000), Hypothesis(margin=0.1))
    assert res.method == "johnson-t" and not res.degenerate
    plain = compare_paired_mean(d, np.zeros(1000), Hypothesis(margin=0.1, confidence=0.95))
    assert plain.ci == res.ci  # deterministic
    half = (res.ci[1] - res.ci[0]) / 2
    assert res.ci[0] < res.delta - half  # the long losing tail pushes the lower limit down
