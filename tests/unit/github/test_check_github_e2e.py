"""`gatekeeper check --github` end to end against the OpenAPI-validated local GitHub."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_github import FakeGitHub
from helpers_github import PR_HEAD_SHA, parse_outputs, pr_environ, use_environ

from gatekeeper.cli import main
from gatekeeper.github.comment import marker

ROOT = Path(__file__).resolve().parents[3]


def _run(tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str], bundle: str, **env: str) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)
    environ = pr_environ(tmp_path, github, **env)
    # The base commit of the webhook payload is not in this checkout: the policy comes from
    # the contents API at that commit.
    base_sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    github.contents[(base_sha, "policies/default.yaml")] = (
        ROOT / "policies" / "default.yaml").read_text()
    # ... and so does the registry entry of the baseline (a change cannot bring its own).
    index = "examples/registry/sentiment-clf/index.json"
    github.contents[(base_sha, index)] = (ROOT / index).read_text()
    use_environ(monkeypatch, environ)
    code = main(["check", f"examples/bundles/{bundle}", "--policy", "policies/default.yaml",
                 "--github", "--as-of", "2026-11-26", "--output-dir", str(tmp_path / "out")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_warn_verdict_posts_one_comment_and_neutral_check(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, github, monkeypatch, capsys, "warn")
    assert code == 0, err
    [comment] = github.comments[2]
    assert comment["body"].startswith(marker("default"))
    assert "exact_match" in comment["body"]
    [check] = github.check_runs.values()
    assert check["conclusion"] == "neutral" and check["head_sha"] == PR_HEAD_SHA
    outputs = parse_outputs((tmp_path / "output.txt").read_text())
    assert outputs["verdict"] == "warn" and outputs["exit-code"] == "0"
    assert outputs["report-path"].endswith("report.md")
    assert "::warning file=policies/default.yaml" in out
    assert github.requests("GET", r".*/contents/policies/default\.yaml")  # base version read
    # a rerun updates the same comment
    code, _, _ = _run(tmp_path, github, monkeypatch, capsys, "warn")
    assert len(github.comments[2]) == 1


def test_block_verdict_fails_the_check_and_exits_1(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(tmp_path, github, monkeypatch, capsys, "block")
    assert code == 1
    [check] = github.check_runs.values()
    assert check["conclusion"] == "failure"
    assert "::error file=policies/default.yaml" in out


def test_reporting_failure_keeps_the_exit_code(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    github.fail("POST", r".*/issues/\d+/comments", status=403, times=10)
    github.fail("GET", r".*/issues/\d+/comments", status=403, times=10)
    code, _, err = _run(tmp_path, github, monkeypatch, capsys, "pass")
    assert code == 0
    assert "warning" in err
    assert (tmp_path / "out" / "relay" / "comment.md").is_file()


def test_pull_request_without_a_readable_event_stops_the_gate(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(tmp_path, github, monkeypatch, capsys, "pass",
                        GITHUB_EVENT_PATH=str(tmp_path / "missing.json"))
    assert code == 2
    assert "GITHUB_EVENT_PATH" in err
    assert not github.comments and not github.check_runs
