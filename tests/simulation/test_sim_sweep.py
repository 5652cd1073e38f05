"""The winner's curse of a 40-trial sweep with no true gain, through the gate's comparison
functions (bench/sweep_winners_curse.py has the full run): unadjusted, the winner passes as
"improved" far more often than α; with the Šidák or Bonferroni adjustment over k, at most α."""

from __future__ import annotations

import numpy as np
import pytest

from bench.sweep_winners_curse import ALPHA, false_improvement, winners
from gatekeeper.leaderboard.sweep import SweepMethod

SWEEPS, N, TRIALS, SEED = 400, 1_000, 40, 40
Pairs = list[tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="module")
def pairs() -> Pairs:
    return winners(SWEEPS, N, TRIALS, SEED)


def test_the_unadjusted_winner_passes_far_more_often_than_alpha(pairs: Pairs) -> None:
    result = false_improvement(pairs, TRIALS, "none")
    assert result.rate > 5 * ALPHA, result


@pytest.mark.parametrize("method", ["sidak", "bonferroni"])
def test_the_adjusted_winner_passes_at_most_alpha(pairs: Pairs, method: SweepMethod) -> None:
    result = false_improvement(pairs, TRIALS, method)
    assert result.rate <= ALPHA, result
