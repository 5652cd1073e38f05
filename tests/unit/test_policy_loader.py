from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.policy import load_policy
from tests.conftest import POLICIES

HEAD = "apiVersion: gatekeeper/v1\nkind: Policy\n"


def write(tmp: Path, name: str, body: str) -> Path:
    path = tmp / name
    path.write_text(HEAD + body)
    return path


@pytest.mark.parametrize("name", sorted(p.name for p in POLICIES.glob("*.yaml")))
def test_shipped_policies_load(name: str) -> None:
    loaded = load_policy(POLICIES / name, target_branch="release/1.0")
    assert loaded.policy.metadata.name
    assert len(loaded.sha256) == 64


def test_extends_merges_metrics_by_name_and_accumulates_waivers(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", """metadata: {name: base, version: 1}
metrics:
  - {metric: a, min: 0.5}
  - {metric: b, max: 3}
waivers:
  - {check: "x", reason: r, approved_by: al, expires: 2030-01-01}
""")
    child = write(tmp_path, "child.yaml", """metadata: {name: child, version: 2}
extends: base.yaml
metrics:
  - {metric: a, min: 0.7}
  - {metric: c, min: 1}
waivers:
  - {check: "y", reason: r, approved_by: bo, expires: 2030-01-01}
""")
    p = load_policy(child).policy
    assert [(m.metric, m.min, m.max) for m in p.metrics] == [
        ("a", 0.7, None), ("b", None, 3.0), ("c", 1.0, None)]
    assert [w.check for w in p.waivers] == ["x", "y"]
    assert p.metadata.name == "child"


def test_branch_override_applies_only_to_matching_branch(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", """metadata: {name: p, version: 1}
metrics:
  - {metric: a, min: 0.5}
branches:
  "release/*":
    metrics:
      - {metric: a, min: 0.9}
""")
    assert load_policy(path).policy.metrics[0].min == 0.5
    assert load_policy(path, target_branch="main").policy.metrics[0].min == 0.5
    rel = load_policy(path, target_branch="release/2.0")
    assert rel.policy.metrics[0].min == 0.9
    assert rel.branch_patterns == ("release/*",)
    assert rel.sha256 != load_policy(path).sha256


def test_error_in_extended_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "metadata: {name: base, version: 1}\nmetrics:\n"
          "  - {metric: a, mni: 0.5}\n")
    child = write(tmp_path, "child.yaml", "metadata: {name: c, version: 1}\nextends: base.yaml\n")
    with pytest.raises(PolicyError) as err:
        load_policy(child)
    assert "base.yaml:5" in str(err.value)
    assert "metrics[0].mni" in str(err.value)


def test_self_extends_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "metadata: {name: p, version: 1}\nextends: p.yaml\n")
    with pytest.raises(PolicyError, match="extends cycle"):
        load_policy(path)


def test_branch_override_cannot_change_extends(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "metadata: {name: p, version: 1}\nbranches:\n"
                 "  main: {extends: other.yaml}\n")
    with pytest.raises(PolicyError, match="cannot be overridden"):
        load_policy(path, target_branch="main")


def test_rule_without_any_limit_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "metadata: {name: p, version: 1}\nmetrics:\n"
                 "  - {metric: a}\n")
    with pytest.raises(PolicyError, match="needs min, max or vs_baseline"):
        load_policy(path)
