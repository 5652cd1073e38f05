"""The base-branch policy from a real git repository and from the contents API."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fake_github import TOKEN, FakeGitHub, FakeSleep
from helpers_github import REPO

from gatekeeper.errors import InputError
from gatekeeper.github.client import GitHubClient
from gatekeeper.github.contents import text_at_ref as policy_text_from_api
from gatekeeper.policy.textdiff import unified_diff
from gatekeeper.repo.git import text_at_ref as policy_text_from_git

BASE_POLICY = "apiVersion: gatekeeper/v1\nmetrics:\n  - metric: accuracy\n    min: 0.85\n"
LOOSENED = "apiVersion: gatekeeper/v1\nmetrics:\n  - metric: accuracy\n    min: 0.10\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, timeout=30
    ).stdout.strip()


@pytest.fixture
def pr_checkout(tmp_path: Path) -> Path:
    """main holds the policy; the PR branch loosens it and is checked out."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    git(repo, "config", "commit.gpgsign", "false")
    (repo / "policies").mkdir()
    (repo / "policies" / "release.yaml").write_text(BASE_POLICY)
    git(repo, "add", "policies/release.yaml")
    git(repo, "commit", "-q", "-m", "policy")
    git(repo, "checkout", "-q", "-b", "pr")
    (repo / "policies" / "release.yaml").write_text(LOOSENED)
    (repo / "policies" / "new.yaml").write_text("apiVersion: gatekeeper/v1\n")
    git(repo, "add", "policies")
    git(repo, "commit", "-q", "-m", "loosen the gate")
    return repo


def test_base_version_is_used_when_the_pr_edits_the_policy(pr_checkout: Path) -> None:
    head_text = (pr_checkout / "policies" / "release.yaml").read_text()
    assert head_text == LOOSENED
    base_text = policy_text_from_git(pr_checkout, "main", "policies/release.yaml")
    assert base_text == BASE_POLICY
    sha = git(pr_checkout, "rev-parse", "main")
    assert policy_text_from_git(pr_checkout, sha, "policies/release.yaml") == BASE_POLICY
    diff = unified_diff(base_text, head_text, "policies/release.yaml")
    assert diff.splitlines()[:2] == ["--- a/policies/release.yaml", "+++ b/policies/release.yaml"]
    assert "-    min: 0.85" in diff.splitlines() and "+    min: 0.10" in diff.splitlines()


def test_policy_added_by_the_pr_does_not_exist_on_base(pr_checkout: Path) -> None:
    assert policy_text_from_git(pr_checkout, "main", "policies/new.yaml") is None
    diff = unified_diff(None, "a: 1\n", "policies/new.yaml")
    assert diff.startswith("--- /dev/null\n+++ b/policies/new.yaml\n")


def test_unchanged_policy_has_an_empty_diff() -> None:
    assert unified_diff(BASE_POLICY, BASE_POLICY, "p.yaml") == ""


@pytest.mark.parametrize(
    ("ref", "path", "message"),
    [
        ("no-such-branch", "policies/release.yaml", "is not in the checkout"),
        ("--output=/tmp/x", "policies/release.yaml", "not a usable git ref"),
        ("main", "../outside.yaml", "relative to the repository root"),
        ("main", "/etc/passwd", "relative to the repository root"),
    ],
)
def test_bad_refs_and_paths(pr_checkout: Path, ref: str, path: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        policy_text_from_git(pr_checkout, ref, path)


def test_policy_text_from_api(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    base_sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    github.contents[(base_sha, "policies/release.yaml")] = BASE_POLICY
    client = GitHubClient(github.api_url, TOKEN, sleep=fake_sleep.sleep)
    assert policy_text_from_api(client, REPO, "policies/release.yaml", base_sha) == BASE_POLICY
    assert policy_text_from_api(client, REPO, "policies/missing.yaml", base_sha) is None
    [first, _] = github.requests("GET")
    assert first.path == f"/repos/{REPO}/contents/policies/release.yaml"
    assert first.query == {"ref": base_sha}
