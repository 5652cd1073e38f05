"""The rollback target: the newest registry version that is safe to return to.

Safe means: it held (or holds) the alias, is not archived, passed its own gate (pass or warn),
its envelope is complete, and its bundle and artifacts are present with matching hashes. Every
version looked at is listed with all the reasons it was skipped, so "no target" is explainable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gatekeeper.errors import GatekeeperError
from gatekeeper.inputs.bundle import Bundle, load_bundle
from gatekeeper.inputs.envelope import missing_fields
from gatekeeper.models.verdict import RollbackCandidate, RollbackTarget
from gatekeeper.registry.interface import ModelVersion, Registry

DEFAULT_ROLLBACK_REQUIRED: tuple[str, ...] = (
    "code.commit",
    "environment.lockfile.sha256",
    "data[*].sha256",
    "seeds",
)
PASSING = frozenset({"pass", "warn"})


def find_rollback_target(
    registry: Registry,
    model: str,
    alias: str = "production",
    *,
    workdir: Path,
    exclude_version: str | None = None,
    required: Sequence[str] = DEFAULT_ROLLBACK_REQUIRED,
    loaded: Mapping[str, Bundle] | None = None,
) -> RollbackTarget:
    """Consider the versions that held ``alias``, newest first, and stop at the first that
    qualifies. Registry errors while listing propagate (the caller decides warn or block).

    ``loaded`` maps version numbers to bundles the caller already has (the baseline, as a rule,
    which usually is the target): they are neither downloaded nor hashed a second time."""
    # lazy: the file backend stays off checks whose policy names no registry (this module is
    # on every check's import path; only the file backend's version order is used here)
    from gatekeeper.registry.file import version_key

    history = registry.alias_history(model, alias)
    held = {event.version for event in history}
    if not held:
        return RollbackTarget(
            model=model, version=None,
            reason=f"no version of {model!r} has held alias {alias!r} in {registry.uri}",
        )
    by_number = {v.version: v for v in registry.list_versions(model)}
    considered: list[RollbackCandidate] = []
    for number in sorted(held, key=version_key, reverse=True):
        reasons = _reasons(registry, by_number.get(number), number, model, workdir,
                           exclude_version, required, (loaded or {}).get(number))
        considered.append(RollbackCandidate(version=number, eligible=not reasons,
                                            reasons=reasons))
        if not reasons:
            holder = " (holds it now)" if alias in by_number[number].aliases else ""
            return RollbackTarget(
                model=model, version=number, considered=considered,
                reason=(f"version {number} is the newest version that held {alias!r}{holder} "
                        "and is safe to return to: not archived, passed its gate, complete "
                        "envelope, artifacts verified"),
            )
    summary = "; ".join(f"{c.version}: {', '.join(c.reasons)}" for c in considered)
    return RollbackTarget(
        model=model, version=None, considered=considered,
        reason=f"no version that held {alias!r} qualifies ({summary})",
    )


def _reasons(
    registry: Registry,
    version: ModelVersion | None,
    number: str,
    model: str,
    workdir: Path,
    exclude_version: str | None,
    required: Sequence[str],
    bundle: Bundle | None = None,
) -> list[str]:
    if version is None:
        return ["listed in the alias history but missing from the registry"]
    if exclude_version is not None and number == str(exclude_version):
        return ["excluded (the version under evaluation)"]
    reasons: list[str] = []
    if version.archived:
        reasons.append("archived")
    if version.verdict is None:
        reasons.append("no recorded gate verdict")
    elif version.verdict not in PASSING:
        reasons.append(f"its own gate verdict was {version.verdict}")
    reasons.extend(_bundle_reasons(registry, version, workdir, required, bundle))
    return reasons


def _bundle_reasons(
    registry: Registry, version: ModelVersion, workdir: Path, required: Sequence[str],
    bundle: Bundle | None = None,
) -> list[str]:
    if bundle is None:
        try:
            path = registry.bundle_path(version, workdir)
            bundle = load_bundle(path,
                                 display=f"{registry.uri}#{version.model}/{version.version}")
        except GatekeeperError as exc:
            return [f"bundle unavailable: {exc.message}"]
    reasons: list[str] = []
    try:
        missing = missing_fields(bundle.run, required)
        if missing:
            reasons.append(f"envelope incomplete: missing {', '.join(missing)}")
        for status in bundle.verify_artifacts():
            if not status.ok:
                reasons.append(f"artifact {status.path}: {status.problem}")
        if version.bundle_sha256 is not None:
            actual = bundle.sha256()
            if actual != version.bundle_sha256:
                reasons.append(
                    f"bundle sha256 {actual[:12]}… differs from the registered "
                    f"{version.bundle_sha256[:12]}…"
                )
    except (GatekeeperError, OSError, ValueError) as exc:
        reasons.append(f"bundle unreadable: {exc}")
    return reasons
