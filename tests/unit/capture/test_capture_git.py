"""Code facts read from real git repositories in temporary folders, compared with what git
itself reports."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

import gatekeeper
from gatekeeper.capture import capture_envelope
from gatekeeper.capture.git import capture_code
from gatekeeper.inputs.bundle import load_bundle


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, timeout=30).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "CI")
    git(root, "config", "commit.gpgsign", "false")
    (root / "train.py").write_text("print('train')\n")
    (root / ".gitignore").write_text("*.ckpt\n")
    git(root, "add", "train.py", ".gitignore")
    git(root, "commit", "-q", "-m", "first")
    return root


def _code(where: Path) -> tuple[dict[str, object], list[str]]:
    missing: list[str] = []
    code = capture_code(where, missing)
    code.pop("_top", None)
    return code, missing


def test_clean_repository_matches_git_rev_parse(repo: Path) -> None:
    code, missing = _code(repo)
    assert code["commit"] == git(repo, "rev-parse", "HEAD")
    assert code["branch"] == git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert code["dirty"] is False
    assert code["untracked"] == []
    assert "diff_sha256" not in code
    assert missing == ["code.remote: no remote configured"]


def test_a_subfolder_reads_the_same_repository(repo: Path) -> None:
    (repo / "src").mkdir()
    code, _ = _code(repo / "src")
    assert code["commit"] == git(repo, "rev-parse", "HEAD")


def test_modified_tracked_file_is_dirty_with_the_sha256_of_the_diff(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    code, _ = _code(repo)
    assert code["dirty"] is True
    diff = subprocess.run(["git", "-C", str(repo), "diff", "HEAD", "--binary", "--no-color"],
                          check=True, capture_output=True, timeout=30).stdout
    assert code["diff_sha256"] == hashlib.sha256(diff).hexdigest()


def test_staged_change_is_dirty(repo: Path) -> None:
    (repo / "new.py").write_text("x = 1\n")
    git(repo, "add", "new.py")
    code, _ = _code(repo)
    assert code["dirty"] is True
    assert code["untracked"] == []
    assert len(str(code["diff_sha256"])) == 64


def test_untracked_files_are_listed_apart_and_ignored_files_not_at_all(repo: Path) -> None:
    (repo / "notes.txt").write_text("scratch\n")
    (repo / "data").mkdir()
    (repo / "data" / "cache.txt").write_text("x\n")
    (repo / "model.ckpt").write_bytes(b"\0" * 10)
    code, _ = _code(repo)
    assert code["dirty"] is False
    assert code["untracked"] == ["data/cache.txt", "notes.txt"]
    listed = git(repo, "ls-files", "--others", "--exclude-standard").splitlines()
    assert sorted(listed) == code["untracked"]


def test_a_rename_is_dirty_and_the_old_name_is_not_taken_for_a_file(repo: Path) -> None:
    git(repo, "mv", "train.py", "fit.py")
    code, _ = _code(repo)
    assert code["dirty"] is True
    assert code["untracked"] == []


def test_detached_head_has_a_commit_and_no_branch(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('two')\n")
    git(repo, "commit", "-q", "-am", "second")
    git(repo, "checkout", "-q", "--detach", first)
    code, missing = _code(repo)
    assert code["commit"] == first
    assert "branch" not in code
    assert "code.branch: detached HEAD" in missing


def test_no_git_repository_has_no_commit_and_says_why(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, missing = _code(plain)
    assert code == {}
    assert missing == ["code.commit: not a git repository"]


def test_a_repository_without_commits(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    code, missing = _code(root)
    assert "commit" not in code
    assert "code.commit: the repository has no commit yet" in missing


def test_the_remote_is_recorded_without_a_token_in_it(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://bot:s3cret@example.com/team/model.git")
    code, missing = _code(repo)
    assert code["remote"] == "https://example.com/team/model.git"
    assert "s3cret" not in str(code)
    assert not [m for m in missing if m.startswith("code.remote")]


@pytest.mark.parametrize("lockfile", ["uv.lock", "poetry.lock", "Pipfile.lock",
                                      "environment.yml", "requirements.txt", None])
def test_a_committed_lockfile_is_found_from_the_repository(repo: Path,
                                                           lockfile: str | None) -> None:
    if lockfile is not None:
        (repo / lockfile).write_text("pinned==1.0\n")
        git(repo, "add", lockfile)
        git(repo, "commit", "-q", "-m", "lock")
    (repo / "src").mkdir()
    envelope = capture_envelope(repo / "src", {})
    assert envelope.code["commit"] == git(repo, "rev-parse", "HEAD")
    assert envelope.code["dirty"] is False
    if lockfile is None:
        assert "lockfile" not in envelope.environment
        assert "packages_sha256" in envelope.environment
    else:
        assert envelope.environment["lockfile"]["path"] == lockfile
        assert "packages_sha256" not in envelope.environment


def test_the_api_reads_the_repository_it_is_given(repo: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("GATEKEEPER_BUNDLE_DIR", raising=False)
    with gatekeeper.Run("out", model="m", repo=repo) as run:
        run.log_metric("acc", 0.5)
    code = load_bundle(elsewhere / "out").run.code
    assert code is not None and code.commit == git(repo, "rev-parse", "HEAD")
