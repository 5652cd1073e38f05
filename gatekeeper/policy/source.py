"""Where the policy comes from on a pull request: the base branch, not the PR.

A PR can edit the policy that gates it, so on PRs the policy (and every file it ``extends``) is
read from the base commit. ``fetch(path)`` returns a repository-relative file's text at that
commit (via ``git show`` or the contents API) or None when it does not exist there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from gatekeeper.errors import InputError, Location, PolicyError
from gatekeeper.inputs.yamlio import parse_text
from gatekeeper.repo.git import text_at_ref

if TYPE_CHECKING:
    from gatekeeper.github.settings import GitHubSettings

Fetch = Callable[[str], "str | None"]
MAX_FILES = 32


def repo_relative(path: Path, repo_dir: Path) -> str:
    """The policy path as git names it (POSIX, relative to the repository root)."""
    full = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        rel = full.relative_to(repo_dir.resolve())
    except ValueError as exc:
        raise PolicyError(f"the policy {path} is outside the repository {repo_dir}",
                          Location(str(path))) from exc
    return rel.as_posix()


def materialize(policy_rel: str, fetch: Fetch, dest: Path) -> Path | None:
    """Copy the base version of the policy and its ``extends`` chain into ``dest`` (same
    relative layout) and return the copied policy's path; None if the base has no policy."""
    todo = [policy_rel]
    seen: set[str] = set()
    first: Path | None = None
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        if len(seen) > MAX_FILES:
            raise PolicyError(f"the base policy extends more than {MAX_FILES} files")
        text = fetch(rel)
        if text is None:
            if rel == policy_rel:
                return None
            raise PolicyError(f"the base version of the policy extends {rel!r}, which does not "
                              "exist on the base branch", Location(f"{policy_rel}@base"))
        target = dest.joinpath(*PurePosixPath(rel).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if first is None:
            first = target
        todo += parents_of(text, rel)
    return first


def parents_of(text: str, rel: str) -> list[str]:
    """The repository paths the policy ``rel`` (its ``text``) names in ``extends``, in order;
    none when the text does not parse (the loader reports that with a line number)."""
    try:
        data, _lines = parse_text(text, rel)  # bounded: the base policy may be hostile too
    except InputError:
        return []
    parents = data.get("extends") if isinstance(data, dict) else None
    if isinstance(parents, str):
        parents = [parents]
    out: list[str] = []
    for parent in parents or []:
        if isinstance(parent, str):
            joined = os.path.normpath(str(PurePosixPath(rel).parent / parent))
            if joined.startswith(".."):
                raise PolicyError(f"extends {parent!r} leaves the repository",
                                  Location(f"{rel}@base", "extends"))
            out.append(PurePosixPath(joined).as_posix())
    return out


def fetcher_for(repo_dir: Path, ref: str, settings: GitHubSettings | None) -> Fetch:
    """``git show`` when the base commit is in the checkout; else GitHub's contents API (a
    shallow ``actions/checkout`` has only the PR's merge commit)."""
    git = git_fetcher(repo_dir, ref)
    if settings is None or not settings.token or not settings.repository:
        return git
    # lazy: requests and the GitHub API client stay off checks without --base-ref and off those
    # that read the base commit with git alone (no GitHub token or repository)
    from gatekeeper.github.client import GitHubClient
    from gatekeeper.github.contents import text_at_ref as api_text_at_ref

    client = GitHubClient(settings.api_url, settings.token)
    repository = settings.repository

    def fetch(rel: str) -> str | None:
        try:
            return git(rel)
        except InputError:
            return api_text_at_ref(client, repository, rel, ref)

    return fetch


def git_fetcher(repo_dir: Path, ref: str) -> Fetch:
    def fetch(rel: str) -> str | None:
        return text_at_ref(repo_dir, ref, rel)

    return fetch
