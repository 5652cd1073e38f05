"""On a PR the policy comes from the base branch: a real git repository in a temp folder."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AS_OF, EXAMPLES, run_subprocess

POLICY = """apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: repo-policy, version: 1}
envelope:
  required: [code.commit, seeds]
metrics:
  - {metric: accuracy, min: FLOOR}
approvers: [alice]
"""


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                               "HOME": str(repo), "PATH": "/usr/bin:/bin"})
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "policies").mkdir()
    (root / "policies" / "gate.yaml").write_text(POLICY.replace("FLOOR", "0.95"))
    shutil.copytree(EXAMPLES / "bundles" / "pass", root / "bundle")
    git(root, "add", ".")
    git(root, "commit", "-qm", "policy on main")
    git(root, "checkout", "-qb", "pr")
    return root


def check(repo: Path, *extra: str) -> dict[str, object]:
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--format", "json",
                         "--as-of", AS_OF, *extra, cwd=repo)
    assert res.code in (0, 1), res.err
    data: dict[str, object] = json.loads(res.out)
    return data


def test_pr_that_loosens_the_policy_is_gated_by_the_base_version(repo: Path) -> None:
    (repo / "policies" / "gate.yaml").write_text(POLICY.replace("FLOOR", "0.5"))
    git(repo, "commit", "-qam", "PR lowers the floor")
    head_only = check(repo)
    assert head_only["verdict"] == "pass"  # the PR's own policy would let it through
    gated = check(repo, "--base-ref", "main")
    assert gated["verdict"] == "block"  # the base floor of 0.95 holds
    checks = {c["id"]: c for c in gated["checks"]}  # type: ignore[union-attr]
    assert checks["metric:accuracy:min"]["threshold"] == 0.95
    loosened = checks["policy:loosened"]
    assert loosened["status"] == "warn"
    assert "floor lowered from 0.95 to 0.5" in loosened["message"]
    assert any(n.startswith("-  - {metric: accuracy, min: 0.95}") for n in loosened["notes"])
    # Locally there is no platform to read approvals from: the loosening blocks, saying so.
    approval = checks["policy:approval"]
    assert approval["status"] == "block"
    assert "no GitHub settings or token" in approval["message"]


def test_pr_that_tightens_the_policy_is_reported_not_flagged(repo: Path) -> None:
    (repo / "policies" / "gate.yaml").write_text(POLICY.replace("FLOOR", "0.97"))
    git(repo, "commit", "-qam", "PR raises the floor")
    gated = check(repo, "--base-ref", "main")
    checks = {c["id"]: c for c in gated["checks"]}  # type: ignore[union-attr]
    assert checks["policy:changed"]["status"] == "pass"
    assert checks["metric:accuracy:min"]["threshold"] == 0.95


def test_policy_added_by_the_pr_needs_approval(repo: Path) -> None:
    (repo / "policies" / "new.yaml").write_text(POLICY.replace("FLOOR", "0.1"))
    res = run_subprocess("check", "bundle", "--policy", "policies/new.yaml", "--format", "json",
                         "--as-of", AS_OF, "--base-ref", "main", cwd=repo)
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    assert checks["policy:changed"]["status"] == "warn"
    assert "does not exist on the base" in checks["policy:changed"]["message"]


def test_unknown_base_ref_is_a_clear_error(repo: Path) -> None:
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml",
                         "--base-ref", "nope", cwd=repo)
    assert res.code == 2 and "'nope' is not in the checkout" in res.err


def test_markdown_report_shows_the_policy_diff(repo: Path) -> None:
    import cmarkgfm

    (repo / "policies" / "gate.yaml").write_text(POLICY.replace("FLOOR", "0.5"))
    git(repo, "commit", "-qam", "PR lowers the floor")
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--format",
                         "markdown", "--as-of", AS_OF, "--base-ref", "main", cwd=repo)
    assert "<summary><b>Policy change</b>" in res.out
    assert "-  - {metric: accuracy, min: 0.95}" in res.out
    assert "+  - {metric: accuracy, min: 0.5}" in res.out
    html = cmarkgfm.github_flavored_markdown_to_html(res.out)
    assert '<pre lang="diff"><code>' in html


def _event_env(repo: Path, tmp: Path, name: str, payload: dict[str, object]) -> dict[str, str]:
    import os

    path = tmp / f"{name}.json"
    path.write_text(json.dumps(payload))
    return {**os.environ, "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path),
            "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": git(repo, "rev-parse", "HEAD").strip(),
            "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "GITHUB_OUTPUT": str(tmp / "out")}


@pytest.mark.parametrize("event", ["merge_group", "push"])
def test_merge_queue_and_push_are_gated_by_the_commit_they_land_on(
        repo: Path, tmp_path: Path, event: str) -> None:
    """The commit under test loosens the policy; the merge group's base (or the push's
    'before') still gates it, exactly as the pull request did."""
    base = git(repo, "rev-parse", "main").strip()
    (repo / "policies" / "gate.yaml").write_text(POLICY.replace("FLOOR", "0.5"))
    git(repo, "commit", "-qam", "loosen the floor")
    head = git(repo, "rev-parse", "HEAD").strip()
    payload: dict[str, object] = (
        {"merge_group": {"head_sha": head, "base_sha": base, "base_ref": "refs/heads/main",
                         "head_ref": "refs/heads/gh-readonly-queue/main/pr-1-" + base}}
        if event == "merge_group" else
        {"ref": "refs/heads/main", "before": base, "after": head})
    env = _event_env(repo, tmp_path, event, payload)
    env.pop("GITHUB_TOKEN", None)
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--as-of", AS_OF,
                         "--github", "--output-dir", str(tmp_path / "out-dir"), cwd=repo, env=env)
    assert res.code == 1, res.err
    verdict = json.loads((tmp_path / "out-dir" / "verdict.json").read_text())
    checks = {c["id"]: c for c in verdict["checks"]}
    assert checks["metric:accuracy:min"]["threshold"] == 0.95  # the base's floor
    assert checks["policy:loosened"]["status"] == "warn"


def test_a_push_that_creates_a_branch_stops_rather_than_trusting_itself(
        repo: Path, tmp_path: Path) -> None:
    env = _event_env(repo, tmp_path, "push", {"ref": "refs/heads/release/9",
                                             "before": "0" * 40, "after": "b" * 40})
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--github",
                         "--as-of", AS_OF, cwd=repo, env=env)
    assert res.code == 2 and "push that creates a branch has none" in res.err
    assert "Traceback" not in res.err


def test_annotations_on_a_pr_name_a_head_path_and_only_lines_that_exist_there(
        repo: Path) -> None:
    """The base version gates, but an annotation must attach to a file of the head commit:
    'policies/gate.yaml@<sha>' is no path, and a line of a changed file may point elsewhere."""
    same = check(repo, "--base-ref", "main")
    floor = {c["id"]: c for c in same["checks"]}["metric:accuracy:min"]  # type: ignore[union-attr]
    assert floor["source"] == {"file": "policies/gate.yaml", "line": 7}
    assert same["gate"]["base_ref"] == "main"  # type: ignore[index]
    (repo / "policies" / "gate.yaml").write_text("# moved down\n" + POLICY.replace("FLOOR", "0.95"))
    git(repo, "commit", "-qam", "PR moves the lines")
    moved = check(repo, "--base-ref", "main")
    floor = {c["id"]: c for c in moved["checks"]}["metric:accuracy:min"]  # type: ignore[union-attr]
    assert floor["source"] == {"file": "policies/gate.yaml"}  # no line that would mislead


def test_the_printed_replay_command_gives_the_same_bytes_in_pr_mode(
        repo: Path, tmp_path: Path) -> None:
    """A verdict on a PR (base ref, a --registry override, a target branch) names every input
    in its replay command; running that command gives verdict.json again, byte for byte."""
    import shlex

    shutil.copytree(EXAMPLES / "registry", repo / "registry")
    (repo / "policies" / "gate.yaml").write_text(POLICY.replace("FLOOR", "0.5"))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "PR")
    out = tmp_path / "out"
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--as-of", AS_OF,
                         "--base-ref", "main", "--registry", "file:registry",
                         "--target-branch", "main", "--output-dir", str(out), cwd=repo)
    assert res.code in (0, 1), res.err
    report = (out / "report.md").read_text()
    [line] = [x for x in report.splitlines() if x.startswith("gatekeeper check ")]
    argv = shlex.split(line)
    assert argv[argv.index("--base-ref"):argv.index("--base-ref") + 2] == ["--base-ref", "main"]
    assert "--registry" in argv and "--as-of" in argv
    again = run_subprocess(*argv[1:], cwd=repo)
    assert again.out == (out / "verdict.json").read_text()
