"""Look up the policy's baseline (registry + model + alias): its version and its bundle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from gatekeeper.errors import BundleError, RegistryError
from gatekeeper.inputs.bundle import Bundle, load_bundle
from gatekeeper.models.policy import BaselineRef
from gatekeeper.models.verdict import BaselineInfo
from gatekeeper.registry import open_registry
from gatekeeper.registry.interface import ModelVersion, Registry


@dataclass(frozen=True)
class ResolvedBaseline:
    registry: Registry
    version: ModelVersion
    bundle: Bundle
    info: BaselineInfo


def lookup(ref: BaselineRef, *, registry_uri: str, model: str, workdir: Path,
            base_dir: Path) -> ResolvedBaseline:
    """Raises RegistryError naming registry, model and alias when it cannot be found."""
    registry = open_registry(registry_uri, base_dir=base_dir)
    if ref.version is not None:
        version = registry.get_version(model, ref.version)
    else:
        version = registry.resolve_alias(model, ref.alias)
    path = registry.bundle_path(version, workdir)
    try:
        bundle = load_bundle(path, display=f"{registry_uri}#{model}/{version.version}")
    except BundleError as exc:
        raise RegistryError(
            f"baseline {model} version {version.version} ({ref.alias}) in {registry_uri} has an "
            f"unreadable bundle: {exc}"
        ) from exc
    info = BaselineInfo(
        model=model,
        version=version.version,
        alias=None if ref.version is not None else ref.alias,
        run_id=bundle.run.run_id,
        registry=registry_uri,
        bundle_sha256=version.bundle_sha256,
        created_at=version.created_at or None,
    )
    return ResolvedBaseline(registry, version, bundle, info)


def age_days(created_at: str | None, as_of: date) -> float | None:
    if not created_at:
        return None
    try:
        when = datetime.fromisoformat(created_at.replace("Z", "+00:00")).date()
    except ValueError:
        return None
    return float((as_of - when).days)
