"""Is the baseline the one the registry recorded, and the one the base commit records?

A registry that lives in the repository (the file registry) can be edited by the change it
gates, so when the gate runs on a change (a pull request, a merge group, a push) the record
that counts is the base commit's copy, read through ``base_fetch`` (``git show`` or the contents
API: neither follows a symlink the change added). The record's place in the repository is found
lexically, never by resolving links, so a registry folder replaced by a link to a weakened
copy is still compared with the base's record. The registry interface reads its own record
format (``Registry.read_record``): this module never parses a backend's files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gatekeeper.baseline.lookup import ResolvedBaseline
from gatekeeper.models.common import Status

Fetch = Callable[[str], "str | None"]
Problem = tuple[Status, str]


def integrity_problem(resolved: ResolvedBaseline, alias: str | None, base_fetch: Fetch | None,
                      repo_root: Path | None, on_unverified: Status = "warn") -> Problem | None:
    """(status, why) when the baseline cannot be trusted; None when it can."""
    if base_fetch is not None and repo_root is not None:
        problem = _against_base(resolved, alias, base_fetch, repo_root)
        if problem is not None:
            return problem
    version = resolved.version
    recorded = version.bundle_sha256
    if recorded is None:
        return (on_unverified, f"the registry recorded no bundle sha256 for v{version.version}, "
                               "so the baseline's files cannot be verified")
    actual = resolved.bundle.sha256()
    if recorded != actual:
        return ("block", f"the baseline bundle of v{version.version} has changed since it was "
                         f"registered: sha256 {actual} on disk, {recorded} in the registry")
    return None


def repo_path_of(path: Path, repo_root: Path) -> str | None:
    """``path`` relative to the repository, lexically (links are not followed); None outside."""
    full = os.path.normpath(os.path.abspath(path))
    root = os.path.normpath(os.path.abspath(repo_root))
    rel = os.path.relpath(full, root)
    if rel == os.curdir or rel.startswith(os.pardir):
        return None
    return Path(rel).as_posix()


def _against_base(resolved: ResolvedBaseline, alias: str | None, base_fetch: Fetch,
                  repo_root: Path) -> Problem | None:
    version = resolved.version
    record = resolved.registry.record_file(version.model)
    if record is None:
        return None  # the registry is not in the repository: not the change's to edit
    rel = repo_path_of(record, repo_root)
    if rel is None:
        return None  # outside the repository: not the change's to edit
    text = base_fetch(rel)
    if text is None:
        return ("block", f"{rel} does not exist on the base commit: this change brings its own "
                         f"registry entry for {version.model!r}, which cannot be verified "
                         "against the base (register the baseline in a change of its own)")
    try:
        base = resolved.registry.read_record(text, version.version, alias)
    except ValueError:
        return ("block", f"{rel} on the base commit is not a readable registry index")
    if base.alias_target != version.version:
        return ("block", f"this change moves alias {alias!r} in {rel}: v{base.alias_target} on "
                         f"the base commit, v{version.version} here")
    if base.bundle_sha256 != version.bundle_sha256:
        return ("block", f"this change edits the registered bundle sha256 of v{version.version} "
                         f"in {rel} ({base.bundle_sha256} on the base commit, "
                         f"{version.bundle_sha256} here)")
    return None
