"""The git checkout the gate runs in: a file's text at a ref, and the checkout's top folder.

Reading files at the PR's base commit is what keeps a PR from choosing its own policy and
baseline, so a ref that is not in the checkout is an input error, never a silent fallback.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

from gatekeeper.errors import InputError

GIT_TIMEOUT = 30.0


def repo_path(path: str) -> str:
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise InputError(f"policy path must be relative to the repository root: {path!r}")
    return pure.as_posix()


def _git(repo_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputError("git is not installed (needed to read the base-branch policy)") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} timed out after {GIT_TIMEOUT:.0f} s") from None


def text_at_ref(repo_dir: Path, base_ref_or_sha: str, path: str) -> str | None:
    """The file at ``path`` (repository-relative) on ``base_ref_or_sha``; None if absent there."""
    if not base_ref_or_sha or base_ref_or_sha.startswith("-") or ":" in base_ref_or_sha:
        raise InputError(f"not a usable git ref: {base_ref_or_sha!r}")
    rel = repo_path(path)
    found = _git(repo_dir, "rev-parse", "--verify", "--quiet", f"{base_ref_or_sha}^{{commit}}")
    if found.returncode != 0:
        raise InputError(
            f"base ref {base_ref_or_sha!r} is not in the checkout at {repo_dir} "
            "(fetch it, e.g. actions/checkout with fetch-depth: 0)"
        )
    commit = found.stdout.decode().strip()
    if _git(repo_dir, "cat-file", "-e", f"{commit}:{rel}").returncode != 0:
        return None
    shown = _git(repo_dir, "show", f"{commit}:{rel}")
    if shown.returncode != 0:
        raise InputError(
            f"git show {commit}:{rel} failed: {shown.stderr.decode(errors='replace').strip()}"
        )
    try:
        return shown.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{rel} on {base_ref_or_sha} is not UTF-8 text") from None


def git_toplevel(start: Path) -> Path | None:
    """The top folder of the git checkout holding ``start``; None outside git."""
    try:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start,
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None
