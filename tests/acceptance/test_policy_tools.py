"""`gatekeeper policy validate|show|diff` and `gatekeeper test`, end to end through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, POLICIES, ROOT, Result

Cli = Callable[..., Result]

BAD = """apiVersion: gatekeeper/v1
kind: Policy
metadata:
  name: bad
  version: 1
baseline:
  alias: production
  on_mising: warn
metrics:
  - metric: accuracy
    min: 0.9
    on_inconclussive: block
  - metric: f1
    min: 0.5
    on_fail: maybe
envelope:
  min_seeds: -1
"""


def test_validate_reports_every_problem_with_its_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    res = cli("policy", "validate", str(bad), "policies/default.yaml")
    assert res.code == 2
    lines = res.out.splitlines()
    assert f"{bad}:8: baseline.on_mising: unknown field: did you mean `on_missing`?" in lines
    assert (f"{bad}:12: metrics[0].on_inconclussive: unknown field: did you mean "
            "`on_inconclusive`?") in lines
    assert any(line.startswith(f"{bad}:15: metrics[1].on_fail: ") for line in lines)
    assert any(line.startswith(f"{bad}:17: envelope.min_seeds: ") for line in lines)
    assert "ok policies/default.yaml" in lines
    assert len(lines) == 5


def test_validate_accepts_policies_run_files_and_bundles(cli: Cli) -> None:
    res = cli("policy", "validate", *(str(p.relative_to(ROOT)) for p in
                                      sorted(POLICIES.glob("*.yaml"))),
              "examples/bundles/pass", "examples/bundles/warn/run.yaml")
    assert res.code == 0, res.out
    assert res.out.splitlines() == [
        "ok policies/default.yaml", "ok policies/llm-app.yaml", "ok policies/release.yaml",
        "ok examples/bundles/pass", "ok examples/bundles/warn/run.yaml"]


def test_validate_checks_a_run_file_and_its_override(cli: Cli, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(EXAMPLES / "bundles" / "pass", bundle)
    run = bundle / "run.yaml"
    run.write_text(run.read_text().replace("run_id:", "run_idd:"))
    policy = tmp_path / "p.yaml"
    policy.write_text((POLICIES / "default.yaml").read_text()
                      + 'branches:\n  "release/*":\n    envelope: {min_sedes: 3}\n')
    res = cli("policy", "validate", str(bundle), str(policy))
    assert res.code == 2
    assert "run_idd: unknown field: did you mean `run_id`?" in res.out
    assert ("with the branch override 'release/*': unknown field: did you mean `min_seeds`?"
            in res.out)


def test_skip_unknown_leaves_other_yaml_alone(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "ci.yaml"
    other.write_text("jobs: {}\n")
    assert cli("policy", "validate", "--skip-unknown", str(other)).out == ""
    assert cli("policy", "validate", str(other)).code == 2


def test_show_annotates_each_leaf_with_its_origin(cli: Cli) -> None:
    res = cli("policy", "show", "policies/release.yaml", "--target-branch", "release/1")
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert "  on_unverified: \"block\"  # policies/release.yaml:11" in lines
    assert "  registry: \"file:examples/registry\"  # policies/default.yaml:11" in lines
    assert "  on_registry_error: \"error\"  # (default)" in lines
    # The release override's confidence, not the default policy's.
    assert any("confidence: 0.99  # policies/release.yaml:23" in line for line in lines)
    from gatekeeper.policy.loader import load_policy

    effective = load_policy(POLICIES / "release.yaml", target_branch="release/1").policy
    expected = effective.model_dump(mode="json", by_alias=True, exclude={"extends"})
    assert yaml.safe_load(res.out) == expected


def test_show_json_gives_value_file_line(cli: Cli) -> None:
    res = cli("policy", "show", "policies/release.yaml", "--format", "json")
    data = json.loads(res.out)
    assert data["metrics"][0]["min"] == {"value": 0.86, "file": "policies/release.yaml",
                                         "line": 18}
    assert data["envelope"]["min_seeds"] == {"value": 5, "file": "policies/default.yaml",
                                             "line": 21}
    assert data["stats"]["seed"] == {"value": 0, "file": None, "line": None}


def test_diff_of_two_files_in_every_format(cli: Cli, tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text((POLICIES / "default.yaml").read_text().replace("min: 0.85", "min: 0.8"))
    res = cli("policy", "diff", "policies/default.yaml", str(new), "--format", "json")
    assert res.code == 1  # meaning changed, version not bumped
    assert json.loads(res.out) == {"version_bumped": False, "changes": [{
        "path": "metrics.accuracy.min", "rule": "floor lowered", "before": 0.85, "after": 0.8,
        "direction": "loosened", "file": str(new), "line": 26}]}
    text = cli("policy", "diff", "policies/default.yaml", str(new)).out
    assert text.splitlines()[0].startswith("loosened: floor lowered: metrics.accuracy.min")
    md = cli("policy", "diff", "policies/default.yaml", str(new), "--format", "markdown").out
    assert "| loosened | floor lowered | `metrics.accuracy.min` |" in md
    new.write_text(new.read_text().replace("version: 1", "version: 2"))
    bumped = cli("policy", "diff", "policies/default.yaml", str(new), "--format", "json")
    assert bumped.code == 0 and json.loads(bumped.out)["version_bumped"] is True


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                        "HOME": str(repo), "PATH": "/usr/bin:/bin"})


def test_diff_against_a_base_ref_reads_the_whole_chain(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(POLICIES, repo / "policies", ignore=shutil.ignore_patterns("tests"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "policies")
    parent = repo / "policies" / "default.yaml"
    # Only the parent changes: the child's effective policy loosens.
    parent.write_text(parent.read_text().replace("margin: 0.005", "margin: 0.05"))
    res = cli("policy", "diff", "--base-ref", "main", str(repo / "policies" / "release.yaml"),
              "--format", "json")
    assert res.code == 1, res.err
    (change,) = json.loads(res.out)["changes"]
    assert change["path"] == "metrics.exact_match.vs_baseline.margin"
    assert (change["rule"], change["direction"]) == ("margin widened", "loosened")
    assert change["file"].endswith("default.yaml")
    same = cli("policy", "diff", "--base-ref", "HEAD", str(repo / "policies" / "release.yaml"))
    assert same.code == 1  # the working tree, not HEAD, is the new side
    _git(repo, "commit", "-qam", "wider margin")
    assert cli("policy", "diff", "--base-ref", "HEAD",
               str(repo / "policies" / "release.yaml")).code == 0


def test_policy_unit_tests_shipped_with_the_repository_pass(cli: Cli) -> None:
    res = cli("test", "policies/")
    assert res.code == 0, res.out
    lines = res.out.splitlines()
    assert lines[-1] == f"{len(list((POLICIES / 'tests').glob('*.yaml')))} passed, 0 failed"
    assert all(line.startswith("PASS ") for line in lines[:-1])


@pytest.fixture
def wrong_case(tmp_path: Path) -> Path:
    tests = tmp_path / "policies" / "tests"
    tests.mkdir(parents=True)
    shutil.copy(POLICIES / "default.yaml", tmp_path / "policies" / "default.yaml")
    case = tests / "wrong.yaml"
    case.write_text(f"""bundle: {EXAMPLES / 'bundles' / 'warn'}
registry: file:{EXAMPLES / 'registry'}
as_of: 2026-11-26
expect:
  verdict: pass
  checks:
    "metric:accuracy:min": pass
    "metric:exact_match:vs_baseline": pass
""")
    return case


def test_a_wrong_expectation_fails_readably(cli: Cli, wrong_case: Path) -> None:
    res = cli("test", str(wrong_case.parent.parent))
    assert res.code == 1
    lines = res.out.splitlines()
    assert lines[0] == f"FAIL {wrong_case}"
    assert any(line.split() == ["!=verdict", "pass", "warn"] for line in lines)
    assert any(line.split() == ["!=metric:exact_match:vs_baseline", "pass", "warn"]
               for line in lines)
    assert any(line.split() == ["metric:accuracy:min", "pass", "pass"] for line in lines)
    assert lines[-1] == "0 passed, 1 failed"


def test_junit_output(cli: Cli, wrong_case: Path) -> None:
    import xml.etree.ElementTree as ET

    res = cli("test", str(wrong_case), "--format", "junit")
    assert res.code == 1
    xml_text, summary = res.out.rsplit("\n", 2)[0], res.out.splitlines()[-1]
    suite = ET.fromstring(xml_text)
    assert suite.get("tests") == "1" and suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and "exact_match" in (failure.text or "")
    assert summary == "0 passed, 1 failed"


def test_a_case_that_cannot_run_is_a_failure(cli: Cli, tmp_path: Path) -> None:
    case = tmp_path / "tests" / "broken.yaml"
    case.parent.mkdir()
    case.write_text("bundle: nowhere\nexpect: {verdict: pass}\n")
    res = cli("test", str(case))
    assert res.code == 1
    assert "error:" in res.out and res.out.splitlines()[-1] == "0 passed, 1 failed"


@pytest.mark.parametrize("name", ["default", "llm-app", "release"])
def test_show_loads_back_to_the_effective_policy(cli: Cli, name: str) -> None:
    from gatekeeper.policy.loader import load_policy

    res = cli("policy", "show", f"policies/{name}.yaml")
    effective = load_policy(POLICIES / f"{name}.yaml").policy
    assert yaml.safe_load(res.out) == effective.model_dump(mode="json", by_alias=True,
                                                           exclude={"extends"})
    leaves = [line for line in res.out.splitlines() if not line.endswith((":", "-"))]
    assert leaves and all("  # " in line for line in leaves)


def test_validate_names_the_parent_file_for_a_problem_in_a_parent(cli: Cli,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text(BAD)
    child = tmp_path / "child.yaml"
    child.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: c, version: 1}\n"
                     "extends: parent.yaml\n")
    res = cli("policy", "validate", str(child))
    assert res.code == 2
    parent = tmp_path / "parent.yaml"
    assert f"{parent}:8: baseline.on_mising: unknown field: did you mean `on_missing`?" in \
        res.out.splitlines()
