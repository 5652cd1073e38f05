"""The relay's files, read and written: never through a symlink, never half written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_github import FakeGitHub, FakeSleep
from test_relay import fork_publish

from gatekeeper.errors import GitHubError
from gatekeeper.github.comment import marker
from gatekeeper.github.publish import RELAY_FILE, PublishRequest, write_relay_files
from gatekeeper.github.relay import load_relay

SECRET = "runner secret: not for the PR"


def outside(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "secret.txt"
    path.parent.mkdir()
    path.write_text(marker("sentiment-release") + "\n" + SECRET, encoding="utf-8")
    return path


def test_a_symlinked_comment_file_is_refused(
        tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    comment = artifact / "comment.md"
    comment.unlink()
    comment.symlink_to(outside(tmp_path))
    with pytest.raises(GitHubError, match=r"comment\.md: is a symlink; the relay reads only "
                                          r"regular files"):
        load_relay(artifact)


def test_a_symlinked_relay_json_is_refused(
        tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    real = tmp_path / "elsewhere.json"
    (artifact / RELAY_FILE).rename(real)
    (artifact / RELAY_FILE).symlink_to(real)
    with pytest.raises(GitHubError, match=r"relay\.json: is a symlink"):
        load_relay(artifact)


def test_a_fifo_in_place_of_the_comment_is_refused_without_hanging(
        tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    (artifact / "comment.md").unlink()
    os.mkfifo(artifact / "comment.md")
    with pytest.raises(GitHubError, match=r"comment\.md: missing or not a regular file"):
        load_relay(artifact)


def test_writing_the_relay_files_replaces_a_planted_symlink(tmp_path: Path) -> None:
    target = outside(tmp_path)
    before = target.read_bytes()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "comment.md").symlink_to(target)
    (folder / RELAY_FILE).symlink_to(target)
    request = PublishRequest(status="pass", policy_name="p", check_name="gatekeeper",
                             title="gatekeeper: pass", comment_markdown="all good",
                             summary_markdown="", comment_file=folder / "comment.md")
    comment, relay = write_relay_files(request, 7, "a" * 40)
    assert target.read_bytes() == before
    assert not comment.is_symlink() and not relay.is_symlink()
    assert comment.read_text(encoding="utf-8").startswith(marker("p"))
    assert sorted(p.name for p in folder.iterdir()) == ["comment.md", RELAY_FILE]
