"""Paired binary scores: reference values (contingencytables, test-ch8) and metamorphic
properties of the Tango and Newcombe intervals."""

from __future__ import annotations

import math
import time
from itertools import pairwise

import numpy as np
import pytest

from gatekeeper.stats.binary import (
    compare_paired_binary,
    mcnemar_midp_one_sided,
    newcombe_interval,
    paired_table,
    tango_interval,
    tango_score_pvalue,
)
from gatekeeper.stats.decision import decide
from gatekeeper.stats.reference import mcnemar_midp, wald_paired_interval
from gatekeeper.stats.types import Comparison, Hypothesis, Outcome

# [[n11, n10], [n01, n00]]: rows = candidate right/wrong, columns = baseline right/wrong.
N11, N10, N01, N00 = 59, 6, 16, 80
N = N11 + N10 + N01 + N00
PASSING = {Outcome.NON_INFERIOR, Outcome.IMPROVED}


def arrays_for(n11: int, n10: int, n01: int, n00: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Per-example 0/1 scores realising a table, in shuffled order."""
    cand = np.array([1] * n11 + [1] * n10 + [0] * n01 + [0] * n00, dtype=float)
    base = np.array([1] * n11 + [0] * n10 + [1] * n01 + [0] * n00, dtype=float)
    order = np.random.default_rng(seed).permutation(cand.size)
    return cand[order], base[order]


def rounded(interval: tuple[float, float]) -> tuple[float, float]:
    return (round(interval[0], 4), round(interval[1], 4))


# --- reference values (STATISTICS.md §5) -------------------------------------------------


def test_newcombe_reference() -> None:
    assert round((N10 - N01) / N, 4) == -0.0621
    assert rounded(newcombe_interval(N11, N10, N01, N00, 0.95)) == (-0.1186, -0.0046)


def test_newcombe_reference_tiny_table() -> None:
    # ad - bc = 1 is not above n/2 = 1, so the corrected correlation is 0.
    assert rounded(newcombe_interval(1, 0, 0, 1, 0.95)) == (-0.5734, 0.5734)


def test_tango_reference() -> None:
    assert rounded(tango_interval(N10, N01, N, 0.95)) == (-0.1240, -0.0054)


def test_mcnemar_one_sided_midp_is_half_the_two_sided_in_the_observed_direction() -> None:
    assert mcnemar_midp_one_sided(N01, N10) == pytest.approx(mcnemar_midp(N10, N01) / 2)
    assert mcnemar_midp_one_sided(N10, N01) == pytest.approx(1 - mcnemar_midp(N10, N01) / 2)
    assert mcnemar_midp_one_sided(0, 0) == 0.5


# --- the 2x2 table --------------------------------------------------------------------------


def test_paired_table_orientation() -> None:
    cand, base = arrays_for(N11, N10, N01, N00)
    assert paired_table(cand, base) == (N11, N10, N01, N00)
    assert paired_table(cand.astype(bool), base.astype(bool)) == (N11, N10, N01, N00)
    assert paired_table(base, cand) == (N11, N01, N10, N00)


def test_paired_table_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="0/1"):
        paired_table(np.array([0.0, 0.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="0/1"):
        paired_table(np.array([0.0, np.nan]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="length"):
        paired_table(np.array([0.0, 1.0]), np.array([1.0]))


def test_paired_table_large_is_fast_and_correct() -> None:
    rng = np.random.default_rng(7)
    cand = rng.random(2_000_000) < 0.8
    base = rng.random(2_000_000) < 0.78
    start = time.perf_counter()
    table = paired_table(cand, base)
    elapsed = time.perf_counter() - start
    assert table[1] == int(np.count_nonzero(cand & ~base))
    assert table[2] == int(np.count_nonzero(~cand & base))
    assert sum(table) == cand.size
    assert elapsed < 2.0


# --- Tango: test and interval agree; symmetry; monotonicity --------------------------------


@pytest.mark.parametrize(("n10", "n01", "n"), [(6, 16, 161), (0, 0, 50), (3, 0, 40), (30, 2, 60)])
def test_tango_pvalue_inverts_the_interval(n10: int, n01: int, n: int) -> None:
    low, high = tango_interval(n10, n01, n, 0.95)
    if low > -1:
        assert tango_score_pvalue(n10, n01, n, low) == pytest.approx(0.025, abs=1e-8)
    if high < 1:
        assert tango_score_pvalue(n10, n01, n, high) == pytest.approx(0.975, abs=1e-8)
    assert tango_score_pvalue(n10, n01, n, (n10 - n01) / n) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "table", [(N11, N10, N01, N00), (0, 0, 0, 10), (5, 0, 3, 2), (0, 7, 0, 0), (1, 0, 0, 1)]
)
def test_swapping_candidate_and_baseline_negates_intervals(
    table: tuple[int, int, int, int],
) -> None:
    n11, n10, n01, n00 = table
    n = sum(table)
    low, high = tango_interval(n10, n01, n, 0.95)
    s_low, s_high = tango_interval(n01, n10, n, 0.95)
    assert (s_low, s_high) == pytest.approx((-high, -low), abs=1e-10)
    low, high = newcombe_interval(n11, n10, n01, n00, 0.95)
    s_low, s_high = newcombe_interval(n11, n01, n10, n00, 0.95)
    assert (s_low, s_high) == pytest.approx((-high, -low), abs=1e-12)

    cand, base = arrays_for(*table)
    hyp = Hypothesis(margin=0.05)
    forward = compare_paired_binary(cand, base, hyp)
    backward = compare_paired_binary(base, cand, hyp)
    assert backward.delta == pytest.approx(-forward.delta)
    assert backward.ci == pytest.approx((-forward.ci[1], -forward.ci[0]), abs=1e-10)


def test_width_is_monotone_in_confidence() -> None:
    levels = [0.5, 0.8, 0.9, 0.95, 0.99, 0.999]
    for n10, n01, n in [(6, 16, 161), (0, 0, 100), (2, 0, 30)]:
        widths = [np.subtract(*tango_interval(n10, n01, n, c)[::-1]) for c in levels]
        assert all(b > a for a, b in pairwise(widths))
        n11 = (n - n10 - n01) // 2
        n00 = n - n10 - n01 - n11
        widths = [np.subtract(*newcombe_interval(n11, n10, n01, n00, c)[::-1]) for c in levels]
        assert all(b > a for a, b in pairwise(widths))


def test_tango_limits_stay_in_range_at_the_edges() -> None:
    assert tango_interval(5, 0, 5, 0.95)[1] == 1.0
    assert tango_interval(0, 5, 5, 0.95)[0] == -1.0
    assert tango_interval(0, 0, 0, 0.95) == (-1.0, 1.0)
    low, high = tango_interval(0, 0, 1000, 0.95)
    # No discordant pairs: T(δ) = -sqrt(nδ/(1-δ)), so the upper limit is z²/(n + z²).
    z2 = 1.959963984540054**2
    assert high == pytest.approx(z2 / (1000 + z2), rel=1e-9)
    assert low == pytest.approx(-high, rel=1e-9)


def test_tango_is_stable_at_ten_million() -> None:
    n = 10_000_000
    low, high = tango_interval(100_000, 99_000, n, 0.95)
    wald_low, wald_high = wald_paired_interval(100_000, 99_000, n, 0.95)
    # With many discordant pairs the score and Wald intervals coincide to a few digits.
    assert low == pytest.approx(wald_low, abs=1e-6)
    assert high == pytest.approx(wald_high, abs=1e-6)


# --- the comparison and its decision -------------------------------------------------------


def test_compare_reference_table() -> None:
    cand, base = arrays_for(N11, N10, N01, N00)
    comp = compare_paired_binary(cand, base, Hypothesis(margin=0.15))
    assert comp.method == "tango"
    assert "Tango" in comp.reason and "Wald" in comp.reason
    assert rounded(comp.ci) == (-0.1240, -0.0054)
    assert comp.candidate == pytest.approx((N11 + N10) / N)
    assert comp.baseline == pytest.approx((N11 + N01) / N)
    assert comp.n == (N, N)
    assert comp.se == pytest.approx(math.sqrt((N10 + N01) / N**2 - comp.delta**2 / N))
    assert comp.mde is not None and comp.se is not None
    assert comp.mde > 2.8 * comp.se
    assert decide(comp, Hypothesis(margin=0.15)) is Outcome.NON_INFERIOR
    assert decide(comp, Hypothesis(margin=0.10)) is Outcome.INCONCLUSIVE
    assert decide(comp, Hypothesis(margin=0.0)) is Outcome.WORSE


def test_p_value_agrees_with_the_decision() -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(20, 400))
        n10, n01 = (int(x) for x in rng.multinomial(n, [0.05, 0.07, 0.88])[:2])
        n11 = (n - n10 - n01) // 2
        cand, base = arrays_for(n11, n10, n01, n - n10 - n01 - n11)
        for higher in (True, False):
            hyp = Hypothesis(margin=float(rng.uniform(0, 0.1)), higher_is_better=higher)
            comp = compare_paired_binary(cand, base, hyp)
            assert comp.p_value is not None
            passes = decide(comp, hyp) in PASSING
            assert passes == (comp.p_value < hyp.alpha_one_sided)


def test_lower_is_better_orients_the_p_value() -> None:
    # Scores are errors (1 = wrong): the candidate adds 6 errors and fixes 16 of the baseline's.
    cand, base = arrays_for(N11, N10, N01, N00)
    hyp = Hypothesis(margin=0.02, higher_is_better=False)
    comp = compare_paired_binary(cand, base, hyp)
    assert comp.p_value == pytest.approx(tango_score_pvalue(N01, N10, N, -0.02))
    # Fewer errors for the candidate (Δ < 0) is good news when lower is better.
    assert comp.p_value is not None
    assert comp.p_value < 0.05
    assert decide(comp, hyp) is Outcome.NON_INFERIOR


def test_superiority_reports_mcnemar_midp() -> None:
    cand, base = arrays_for(N11, N01, N10, N00)  # candidate wins 16, loses 6
    hyp = Hypothesis(require_improvement=True, gain=0.01)
    comp = compare_paired_binary(cand, base, hyp)
    assert any("McNemar mid-p" in note for note in comp.notes)
    assert f"{mcnemar_midp_one_sided(16, 6):.4g}" in " ".join(comp.notes)
    assert comp.p_value == pytest.approx(tango_score_pvalue(16, 6, N, 0.01))


def _finite(comp: Comparison) -> bool:
    values = [comp.candidate, comp.baseline, comp.delta, *comp.ci, comp.p_value]
    values += [x for x in (comp.se, comp.mde) if x is not None]
    return all(x is not None and math.isfinite(x) for x in values)


def test_no_pairs_is_no_information() -> None:
    comp = compare_paired_binary(np.array([]), np.array([]), Hypothesis(margin=0.05))
    assert comp.degenerate
    assert _finite(comp)
    assert decide(comp, Hypothesis(margin=0.05)) is Outcome.NO_INFORMATION


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_all_ties_small_n_is_finite_and_does_not_pass(value: float) -> None:
    scores = np.full(20, value)
    hyp = Hypothesis(margin=0.05)
    comp = compare_paired_binary(scores, scores.copy(), hyp)
    assert _finite(comp)
    assert not comp.degenerate
    assert comp.delta == 0.0
    assert comp.se == 0.0
    assert comp.ci[0] < 0 < comp.ci[1]
    assert comp.mde is not None and comp.mde > hyp.margin  # underpowered, not "infinitely" powered
    assert decide(comp, hyp) not in PASSING
    superiority = Hypothesis(require_improvement=True)
    assert decide(compare_paired_binary(scores, scores, superiority), superiority) not in PASSING


def test_zero_discordant_pairs_at_large_n_is_information() -> None:
    scores = np.ones(10_000)
    hyp = Hypothesis(margin=0.01)
    comp = compare_paired_binary(scores, scores.copy(), hyp)
    assert _finite(comp)
    assert comp.ci[1] - comp.ci[0] < 0.001
    assert decide(comp, hyp) is Outcome.NON_INFERIOR
    assert any("no discordant pairs" in note for note in comp.notes)
