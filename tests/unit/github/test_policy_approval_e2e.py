"""Policy changes on a pull request, end to end: a real git repository, a real webhook payload
and the OpenAPI-validated local GitHub answering the pull request reviews API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_github import FakeGitHub, event_copy
from helpers_github import pr_environ, use_environ

from gatekeeper.cli import main
from tests.policy_repos import base, commit, gate, git, make_repo

PR = 2  # the number in pull_request.opened.1.json
BASE = base()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"policies/base.yaml": BASE,
                                         "policies/gate.yaml": gate()})


def review(github: FakeGitHub, repo: Path, login: str, state: str) -> None:
    """A review of the PR's current head commit."""
    github.add_review(PR, login, state, commit_id=git(repo, "rev-parse", "HEAD").strip())


def run_check(repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
              policy: str = "policies/gate.yaml", queue: bool = False, push: bool = False
              ) -> tuple[int, dict[str, Any]]:
    base_sha = git(repo, "rev-parse", "main").strip()
    head_sha = git(repo, "rev-parse", "HEAD").strip()

    def edit(event: dict[str, Any]) -> None:
        event["pull_request"]["base"]["sha"] = base_sha
        event["pull_request"]["head"]["sha"] = head_sha

    environ = pr_environ(tmp_path, github)
    edited = tmp_path / "edited"
    edited.mkdir(exist_ok=True)
    environ["GITHUB_EVENT_PATH"] = str(event_copy(edited, "pull_request.opened.1.json", edit))
    if queue:  # the merge queue tests the PR's commit on top of the base
        queue_ref = f"refs/heads/gh-readonly-queue/main/pr-{PR}-{base_sha}"
        group = {"merge_group": {"head_sha": head_sha, "base_sha": base_sha,
                                 "base_ref": "refs/heads/main", "head_ref": queue_ref}}
        (edited / "merge_group.json").write_text(json.dumps(group))
        environ.update(GITHUB_EVENT_NAME="merge_group", GITHUB_SHA=head_sha,
                       GITHUB_EVENT_PATH=str(edited / "merge_group.json"))
    if push:  # the PR was merged: the push to main lands its commit
        pushed = {"ref": "refs/heads/main", "before": base_sha, "after": head_sha}
        (edited / "push.json").write_text(json.dumps(pushed))
        environ.update(GITHUB_EVENT_NAME="push", GITHUB_SHA=head_sha,
                       GITHUB_EVENT_PATH=str(edited / "push.json"))
    use_environ(monkeypatch, environ)
    monkeypatch.chdir(repo)
    out = tmp_path / "out"
    code = main(["check", "bundle", "--policy", policy, "--github", "--comment", "off",
                 "--as-of", "2026-11-26", "--output-dir", str(out)])
    verdict = json.loads((out / "verdict.json").read_text())
    return code, {c["id"]: c for c in verdict["checks"]}


def test_an_unbumped_change_of_meaning_blocks(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.6")})  # tighter, version still 1
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1
    assert checks["policy:version"]["status"] == "block"
    assert "policies/gate.yaml (version 1)" in checks["policy:version"]["message"]
    assert checks["policy:changed"]["status"] == "pass"
    assert "policy:approval" not in checks  # tightening needs no approval


def test_a_bumped_tightening_passes_and_comments_change_nothing(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.6", version="2"),
                  "policies/base.yaml": BASE + "# a comment changes no meaning\n"})
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 0
    assert checks["policy:version"]["status"] == "pass"
    notes = "\n".join(checks["policy:changed"]["notes"])
    assert "diff of policies/gate.yaml" in notes and "diff of policies/base.yaml" in notes


def test_a_parent_edit_is_checked_and_its_version_must_grow(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/base.yaml": BASE.replace("[code.commit]", "[code.commit, seeds]"),
                  "policies/gate.yaml": gate(version="2")})
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1
    version = checks["policy:version"]
    assert version["status"] == "block" and "policies/base.yaml (version 1)" in version["message"]
    assert "policies/gate.yaml" not in version["message"]  # its version grew
    assert any("+  required: [code.commit, seeds]" in n for n in checks["policy:changed"]["notes"])


def test_a_loosening_blocks_until_an_approver_approves(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1
    approval = checks["policy:approval"]
    assert approval["status"] == "block" and "alice, bob" in approval["message"]
    assert checks["policy:loosened"]["status"] == "warn"
    assert github.requests("GET", rf".*/pulls/{PR}/reviews")

    review(github, repo, "mallory", "APPROVED")  # not an approver
    review(github, repo, "alice", "APPROVED")
    review(github, repo, "alice", "DISMISSED")  # her approval was dismissed
    review(github, repo, "bob", "COMMENTED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1 and checks["policy:approval"]["status"] == "block"

    review(github, repo, "bob", "APPROVED")
    review(github, repo, "bob", "COMMENTED")  # a comment does not withdraw an approval
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    approval = checks["policy:approval"]
    assert approval["status"] == "pass" and "approved by bob" in approval["message"]
    assert checks["policy:loosened"]["status"] == "pass"
    assert checks["metric:accuracy:min"]["threshold"] == 0.5  # the base version still gates
    assert not github.errors


def test_approvals_come_from_the_base_policy_not_the_pr(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")
                  + "approvers: [mallory]\n"})
    review(github, repo, "mallory", "APPROVED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1
    assert checks["policy:approval"]["status"] == "block"
    assert "approvers changed: mallory added" in checks["policy:loosened"]["message"]


def test_a_new_policy_file_blocks_until_an_approver_of_its_base_parent_approves(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    # the new file names its own approver: it does not count, the PR wrote it
    commit(repo, {"policies/new.yaml": gate(floor="0.1") + "approvers: [mallory]\n"})
    review(github, repo, "mallory", "APPROVED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch, policy="policies/new.yaml")
    assert code == 1
    approval = checks["policy:approval"]
    assert approval["status"] == "block"
    assert "adds policies/new.yaml (approvers from policies/base.yaml on the base)" in (
        approval["message"])
    assert "alice, bob" in approval["message"]

    review(github, repo, "bob", "APPROVED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch, policy="policies/new.yaml")
    assert code == 0, checks
    assert "approved by bob" in checks["policy:approval"]["message"]


def test_a_new_policy_with_no_parent_on_the_base_blocks_for_good(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    # its parent is new too: nobody on the base can vouch for it
    commit(repo, {"policies/new.yaml": gate(floor="0.1").replace("base.yaml", "newbase.yaml"),
                  "policies/newbase.yaml": BASE.replace("[alice, bob]", "[mallory]")})
    review(github, repo, "mallory", "APPROVED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch, policy="policies/new.yaml")
    assert code == 1
    assert checks["policy:approval"]["status"] == "block"
    assert "the base policy lists no approvers" in checks["policy:approval"]["message"]


def test_the_merge_queue_reads_the_approvals_of_the_queued_pull_request(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    code, checks = run_check(repo, tmp_path, github, monkeypatch, queue=True)
    assert code == 1 and checks["policy:approval"]["status"] == "block"
    review(github, repo, "alice", "APPROVED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch, queue=True)
    assert code == 0, checks
    assert "approved by alice" in checks["policy:approval"]["message"]
    assert not github.errors


def test_the_push_of_a_merged_change_reads_the_approvals_of_its_pull_request(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    head = git(repo, "rev-parse", "HEAD").strip()
    review(github, repo, "bob", "APPROVED")
    code, checks = run_check(repo, tmp_path, github, monkeypatch, push=True)
    assert code == 1  # no merged pull request lands this commit
    assert "no pull request" in checks["policy:approval"]["message"]
    github.commit_pulls[head] = [{"number": PR, "merged_at": "2026-11-26T11:00:00Z"}]
    code, checks = run_check(repo, tmp_path, github, monkeypatch, push=True)
    assert code == 0, checks
    assert "approved by bob" in checks["policy:approval"]["message"]
    assert github.requests("GET", rf".*/commits/{head}/pulls")
    assert not github.errors


def test_an_approval_of_an_earlier_policy_text_does_not_count(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.4", version="2")})
    review(github, repo, "alice", "APPROVED")  # approves a small loosening
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    # ... then the author loosens further, and the repository does not dismiss stale reviews
    commit(repo, {"policies/gate.yaml": gate(floor="0.01", version="3")})
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1
    approval = checks["policy:approval"]
    assert approval["status"] == "block"
    assert "approval by alice was given on a commit whose policy files differ" in (
        approval["message"])


def test_an_approval_survives_a_push_that_leaves_the_policy_alone(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.4", version="2")})
    review(github, repo, "alice", "APPROVED")
    commit(repo, {"bundle/notes.txt": "a later commit that edits no policy file\n"})
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    assert "approved by alice" in checks["policy:approval"]["message"]


def test_an_approval_of_an_unknown_commit_does_not_count(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.4", version="2")})
    github.add_review(PR, "alice", "APPROVED", commit_id="f" * 40)
    code, checks = run_check(repo, tmp_path, github, monkeypatch)
    assert code == 1 and checks["policy:approval"]["status"] == "block"
