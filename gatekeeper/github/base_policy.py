"""The policy as it is on the base branch: a PR must not be able to loosen the gate it is
judged by, so on PRs the policy text comes from the base ref (via git or the contents API) and
the PR's edits are only shown as a diff.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from gatekeeper.errors import GitHubError, InputError
from gatekeeper.github.client import GitHubAPIError, GitHubClient

GIT_TIMEOUT = 30.0


def _repo_path(path: str) -> str:
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


def policy_text_from_git(repo_dir: Path, base_ref_or_sha: str, path: str) -> str | None:
    """The file at ``path`` (repository-relative) on ``base_ref_or_sha``; None if absent there."""
    if not base_ref_or_sha or base_ref_or_sha.startswith("-") or ":" in base_ref_or_sha:
        raise InputError(f"not a usable git ref: {base_ref_or_sha!r}")
    rel = _repo_path(path)
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


def policy_text_from_api(client: GitHubClient, repo: str, path: str, ref: str) -> str | None:
    """The file at ``path`` on ``ref`` through ``GET /repos/{repo}/contents``; None if absent."""
    rel = _repo_path(path)
    try:
        data = client.get_json(f"/repos/{repo}/contents/{quote(rel, safe='/')}", {"ref": ref})
    except GitHubAPIError as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type") != "file":
        raise GitHubError(f"{rel} on {ref} is not a file")
    if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
        raise GitHubError(
            f"{rel} on {ref}: unexpected encoding {data.get('encoding')!r} (file too large?)"
        )
    try:
        return base64.b64decode(data["content"]).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise GitHubError(f"{rel} on {ref}: content is not base64-encoded UTF-8 text") from None


def unified_diff(base_text: str | None, head_text: str | None, path: str) -> str:
    """A unified diff from the base version to the PR's version ("" when they are the same)."""
    lines = difflib.unified_diff(
        (base_text or "").splitlines(keepends=True),
        (head_text or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if base_text is not None else "/dev/null",
        tofile=f"b/{path}" if head_text is not None else "/dev/null",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
