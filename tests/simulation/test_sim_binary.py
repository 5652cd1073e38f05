"""Exact operating characteristics of the binary methods on a reduced grid (n = 100).

The thresholds are chosen so that a wrong formula fails: a Tango interval that is too narrow
drops coverage below .93 and lets the margin-boundary pass rate exceed alpha; one that is too
wide pushes coverage above .99. Wald must fail where it is known to fail, which shows that the
enumeration can tell a liberal method from a valid one.
"""

from __future__ import annotations

import pytest

from bench.sim_binary import (
    ALPHA_ONE_SIDED,
    PairedCell,
    paired_coverage,
    paired_pass_rate,
    paired_rows,
    proportion_coverage,
)

N = 100
# Score tests are not exact in discrete samples; the worst excess found over the full grid
# (bench/sim_binary.py) is 0.0008, at n=100, 10% discordant, margin 0.02.
TYPE1_TOLERANCE = 0.002


@pytest.mark.parametrize("discordance", [0.03, 0.10, 0.30])
@pytest.mark.parametrize("delta_share", [0.0, -1 / 3])
def test_tango_coverage(discordance: float, delta_share: float) -> None:
    cell = PairedCell(N, discordance, round(delta_share * discordance, 4))
    assert 0.93 <= paired_coverage("tango", cell) <= 0.99


@pytest.mark.parametrize(
    ("discordance", "margin"),
    [(0.03, 0.01), (0.03, 0.02), (0.03, 0.03), (0.10, 0.02), (0.10, 0.10), (0.30, 0.05)],
)
def test_tango_type1_at_the_margin(discordance: float, margin: float) -> None:
    cell = PairedCell(N, discordance, -margin)
    assert paired_pass_rate("tango", cell, margin) <= ALPHA_ONE_SIDED + TYPE1_TOLERANCE


def test_tango_has_power_where_it_should() -> None:
    # Same true accuracy, 10% discordant, margin 0.10 (about 3 SE): the normal approximation
    # gives power .89; an interval that is far too wide would not get near it.
    assert paired_pass_rate("tango", PairedCell(N, 0.10, 0.0), 0.10) > 0.75


def test_wald_fails_with_few_discordant_pairs() -> None:
    # STATISTICS.md §2: at n=100 with 3 discordant pairs per 100 Wald passes 19.5% at the
    # margin (here the corner where every discordant pair goes against the candidate).
    cell = PairedCell(N, 0.03, -0.03)
    wald = paired_pass_rate("wald", cell, 0.03)
    assert round(wald, 3) == 0.195
    assert wald > 4 * ALPHA_ONE_SIDED
    assert paired_pass_rate("tango", cell, 0.03) <= ALPHA_ONE_SIDED
    coverage_cell = PairedCell(N, 0.03, -0.01)
    assert paired_coverage("wald", coverage_cell) < 0.9 < paired_coverage("tango", coverage_cell)


def test_newcombe_fallback_is_usable() -> None:
    cell = PairedCell(N, 0.10, -0.02)
    assert 0.93 <= paired_coverage("newcombe", cell) <= 0.99
    assert paired_pass_rate("newcombe", cell, 0.02) <= ALPHA_ONE_SIDED + TYPE1_TOLERANCE


def test_wilson_versus_wald_near_one() -> None:
    # STATISTICS.md §2: exact coverage at n=100, p=.99 is .921 for Wilson and .633 for Wald.
    assert round(proportion_coverage("wilson", N, 0.99), 3) == 0.921
    assert round(proportion_coverage("wald", N, 0.99), 3) == 0.633
    assert proportion_coverage("clopper-pearson", N, 0.99) >= 0.95


def test_rows_are_exact_and_complete() -> None:
    rows = paired_rows(sizes=(50,), discordance=(0.10,))
    assert rows and all(r.exact and r.replications == 0 for r in rows)
    assert {r.method for r in rows} == {"tango", "newcombe", "wald (not used)"}
    assert {r.quantity for r in rows} == {"coverage", "type1", "power"}
    assert all(0.0 <= r.value <= 1.0 for r in rows)
