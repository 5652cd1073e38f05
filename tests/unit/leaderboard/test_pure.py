"""The Ladder's rounding, the sweep adjustment and eval-set identity: pure functions."""

from __future__ import annotations

import math

import pytest

from gatekeeper.leaderboard import ladder
from gatekeeper.leaderboard.identity import eval_set_of, identify
from gatekeeper.leaderboard.sweep import adjusted_alpha, adjusted_confidence
from gatekeeper.models.policy import Policy
from gatekeeper.models.run import Run


@pytest.mark.parametrize(("x", "expected"), [
    (0.0349, 0.03), (-0.0349, -0.03), (0.03, 0.03), (0.0099, 0.0), (0.1, 0.1)])
def test_toward_zero_never_overstates(x: float, expected: float) -> None:
    assert ladder.toward_zero(x, 0.01) == expected


def test_outward_covers_the_interval() -> None:
    assert ladder.outward((0.0123, 0.0456), 0.01) == (0.01, 0.05)
    assert ladder.outward((-0.0123, 0.02), 0.01) == (-0.02, 0.02)
    assert ladder.up(0.0101, 0.01) == 0.02 and ladder.down(-0.0001, 0.01) == -0.01


def test_the_ladder_asks_at_least_one_step() -> None:
    assert ladder.ladder_gain(0.0, 0.01) == 0.01
    assert ladder.ladder_gain(0.05, 0.01) == 0.05


def test_sidak_and_bonferroni() -> None:
    assert adjusted_alpha(0.025, 1, "sidak") == 0.025
    assert adjusted_alpha(0.025, 40, "none") == 0.025
    assert adjusted_alpha(0.025, 40, "bonferroni") == pytest.approx(0.025 / 40)
    sidak = adjusted_alpha(0.025, 40, "sidak")
    assert 1 - (1 - sidak) ** 40 == pytest.approx(0.025)
    assert sidak > 0.025 / 40  # Šidák is a little less strict than Bonferroni
    assert adjusted_confidence(0.95, 40, "bonferroni") == pytest.approx(1 - 2 * 0.025 / 40)
    assert adjusted_confidence(0.95, 1, "sidak") == pytest.approx(0.95)


def _run(data: list[dict[str, object]], metrics: dict[str, object] | None = None) -> Run:
    return Run.model_validate({"schema": "gatekeeper.run/v1", "run_id": "r", "model": "m",
                               "data": data, "metrics": metrics or {}})


def _policy(**leaderboard: object) -> Policy:
    return Policy.model_validate({
        "apiVersion": "gatekeeper/v1", "metadata": {"name": "p", "version": 1},
        "metrics": [{"metric": "acc", "vs_baseline": {}}], "leaderboard": leaderboard})


A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_the_eval_set_is_its_eval_splits_by_sha() -> None:
    run = _run([{"name": "train", "split": "train", "sha256": A},
                {"name": "test", "split": "Test", "sha256": B},
                {"name": "val", "split": "validation", "sha256": C}])
    sets = identify(_policy(), run, None)
    assert sets.public is not None and sets.public.data == (B, C)
    assert sets.public.sha256 == eval_set_of(run.data[1:]).sha256  # type: ignore[union-attr]
    assert sets.sealed is None
    # Order and names do not change the identity: only the contents (sha256s) do.
    again = _run([{"name": "x", "split": "eval", "sha256": C},
                  {"name": "y", "split": "test", "sha256": B}])
    assert identify(_policy(), again, None).public.sha256 == sets.public.sha256  # type: ignore[union-attr]


def test_named_and_scored_on_entries_count_whatever_their_split() -> None:
    run = _run([{"name": "bench", "split": "train", "sha256": A},
                {"name": "scored", "split": "other", "sha256": B}],
               {"acc": {"value": 0.9, "data": "scored"}})
    sets = identify(_policy(eval_sets=["bench"]), run, None)
    assert sets.public is not None and sets.public.data == (A, B)


def test_a_renamed_split_still_counts_by_the_baselines_record() -> None:
    base = _run([{"name": "eval", "split": "test", "sha256": B}])
    head = _run([{"name": "renamed", "split": "train", "sha256": B}])
    assert identify(_policy(), head, None).public is None
    sets = identify(_policy(), head, base)
    assert sets.public is not None and sets.public.data == (B,)


def test_a_sealed_holdout_is_kept_apart_and_seals_its_metrics() -> None:
    run = _run([{"name": "eval", "split": "test", "sha256": A},
                {"name": "holdout", "split": "test", "sha256": B}],
               {"acc": {"value": 0.9, "data": "holdout"}})
    sets = identify(_policy(sealed=["holdout"]), run, None)
    assert sets.public is not None and sets.public.data == (A,)
    assert sets.sealed is not None and sets.sealed.data == (B,)
    assert sets.sealed_metrics == frozenset({"acc"})
    # Renaming the holdout in the PR does not unseal it: the baseline names it.
    base = run
    head = _run([{"name": "eval", "split": "test", "sha256": A},
                 {"name": "extra", "split": "test", "sha256": B}],
                {"acc": {"value": 0.9, "data": "extra"}})
    sets = identify(_policy(sealed=["holdout"]), head, base)
    assert sets.sealed is not None and sets.sealed_metrics == frozenset({"acc"})


def test_entries_without_a_sha_are_named_as_uncountable() -> None:
    sets = identify(_policy(), _run([{"name": "test", "split": "test"}]), None)
    assert sets.public is None and sets.unhashed == ("test",)


def test_sealed_and_eval_sets_cannot_overlap() -> None:
    with pytest.raises(ValueError, match="both eval_sets and sealed"):
        _policy(sealed=["x"], eval_sets=["x"])


def test_ladder_values_are_clean_multiples() -> None:
    for x in (0.123456, -0.987654, 0.5):
        v = ladder.toward_zero(x, 0.01)
        assert math.isclose(v * 100, round(v * 100), abs_tol=1e-9)


def test_release_leaves_a_refused_comparison_alone_and_withholds_log_ratio_values() -> None:
    from gatekeeper.checks import ids
    from gatekeeper.checks.base import check
    from gatekeeper.checks.leaderboard import _ladder_comparison

    refused = check(ids.metric("acc", "vs_baseline"), "block",
                    "no baseline to compare with (see baseline:resolve)")
    assert _ladder_comparison(refused, 0.01, []) == refused
    latency = check(ids.metric("lat", "vs_baseline"), "pass", "exact", observed=123.456,
                    baseline=150.789, delta=-0.2012, ci=(-0.2534, -0.1499), confidence=0.95,
                    method="hd-quantile", n=(500, 500), outcome="improved", scale="log_ratio",
                    p_value=0.001, mde=0.0312)
    released = _ladder_comparison(latency, 0.01, [])
    assert released.delta == -0.2 and released.ci == (-0.26, -0.14)
    assert released.observed is None and released.baseline is None
    assert released.p_value is None and released.mde == 0.04
    assert "123.456" not in released.message and "-0.2012" not in released.message
