"""The gate's own list of loosenings (what makes ``policy:approval`` block on a pull request)
must name every change that ``gatekeeper policy diff`` classifies as loosened: a field only the
diff knows is a loosening a PR gets through without approval.

Every leaf of a full policy (defaults filled in, so fields the author never wrote are edited
too) is changed in every way that still validates, one at a time, and both readings compared.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from gatekeeper.models.policy import Policy
from gatekeeper.policy.changes import _loosened
from gatekeeper.policy.diff import structured_diff
from tests.unit.policy.test_diff import BASE

Data = dict[str, Any]
WORDS = ("pass", "warn", "block", "error", "fail", "drop", "advisory", "soft", "hard",
         "superior", "non_inferior", "holm", "bh", "bonferroni", "none", "staging", "other")
SKIP = {"apiVersion", "kind", "metadata", "extends"}


def full(data: Data) -> Data:
    dumped: Data = Policy.model_validate(data).model_dump(mode="json", by_alias=True)
    return dumped


def _values(value: Any) -> list[Any]:
    """Other values for one leaf: numbers moved both ways, switches flipped, other words."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int | float):
        return [value * 0.5, value * 2, value + 1, value - 1, 0, 0.999]
    if isinstance(value, str):
        return [w for w in WORDS if w != value]
    if value is None:
        return [0.5, 2, True, "block", "warn", "other", "2026-12-31"]
    return []


def mutations(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, new value or a deletion marker) for every leaf and every list item."""
    if isinstance(data, dict):
        for key, value in data.items():
            if path or key not in SKIP:
                yield (*path, key), DELETE
                yield from mutations(value, (*path, key))
        return
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield (*path, i), DELETE
            yield from mutations(item, (*path, i))
        return
    for value in _values(data):
        yield path, value


DELETE = object()


def apply(data: Data, path: tuple[Any, ...], value: Any) -> Data:
    out = copy.deepcopy(data)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _policy(extra: Data) -> Data:
    # Fields BASE leaves at their defaults, written out so that their edits are tried too.
    data = copy.deepcopy(BASE)
    data.update(extra)
    return full(data)


RICH: Data = {
    "approvers": ["alice", "bob"],
    "waivers": [{"check": "budget:error_rate", "reason": "r", "approved_by": "alice",
                 "ticket": "ML-1", "expires": "2026-12-31"}],
    "judge": {"pin": {"model": "j", "temperature": 0}, "metrics": ["accuracy"],
              "on_mismatch": "block"}}
HARD = copy.deepcopy(BASE)
for rule in [*HARD["metrics"], *HARD["budgets"]]:
    rule["enforcement"] = "hard"
HARD["metrics"][0]["vs_baseline"].update(missing="drop", max_missing_fraction=0.05)
HARD["baseline"].update(on_unverified="block", version="7", max_age_days=None)
POLICIES = {"rich": _policy(RICH), "hard": full({**HARD, **RICH, "waivers": []})}


def inert(data: Data, path: tuple[Any, ...]) -> bool:
    """Edits the diff flags that change nothing the gate does: ``max_missing_fraction`` only
    applies with ``missing: drop`` (a change of ``missing`` is judged on its own)."""
    if path[-1:] != ("max_missing_fraction",):
        return False
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    return bool(node.get("missing") == "fail")


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_loosening_the_diff_sees_the_gate_sees(name: str) -> None:
    base = POLICIES[name]
    old = Policy.model_validate(base)
    missed: list[str] = []
    tried = 0
    for path, value in mutations(base):
        edited = apply(base, path, value)
        try:
            new = Policy.model_validate(edited)
        except ValueError:
            continue  # a head that does not load loosens nothing: the base gates
        tried += 1
        diff = structured_diff(base, full(edited))
        loose = [c for c in diff.changes if c.direction == "loosened"]
        if loose and not _loosened(old, new) and not inert(edited, path):
            missed.append(f"{'.'.join(map(str, path))} -> "
                          f"{'deleted' if value is DELETE else value!r}: "
                          f"{[c.rule for c in loose]}")
    assert tried > 300, tried  # the edits did reach the fields
    assert not missed, "\n".join(missed)
