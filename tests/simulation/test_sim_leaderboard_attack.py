"""Blum & Hardt's boosting attack, a fixed-seed slice of bench/leaderboard_attack.py (which
runs 200 attacks of 1,000 submissions per arm): with the guard off the majority vote climbs
and nearly every attack gets a false "improved" pass within 300 submissions; with the Ladder
and a reuse budget none does."""

from __future__ import annotations

from bench.leaderboard_attack import ALPHA, GUARD_OFF, GUARD_ON, run_arm

ATTACKS, SUBMISSIONS, SEED = 40, 300, 7


def test_guard_off_the_vote_climbs_and_passes_falsely() -> None:
    result = run_arm(GUARD_OFF, ATTACKS, SUBMISSIONS, SEED)
    assert result.boosted_true[300] > result.boosted_true[50] > 0.01
    assert result.false_rate_by(300) > 0.8


def test_ladder_and_budget_keep_false_passes_at_most_alpha() -> None:
    result = run_arm(GUARD_ON, ATTACKS, SUBMISSIONS, SEED)
    assert result.false_rate_by(300) <= ALPHA
    assert result.false_total == 0
    assert result.boosted_released[300] < 0.005  # little is released to climb on
