"""The gate's baseline step: find the policy's baseline in the registry, check that it can be
trusted, and find the rollback target.

Checks: ``baseline:resolve`` (found, or ``on_missing``), ``baseline:integrity`` (the bundle is
the one the registry recorded; on a PR, the registry entry is the one on the base branch),
``baseline:stale``, ``baseline:envelope`` and ``baseline:rollback``. The result is a value: the
checks, and the baseline bundle and rollback target when they were found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gatekeeper.baseline.integrity import Fetch, integrity_problem
from gatekeeper.baseline.lookup import ResolvedBaseline, age_days, lookup
from gatekeeper.baseline.rollback import find_rollback_target
from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.errors import RegistryError, RegistryNotFoundError
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.envelope import missing_fields
from gatekeeper.models.verdict import BaselineInfo, Check, RollbackTarget, Source
from gatekeeper.policy.loader import LoadedPolicy


@dataclass(frozen=True)
class BaselineOutcome:
    checks: list[Check] = field(default_factory=list)
    bundle: Bundle | None = None  # None: there is nothing trustworthy to compare with
    info: BaselineInfo | None = None
    rollback_target: RollbackTarget | None = None


@dataclass(frozen=True)
class BaselineSource:
    """Where the baseline lives and how to read the base commit's copy of the repository."""

    registry_uri: str
    base_dir: Path  # a relative file: registry resolves from here
    workdir: Path  # remote bundles are downloaded here
    base_fetch: Fetch | None = None  # a repository file's text at the PR's base commit
    repo_root: Path | None = None


def resolve_baseline(policy: LoadedPolicy, candidate: Bundle, as_of: date,
                     source: BaselineSource) -> BaselineOutcome:
    ref = policy.policy.baseline
    assert ref is not None
    model = ref.model or candidate.run.model
    src = source_of(policy.location("baseline"))
    try:
        resolved = lookup(ref, registry_uri=source.registry_uri, model=model,
                          workdir=source.workdir, base_dir=source.base_dir)
    except RegistryNotFoundError as exc:
        return BaselineOutcome([check(ids.baseline("resolve"), ref.on_missing,
                                      f"baseline not found: {exc}", source=src)])
    except RegistryError as exc:
        if ref.on_registry_error != "block":
            raise
        return BaselineOutcome([check(ids.baseline("resolve"), "block",
                                      f"baseline not available: {exc}", source=src)])
    alias_txt = f" ({ref.alias})" if ref.version is None else ""
    out = [check(ids.baseline("resolve"), "pass",
                 f"baseline {model} v{resolved.version.version}{alias_txt} from "
                 f"{source.registry_uri}", source=src)]
    problem = integrity_problem(resolved, ref.alias if ref.version is None else None,
                                source.base_fetch, source.repo_root, ref.on_unverified)
    if problem is not None:
        status, message = problem
        out.append(check(ids.baseline("integrity"), status, message, source=src))
        if status == "block":
            return BaselineOutcome(out)  # never compare with a baseline that may be altered
    else:
        out.append(check(ids.baseline("integrity"), "pass",
                         "the baseline bundle matches the sha256 the registry recorded",
                         source=src))
    out.extend(_staleness(policy, resolved, as_of, src))
    rollback, rollback_checks = _rollback(policy, resolved, model, source.workdir, src)
    out.extend(rollback_checks)
    out.extend(_baseline_envelope(policy, resolved, src))
    return BaselineOutcome(out, resolved.bundle, resolved.info, rollback)


def _staleness(policy: LoadedPolicy, resolved: ResolvedBaseline, as_of: date,
               src: Source | None) -> list[Check]:
    ref = policy.policy.baseline
    assert ref is not None
    if ref.max_age_days is None:
        return []
    age = age_days(resolved.version.created_at, as_of)
    if age is not None and age <= ref.max_age_days:
        return []
    what = "of unknown age" if age is None else f"{age:.0f} days old"
    return [check(ids.baseline("stale"), "warn",
                  f"baseline is {what} (policy max_age_days {ref.max_age_days:g}): "
                  "re-evaluate it on today's data", source=src)]


def _rollback(policy: LoadedPolicy, resolved: ResolvedBaseline, model: str, workdir: Path,
              src: Source | None) -> tuple[RollbackTarget | None, list[Check]]:
    ref = policy.policy.baseline
    assert ref is not None
    required = policy.policy.envelope.required
    # The baseline is usually the target: reuse its bundle (downloaded and hashed once).
    loaded = {resolved.version.version: resolved.bundle}
    try:
        # The rollback target is judged by the same envelope rules as the candidate.
        if required:
            target = find_rollback_target(resolved.registry, model, ref.alias, workdir=workdir,
                                          required=required, loaded=loaded)
        else:
            target = find_rollback_target(resolved.registry, model, ref.alias, workdir=workdir,
                                          loaded=loaded)
    except RegistryError as exc:
        if ref.on_registry_error != "block":
            raise
        return None, [check(ids.baseline("rollback"), "block",
                            f"rollback target unknown: {exc}", source=src)]
    return target, []


def _baseline_envelope(policy: LoadedPolicy, resolved: ResolvedBaseline,
                       src: Source | None) -> list[Check]:
    required = policy.policy.envelope.required
    missing = missing_fields(resolved.bundle.run, required) if required else []
    if not missing:
        return []
    return [check(ids.baseline("envelope"), "warn",
                  f"the baseline's own envelope is incomplete: {', '.join(missing)}",
                  source=src)]
