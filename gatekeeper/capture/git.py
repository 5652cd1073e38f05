"""Code facts from git: commit, branch, remote, dirty flag, diff sha256, untracked files."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

_TIMEOUT = 30


class _NoGit(Exception):
    pass


def _git(root: Path, *args: str, binary: bool = False) -> Any:
    exe = shutil.which("git")
    if exe is None:
        raise _NoGit("git is not installed")
    proc = subprocess.run([exe, "-C", str(root), *args], capture_output=True, timeout=_TIMEOUT,
                          check=False)
    if proc.returncode != 0:
        raise _NoGit(proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or "")
    return proc.stdout if binary else proc.stdout.decode("utf-8", "replace")


def capture_code(root: Path, missing: list[str]) -> dict[str, Any]:
    """``code`` for the repository that holds ``root``; outside one, no commit (and
    ``missing`` says why)."""
    try:
        top = _git(root, "rev-parse", "--show-toplevel").strip()
    except _NoGit as exc:
        why = "git is not installed" if "installed" in str(exc) else "not a git repository"
        missing.append(f"code.commit: {why}")
        return {}
    code: dict[str, Any] = {"_top": top}
    try:
        code["commit"] = _git(root, "rev-parse", "HEAD").strip()
    except _NoGit:
        missing.append("code.commit: the repository has no commit yet")
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() if "commit" in code else ""
    if branch and branch != "HEAD":
        code["branch"] = branch
    else:
        missing.append("code.branch: detached HEAD" if "commit" in code
                       else "code.branch: no commit yet")
    remote = _remote(root)
    if remote:
        code["remote"] = remote
    else:
        missing.append("code.remote: no remote configured")
    code.update(_tree_state(Path(top), "commit" in code))
    return code


def _remote(root: Path) -> str | None:
    try:
        remotes = _git(root, "remote").split()
    except _NoGit:
        return None
    if not remotes:
        return None
    name = "origin" if "origin" in remotes else sorted(remotes)[0]
    try:
        url: str = _git(root, "remote", "get-url", name).strip()
    except _NoGit:
        return None
    return _strip_userinfo(url)


def _strip_userinfo(url: str) -> str:
    # https://user:token@host/repo → https://host/repo: a remote URL may carry a credential.
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        host_and_path = rest.split("@", 1)[1]
        return f"{scheme}://{host_and_path}"
    return url


def _tree_state(top: Path, has_commit: bool) -> dict[str, Any]:
    """dirty: a tracked file modified or staged (untracked files listed apart, ignored ones
    not at all); diff_sha256: the sha256 of ``git diff HEAD`` (staged and unstaged)."""
    status = _git(top, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    untracked, tracked = _parse_status(status)
    state: dict[str, Any] = {"dirty": bool(tracked), "untracked": untracked}
    if tracked and has_commit:
        diff = _git(top, "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", binary=True)
        state["diff_sha256"] = hashlib.sha256(diff).hexdigest()
    return state


def _parse_status(status: str) -> tuple[list[str], list[str]]:
    """Untracked and changed tracked paths from ``git status --porcelain=v1 -z``."""
    entries = status.split("\0")
    untracked: list[str] = []
    tracked: list[str] = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
            continue
        tracked.append(path)
        if "R" in code or "C" in code:
            i += 1  # a rename's or copy's source path follows as its own entry
    return sorted(untracked), sorted(tracked)
