"""The registry interface every backend implements, and its frozen value types.

A backend is one module with one ``Registry`` subclass; ``open_registry`` picks it by URI scheme.
The read side (list/get/resolve/history/bundle_path) is what ``gatekeeper check`` needs; the
write side (promote/set_alias/archive) is what ``gatekeeper registry`` needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Approval:
    approved_by: str
    approved_at: str  # ISO 8601, UTC
    ticket: str | None = None
    policy_name: str | None = None
    policy_version: str | None = None
    waiver: str | None = None  # the waiver named when promoting past a block


@dataclass(frozen=True)
class AliasEvent:
    """Alias ``alias`` pointed at ``version`` from ``since`` until ``until`` (None: still)."""

    alias: str
    version: str
    since: str
    until: str | None = None
    set_by: str | None = None  # who moved the alias here (the approver of a promotion)


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: str  # registry versions are strings: "1", "2", ... (MLflow's are ints as text)
    run_id: str | None
    created_at: str
    bundle_sha256: str | None = None
    aliases: tuple[str, ...] = ()
    archived: bool = False
    verdict: str | None = None  # "pass" | "warn" | "block": the gate result it was promoted with
    approval: Approval | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInfo:
    """What search needs from a version's run, without loading the whole bundle's files."""

    run_id: str | None = None
    name: str | None = None
    parent_run_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)  # value, or mean of replicates
    tags: Mapping[str, str] = field(default_factory=dict)
    commit: str | None = None


class Registry(ABC):
    """Read side used by ``gatekeeper check``; write side used by ``gatekeeper registry``."""

    uri: str

    # -- read --------------------------------------------------------------------------
    @abstractmethod
    def list_models(self) -> list[str]:
        """Every model name in the registry, sorted."""

    @abstractmethod
    def list_versions(self, model: str) -> list[ModelVersion]:
        """All versions of ``model``, oldest first. Raises RegistryError if unknown."""

    @abstractmethod
    def get_version(self, model: str, version: str) -> ModelVersion: ...

    @abstractmethod
    def resolve_alias(self, model: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at now; RegistryError naming uri/model/alias if none."""

    @abstractmethod
    def alias_history(self, model: str, alias: str) -> list[AliasEvent]:
        """Every version that held ``alias``, oldest first (history is kept, not overwritten)."""

    @abstractmethod
    def bundle_path(self, version: ModelVersion, workdir: Path) -> Path:
        """A local directory holding the version's run bundle (downloaded into ``workdir``
        when the backend is remote)."""

    @abstractmethod
    def run_info(self, version: ModelVersion) -> RunInfo:
        """Params, metrics and tags of the version's run (for search); empty when unknown."""

    # -- write -------------------------------------------------------------------------
    @abstractmethod
    def promote(
        self,
        bundle_dir: Path,
        *,
        model: str,
        alias: str | None,
        approval: Approval,
        verdict: str | None,
        bundle_sha256: str,
        run_id: str,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Record ``bundle_dir`` as a new version (or return the version that already holds a
        bundle with the same ``bundle_sha256``: a re-run promotion never writes twice) and
        point ``alias`` at it, closing the previous holder's alias event."""

    @abstractmethod
    def set_alias(
        self, model: str, alias: str, version: str, *, set_by: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` at ``version`` (e.g. a manual rollback); history is appended."""

    @abstractmethod
    def archive(self, model: str, version: str) -> ModelVersion:
        """Mark ``version`` archived: it stays readable but is never a rollback target.
        Refused while the version holds an alias (move the alias first)."""

    # -- search ------------------------------------------------------------------------
    def search(
        self, expression: str, *, model: str | None = None, parent_run_id: str | None = None
    ) -> list[ModelVersion]:
        """Versions matching ``expression`` (see ``gatekeeper.registry.search``), optionally
        only those whose run names ``parent_run_id`` (a sweep's trials)."""
        from gatekeeper.registry.search import search_versions

        return search_versions(self, expression, model=model, parent_run_id=parent_run_id)


def registry_dir_default() -> Path:
    return Path(".gatekeeper") / "registry"
