"""The leaderboard section in the policy diff: every weakening of the guard loosens (the
gate's own list and the structured diff agree), every strengthening tightens."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gatekeeper.models.policy import Policy
from gatekeeper.policy.diff import loosenings, structured_diff

BASE: dict[str, Any] = {
    "apiVersion": "gatekeeper/v1", "kind": "Policy", "metadata": {"name": "p", "version": 1},
    "leaderboard": {"ledger": "mlflow+https://mlflow.example", "max_decisions": 50,
                    "window_days": 90, "on_exceed": "block", "release": "ladder",
                    "ladder_step": 0.01, "sealed": ["holdout"], "eval_sets": ["eval"],
                    "sweep_adjustment": "sidak"},
}

LOOSER = [
    ("budget raised", {"max_decisions": 80}, "reuse budget raised"),
    ("budget dropped", {"max_decisions": None}, "reuse budget raised"),
    ("window shortened", {"window_days": 30}, "reuse window shortened"),
    ("on_exceed softened", {"on_exceed": "warn"}, "on_exceed softened"),
    ("ladder off", {"release": "exact"}, "Ladder release turned off"),
    ("step lowered", {"ladder_step": 0.001}, "ladder step lowered"),
    ("holdout unsealed", {"sealed": []}, "sealed holdout holdout unsealed"),
    ("eval set unnamed", {"eval_sets": []}, "eval set eval no longer named"),
    ("sweep off", {"sweep_adjustment": "none"}, "sweep adjustment changed"),
    ("ledger moved", {"ledger": "file:.gatekeeper/registry"}, "usage ledger changed"),
]


def _with(change: dict[str, Any] | None) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    if change is None:
        del data["leaderboard"]
    else:
        data["leaderboard"].update(change)
    return data


def _dump(data: dict[str, Any]) -> dict[str, Any]:
    return Policy.model_validate(data).model_dump(mode="json", by_alias=True)


@pytest.mark.parametrize(("change", "words"), [(c, w) for _, c, w in LOOSER],
                         ids=[n for n, _, _ in LOOSER])
def test_each_weakening_loosens(change: dict[str, Any], words: str) -> None:
    found = loosenings(Policy.model_validate(BASE), Policy.model_validate(_with(change)))
    assert any(words in f for f in found), found
    changes = structured_diff(_dump(BASE), _dump(_with(change))).changes
    assert changes and {c.direction for c in changes} == {"loosened"}, changes


def test_removing_the_section_loosens() -> None:
    assert loosenings(Policy.model_validate(BASE), Policy.model_validate(_with(None))) == [
        "leaderboard section removed (no usage ledger, budget or Ladder)"]
    changes = structured_diff(_dump(BASE), _dump(_with(None))).changes
    assert [(c.rule, c.direction) for c in changes] == [("leaderboard section removed",
                                                         "loosened")]


@pytest.mark.parametrize("change", [
    {"max_decisions": 20}, {"window_days": 365}, {"ladder_step": 0.02},
    {"sweep_adjustment": "bonferroni"}, {"sealed": ["holdout", "canary"]},
])
def test_strengthening_tightens(change: dict[str, Any]) -> None:
    assert loosenings(Policy.model_validate(BASE), Policy.model_validate(_with(change))) == []
    changes = structured_diff(_dump(BASE), _dump(_with(change))).changes
    assert {c.direction for c in changes} == {"tightened"}, changes


def test_adding_the_section_tightens() -> None:
    changes = structured_diff(_dump(_with(None)), _dump(BASE)).changes
    assert [(c.rule, c.direction) for c in changes] == [("leaderboard section added",
                                                         "tightened")]
