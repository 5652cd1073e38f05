"""The reproducibility section of a policy: its tolerance per metric, and a change that drops
the replay requirement or widens a tolerance counts as a loosening (it needs approval)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.models.policy import Policy
from gatekeeper.policy.diff import loosenings
from gatekeeper.policy.loader import load_policy

HEAD = """\
apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: p, version: 1}
metrics: [{metric: acc, min: 0.5}]
"""


def _policy(tmp_path: Path, name: str, extra: str) -> Policy:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD + extra)
    return load_policy(path).policy


def test_a_tolerance_per_metric_and_zero_for_the_rest(tmp_path: Path) -> None:
    rule = _policy(tmp_path, "a", "reproducibility: {replay_tolerance: {acc: 0.01}}\n")
    assert rule.reproducibility is not None
    assert rule.reproducibility.tolerance("acc") == 0.01
    assert rule.reproducibility.tolerance("f1") == 0.0
    one = _policy(tmp_path, "b", "reproducibility: {replay_tolerance: 0.002}\n")
    assert one.reproducibility is not None and one.reproducibility.tolerance("f1") == 0.002


@pytest.mark.parametrize("bad", ["{replay_tolerance: -0.1}", "{replay_tolerance: {acc: -1}}",
                                 "{require_replay: yes please}", "{replay_tolerence: 0.1}"])
def test_a_bad_reproducibility_section_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(PolicyError):
        _policy(tmp_path, "bad", f"reproducibility: {bad}\n")


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("reproducibility: {require_replay: true}\n", "", ["a replay record is no longer required"]),
    ("reproducibility: {replay_tolerance: {acc: 0.01}}\n",
     "reproducibility: {replay_tolerance: {acc: 0.05}}\n",
     ["replay tolerance of acc raised from 0.01 to 0.05"]),
    ("", "reproducibility: {replay_tolerance: 0.1}\n",
     ["replay tolerance of other metrics raised from 0 to 0.1"]),
    ("reproducibility: {require_replay: true}\n",
     "reproducibility: {require_replay: true, on_missing_replay: warn}\n",
     ["on_missing_replay weakened from block to warn"]),
    ("reproducibility: {replay_tolerance: 0.1}\n", "", []),
])
def test_loosening_the_replay_rules_is_flagged(tmp_path: Path, before: str, after: str,
                                               expected: list[str]) -> None:
    base = _policy(tmp_path, "base", before)
    head = _policy(tmp_path, "head", after)
    assert loosenings(base, head) == expected
