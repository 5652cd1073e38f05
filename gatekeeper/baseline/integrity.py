"""Is the baseline the one the registry recorded, and the one the base branch records?

A registry that lives in the repository (the file registry) can be edited by the pull request
it gates, so on pull requests the record that counts is the base commit's copy, read through
``base_fetch``. The registry interface reads its own record format (``Registry.read_record``):
this module never parses a backend's files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper.baseline.lookup import ResolvedBaseline
from gatekeeper.models.common import Status

Fetch = Callable[[str], "str | None"]


def integrity_problem(resolved: ResolvedBaseline, alias: str | None, base_fetch: Fetch | None,
                      repo_root: Path | None) -> tuple[Status, str] | None:
    """(status, why) when the baseline cannot be trusted; None when it can."""
    version = resolved.version
    recorded = version.bundle_sha256
    actual = resolved.bundle.sha256()
    if recorded is None:
        return ("warn", f"the registry recorded no bundle sha256 for v{version.version}, so the "
                        "baseline's files cannot be verified")
    if recorded != actual:
        return ("block", f"the baseline bundle of v{version.version} has changed since it was "
                         f"registered: sha256 {actual} on disk, {recorded} in the registry")
    if base_fetch is None or repo_root is None:
        return None
    return _against_base(resolved, alias, base_fetch, repo_root)


def _against_base(resolved: ResolvedBaseline, alias: str | None, base_fetch: Fetch,
                  repo_root: Path) -> tuple[Status, str] | None:
    version = resolved.version
    record = resolved.registry.record_file(version.model)
    if record is None:
        return None  # the registry is not in the repository: not the PR's to change
    try:
        rel = record.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return None  # outside the repository: not the PR's to change
    text = base_fetch(rel)
    if text is None:
        return ("warn", f"{rel} does not exist on the base branch: this PR brings its own "
                        "baseline, which cannot be verified against the base")
    try:
        base = resolved.registry.read_record(text, version.version, alias)
    except ValueError:
        return ("block", f"{rel} on the base branch is not a readable registry index")
    if base.alias_target != version.version:
        return ("block", f"this PR moves alias {alias!r} in {rel}: v{base.alias_target} on the "
                         f"base branch, v{version.version} here")
    if base.bundle_sha256 != version.bundle_sha256:
        return ("block", f"this PR changes the registered bundle sha256 of v{version.version} in "
                         f"{rel} ({base.bundle_sha256} on the base branch, "
                         f"{version.bundle_sha256} here)")
    return None
