"""Resolve the policy's baseline in the registry and check that it can be trusted.

Checks: ``baseline:resolve`` (found, or ``on_missing``), ``baseline:integrity`` (the bundle is
the one the registry recorded; on a PR, the registry entry is the one on the base branch),
``baseline:stale``, ``baseline:envelope`` and ``baseline:rollback``. On success the baseline
bundle and the rollback target are put on the context for the other checks and the reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gatekeeper.baseline.resolve import ResolvedBaseline, age_days, resolve
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.context import Context
from gatekeeper.errors import RegistryError, RegistryNotFoundError
from gatekeeper.inputs.envelope import missing_fields
from gatekeeper.models.common import Status
from gatekeeper.models.verdict import Check
from gatekeeper.registry.file import FileRegistry

Fetch = Callable[[str], "str | None"]


def attach(ctx: Context, registry_uri: str, workdir: Path, *, base_dir: Path,
           base_fetch: Fetch | None = None, repo_root: Path | None = None) -> list[Check]:
    """``base_dir`` resolves a relative ``file:`` registry; ``base_fetch`` reads a file of the
    repository at the PR's base commit (None outside pull requests)."""
    ref = ctx.policy.policy.baseline
    assert ref is not None
    model = ref.model or ctx.bundle.run.model
    src = source_of(ctx.policy.location("baseline"))
    try:
        resolved = resolve(ref, registry_uri=registry_uri, model=model, workdir=workdir,
                           base_dir=base_dir)
    except RegistryNotFoundError as exc:
        return [check("baseline:resolve", ref.on_missing, f"baseline not found: {exc}",
                      source=src)]
    except RegistryError as exc:
        if ref.on_registry_error != "block":
            raise
        return [check("baseline:resolve", "block", f"baseline not available: {exc}",
                      source=src)]
    alias_txt = f" ({ref.alias})" if ref.version is None else ""
    out = [check("baseline:resolve", "pass",
                 f"baseline {model} v{resolved.version.version}{alias_txt} from {registry_uri}",
                 source=src)]
    problem = _integrity(resolved, ref.alias if ref.version is None else None, base_fetch,
                         repo_root)
    if problem is not None:
        status, message = problem
        out.append(check("baseline:integrity", status, message, source=src))
        if status == "block":
            return out  # never compare with a baseline that may have been altered
    else:
        out.append(check("baseline:integrity", "pass",
                         "the baseline bundle matches the sha256 the registry recorded",
                         source=src))
    ctx.baseline = resolved.bundle
    ctx.baseline_info = resolved.info
    if ref.max_age_days is not None:
        age = age_days(resolved.version.created_at, ctx.as_of)
        if age is None or age > ref.max_age_days:
            what = "of unknown age" if age is None else f"{age:.0f} days old"
            out.append(check("baseline:stale", "warn",
                             f"baseline is {what} (policy max_age_days {ref.max_age_days:g}): "
                             "re-evaluate it on today's data", source=src))
    required = ctx.policy.policy.envelope.required
    from gatekeeper.baseline.rollback import find_rollback_target

    try:
        # The rollback target is judged by the same envelope rules as the candidate.
        # The baseline is usually the target: reuse its bundle (downloaded and hashed once).
        loaded = {resolved.version.version: resolved.bundle}
        if required:
            ctx.rollback_target = find_rollback_target(resolved.registry, model, ref.alias,
                                                       workdir=workdir, required=required,
                                                       loaded=loaded)
        else:
            ctx.rollback_target = find_rollback_target(resolved.registry, model, ref.alias,
                                                       workdir=workdir, loaded=loaded)
    except RegistryError as exc:
        if ref.on_registry_error != "block":
            raise
        out.append(check("baseline:rollback", "block", f"rollback target unknown: {exc}",
                         source=src))
    missing = missing_fields(resolved.bundle.run, required) if required else []
    if missing:
        out.append(check("baseline:envelope", "warn",
                         f"the baseline's own envelope is incomplete: {', '.join(missing)}",
                         source=src))
    return out


def _integrity(resolved: ResolvedBaseline, alias: str | None, base_fetch: Fetch | None,
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
    registry = resolved.registry
    if base_fetch is None or repo_root is None or not isinstance(registry, FileRegistry):
        return None
    # A file registry lives in the repository, so a PR can edit it: the entry that gates the PR
    # is the one on the base branch.
    try:
        rel = registry.index_path(version.model).resolve().relative_to(
            repo_root.resolve()).as_posix()
    except ValueError:
        return None  # outside the repository: not the PR's to change
    text = base_fetch(rel)
    if text is None:
        return ("warn", f"{rel} does not exist on the base branch: this PR brings its own "
                        "baseline, which cannot be verified against the base")
    try:
        base_index = json.loads(text)
        entries = {str(v["version"]): v for v in base_index.get("versions", [])}
        base_target = (str(base_index.get("aliases", {}).get(alias)) if alias is not None
                       else version.version)
    except (ValueError, TypeError, KeyError, AttributeError):
        return ("block", f"{rel} on the base branch is not a readable registry index")
    if base_target != version.version:
        return ("block", f"this PR moves alias {alias!r} in {rel}: v{base_target} on the base "
                         f"branch, v{version.version} here")
    base_sha = entries.get(version.version, {}).get("bundle_sha256")
    if base_sha != recorded:
        return ("block", f"this PR changes the registered bundle sha256 of v{version.version} in "
                         f"{rel} ({base_sha} on the base branch, {recorded} here)")
    return None
