"""A rule's ``reduce`` (which value of a series it judges) in policy validation and diffs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.models.policy import Policy
from gatekeeper.policy.diff import loosenings, structured_diff
from gatekeeper.policy.validate import validate

BASE: dict[str, Any] = {
    "apiVersion": "gatekeeper/v1", "kind": "Policy", "metadata": {"name": "p", "version": 1},
    "metrics": [{"metric": "loss", "higher_is_better": False, "reduce": "final", "max": 0.5}],
}


def with_reduce(value: str | None) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    if value is None:
        del data["metrics"][0]["reduce"]
    else:
        data["metrics"][0]["reduce"] = value
    return data


def structured(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    dump = lambda d: Policy.model_validate(d).model_dump(mode="json", by_alias=True)  # noqa: E731
    return [(c.path, c.rule, c.direction) for c in structured_diff(dump(old), dump(new)).changes]


@pytest.mark.parametrize(("old", "new", "rule", "direction"), [
    # the best value is at least as good as the final one: judging it instead loosens
    ("final", "best", "series reduction changed", "loosened"),
    ("best", "final", "series reduction final instead of best", "tightened"),
    # which number the rule judges changes: an approver should see it
    ("final", None, "series reduction changed", "loosened"),
    (None, "final", "series reduction changed", "loosened"),
])
def test_a_change_of_reduction_is_classified(old: str | None, new: str | None, rule: str,
                                             direction: str) -> None:
    assert structured(with_reduce(old), with_reduce(new)) == [
        ("metrics.loss.reduce", rule, direction)]


def test_the_gate_lists_final_to_best_as_a_loosening_and_not_the_reverse() -> None:
    final, best = Policy.model_validate(with_reduce("final")), \
        Policy.model_validate(with_reduce("best"))
    assert loosenings(final, best) == ["loss: series reduction changed from final to best"]
    assert loosenings(best, final) == []
    assert loosenings(final, Policy.model_validate(with_reduce(None))) == [
        "loss: series reduction changed from final to none"]


def test_a_misspelt_reduction_gets_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
                    "metrics:\n"
                    "  - {metric: loss, higher_is_better: false, reduce: bets, max: 0.5}\n"
                    "  - {metric: acc, reduc: final, min: 0.5}\n")
    found = [p.render() for p in validate(path)]
    assert found == [
        f"{path}:5: metrics[0].reduce: Input should be 'final' or 'best': did you mean `best`?",
        f"{path}:6: metrics[1].reduc: unknown field: did you mean `reduce`?",
    ]


def test_a_reduction_far_from_any_choice_gets_no_guess(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
                    "metrics:\n  - {metric: loss, reduce: mean, max: 0.5}\n")
    assert [p.message for p in validate(path)] == ["Input should be 'final' or 'best'"]
