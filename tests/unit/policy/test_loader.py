from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.policy.loader import load_policy
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
  - {check: "metric:a:min", reason: r, approved_by: al, ticket: T-1, expires: 2030-01-01}
""")
    child = write(tmp_path, "child.yaml", """metadata: {name: child, version: 2}
extends: base.yaml
metrics:
  - {metric: a, min: 0.7}
  - {metric: c, min: 1}
waivers:
  - {check: "metric:c:min", reason: r, approved_by: bo, ticket: T-2, expires: 2030-01-01}
""")
    p = load_policy(child).policy
    assert [(m.metric, m.min, m.max) for m in p.metrics] == [
        ("a", 0.7, None), ("b", None, 3.0), ("c", 1.0, None)]
    assert [w.check for w in p.waivers] == ["metric:a:min", "metric:c:min"]
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


@pytest.mark.parametrize("target", [None, "main", "release/1.0"])
def test_every_branch_override_is_validated_whatever_the_target(
    tmp_path: Path, target: str | None
) -> None:
    path = write(tmp_path, "p.yaml", """metadata: {name: p, version: 1}
metrics:
  - {metric: a, min: 0.5}
branches:
  "release/*":
    bogus: 1
""")
    with pytest.raises(PolicyError) as err:
        load_policy(path, target_branch=target)
    assert err.value.exit_code == 2
    message = str(err.value)
    assert f"{path}:8" in message and "bogus" in message and "unknown field" in message
    assert "branch override 'release/*'" in message


def test_an_override_is_validated_merged_with_the_policy(tmp_path: Path) -> None:
    """min above the base's max is valid alone but not merged: the line is the override's."""
    write(tmp_path, "base.yaml", "metadata: {name: base, version: 1}\nmetrics:\n"
          "  - {metric: a, max: 0.4}\n")
    path = write(tmp_path, "p.yaml", """metadata: {name: p, version: 1}
extends: base.yaml
branches:
  main: {envelope: {min_seeds: 3}}
  "hotfix/*":
    metrics:
      - {metric: a, min: 0.9}
""")
    with pytest.raises(PolicyError, match="min is greater than max") as err:
        load_policy(path, target_branch="main")
    assert f"{path}:9" in str(err.value) and "'hotfix/*'" in str(err.value)


@pytest.mark.parametrize(("override", "line", "fragment"), [
    ("  nightly: 3\n", 5, "must be a mapping"),
    ("  nightly:\n    extends: other.yaml\n", 6, "cannot be overridden"),
    ("  nightly:\n    envelope: {required: ['data[']}\n", 6, "data["),
])
def test_malformed_overrides_fail_on_any_branch(
    tmp_path: Path, override: str, line: int, fragment: str
) -> None:
    path = write(tmp_path, "p.yaml", "metadata: {name: p, version: 1}\nbranches:\n" + override)
    with pytest.raises(PolicyError) as err:
        load_policy(path, target_branch="main")
    assert f"{path}:{line}" in str(err.value) and fragment in str(err.value)


def test_cli_check_exits_2_for_a_bad_override_on_another_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gatekeeper.cli import main

    policy = write(tmp_path, "p.yaml", "metadata: {name: p, version: 1}\nbranches:\n"
                   "  \"release/*\": {bogus: 1}\n")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "run.yaml").write_text("schema: gatekeeper.run/v1\nrun_id: r1\nmodel: m\n"
                                     "metrics: {f1: {value: 0.9}}\n")
    assert main(["check", str(bundle), "--policy", str(policy), "--target-branch", "main"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_extends_cannot_leave_the_policy_tree(tmp_path: Path) -> None:
    inner = tmp_path / "repo"
    inner.mkdir()
    write(tmp_path, "outside.yaml", "metadata: {name: o, version: 1}\n")
    child = write(inner, "p.yaml", "metadata: {name: p, version: 1}\nextends: ../outside.yaml\n")
    with pytest.raises(PolicyError, match="leaves"):
        load_policy(child)
    # with the wider root the same file is allowed
    assert load_policy(child, root=tmp_path).policy.metadata.name == "p"
