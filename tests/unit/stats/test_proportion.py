"""A single proportion: Wilson and Clopper-Pearson against statsmodels and the reference
values, and the comparison with a fixed limit."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from statsmodels.stats.proportion import proportion_confint

from gatekeeper.stats.decision import decide
from gatekeeper.stats.proportion import compare_proportion_to_limit, wilson_interval
from gatekeeper.stats.reference import clopper_pearson_interval
from gatekeeper.stats.types import Hypothesis, Outcome

BUDGET = Hypothesis(margin=0.0, higher_is_better=False)  # "error rate <= limit"


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_matches_statsmodels(confidence: float) -> None:
    for n in (1, 7, 50, 1000):
        for k in sorted({0, 1, n // 3, n - 1, n}):
            sm_wilson = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
            sm_beta = proportion_confint(k, n, alpha=1 - confidence, method="beta")
            assert wilson_interval(k, n, confidence) == pytest.approx(sm_wilson, abs=1e-12)
            assert clopper_pearson_interval(k, n, confidence) == pytest.approx(sm_beta, abs=1e-10)


def test_edges_are_exact() -> None:
    assert wilson_interval(0, 25, 0.95)[0] == 0.0
    assert wilson_interval(25, 25, 0.95)[1] == 1.0
    assert wilson_interval(0, 0, 0.95) == (0.0, 1.0)
    assert clopper_pearson_interval(0, 0, 0.95) == (0.0, 1.0)


def test_width_is_monotone_in_confidence() -> None:
    levels = [0.5, 0.8, 0.9, 0.95, 0.99]
    for interval in (wilson_interval, clopper_pearson_interval):
        widths = [interval(3, 40, c)[1] - interval(3, 40, c)[0] for c in levels]
        assert all(b > a for a, b in pairwise(widths))


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        wilson_interval(5, 4, 0.95)
    with pytest.raises(ValueError):
        wilson_interval(1, 4, 1.0)
    with pytest.raises(ValueError):
        compare_proportion_to_limit(1, 10, 1.5, 0.95)


def test_compare_to_limit_shifts_the_wilson_interval() -> None:
    comp = compare_proportion_to_limit(1, 500, 0.02, 0.95)
    low, high = wilson_interval(1, 500, 0.95)
    assert comp.method == "wilson"
    assert "Wilson" in comp.reason and "near 0 and 1" in comp.reason
    assert comp.candidate == pytest.approx(0.002)
    assert comp.baseline == 0.02
    assert comp.delta == pytest.approx(0.002 - 0.02)
    assert comp.ci == pytest.approx((low - 0.02, high - 0.02))
    assert comp.se == pytest.approx(math.sqrt(0.002 * 0.998 / 500))
    # The error rate is shown below the budget: a pass for a lower-is-better metric.
    assert decide(comp, BUDGET) is Outcome.NON_INFERIOR
    assert comp.p_value is not None and comp.p_value < BUDGET.alpha_one_sided


def test_p_value_agrees_with_the_interval() -> None:
    # Wilson inverts the score test: "upper limit < limit" iff "p < alpha".
    for n in (20, 100, 1000):
        for k in range(0, n + 1, max(1, n // 40)):
            comp = compare_proportion_to_limit(k, n, 0.05, 0.95)
            assert comp.p_value is not None
            passes = decide(comp, BUDGET) is Outcome.NON_INFERIOR
            assert passes == (comp.p_value < 0.025)
            floor = Hypothesis(margin=0.0, higher_is_better=True)
            comp_up = compare_proportion_to_limit(k, n, 0.05, 0.95, higher_is_better=True)
            assert comp_up.p_value is not None
            assert (decide(comp_up, floor) is Outcome.NON_INFERIOR) == (comp_up.p_value < 0.025)


def test_no_observations_is_no_information() -> None:
    comp = compare_proportion_to_limit(0, 0, 0.02, 0.95)
    assert comp.degenerate
    assert all(math.isfinite(x) for x in (comp.candidate, comp.delta, *comp.ci))
    assert decide(comp, BUDGET) is Outcome.NO_INFORMATION


def test_zero_failures_in_few_trials_does_not_pass_a_tight_budget() -> None:
    comp = compare_proportion_to_limit(0, 20, 0.02, 0.95)
    assert not comp.degenerate
    assert decide(comp, BUDGET) is Outcome.INCONCLUSIVE
