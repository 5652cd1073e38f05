"""`gatekeeper protect` and `gatekeeper relay` end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_github import FakeGitHub, FakeSleep
from helpers_github import PR_HEAD_SHA, REPO, pr_environ
from test_relay import fork_publish, relay_environ

from gatekeeper.cli import main


def _environ(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
    for name in ("GATEKEEPER_GITHUB_TOKEN", "INPUT_GITHUB_TOKEN", "GATEKEEPER_GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)


def test_protect_creates_the_ruleset(
    tmp_path: Path,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _environ(monkeypatch, pr_environ(tmp_path, github))
    assert main(["protect", "--branch", "release/*"]) == 0
    out = capsys.readouterr().out
    assert f"created ruleset 'gatekeeper: require gatekeeper' on {REPO}" in out
    assert out.startswith("::add-mask::")
    [ruleset] = github.rulesets.values()
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/release/*"]


def test_protect_without_admin_rights_prints_settings(
    tmp_path: Path,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.fail(
        "GET", rf"/repos/{REPO}/rulesets", 403, message="Resource not accessible by integration"
    )
    _environ(monkeypatch, pr_environ(tmp_path, github))
    assert main(["protect", "--branch", "release/*", "--check-name", "gate"]) == 0
    captured = capsys.readouterr()
    assert "Require status checks to pass; add the check 'gate'" in captured.out
    assert "warning: the token cannot manage rulesets" in captured.err


def test_protect_without_token_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environ(monkeypatch, {"GITHUB_TOKEN": "", "GITHUB_REPOSITORY": REPO})
    assert main(["protect", "--branch", "release/*"]) == 2
    assert "no GitHub token" in capsys.readouterr().err


def test_relay_command(
    tmp_path: Path,
    github: FakeGitHub,
    fake_sleep: FakeSleep,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep, status="warn")
    github.pulls[2] = {"number": 2, "head": {"sha": PR_HEAD_SHA}}
    _environ(monkeypatch, relay_environ(tmp_path, github))
    assert main(["relay", "--dir", str(artifact)]) == 0
    out, err = capsys.readouterr()
    assert "gatekeeper: comment-created" in out
    assert "warning: no check was posted" in err
    assert github.check_runs == {} and github.statuses == []


def test_relay_command_rejects_forged_files(
    tmp_path: Path,
    github: FakeGitHub,
    fake_sleep: FakeSleep,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    (artifact / "relay.json").write_text('{"schema": "gatekeeper.relay/v1", "pr_number": "2"}')
    _environ(monkeypatch, relay_environ(tmp_path, github))
    assert main(["relay", "--dir", str(artifact)]) == 2
    assert "'pr_number' must be an integer" in capsys.readouterr().err
    assert github.comments == {}
