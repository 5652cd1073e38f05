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

from gatekeeper.errors import EXIT_BLOCK, GatekeeperError, RegistryError


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
    approval: Approval | None = None  # the approval it was first promoted with
    tags: dict[str, str] = field(default_factory=dict)
    # Every approval, oldest first: the first promotion's, then one per re-promotion of the
    # same bundle (``approval`` is ``approvals[0]`` when both are present).
    approvals: tuple[Approval, ...] = ()


@dataclass(frozen=True)
class RunInfo:
    """What search needs from a version's run, without loading the whole bundle's files."""

    run_id: str | None = None
    name: str | None = None
    parent_run_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # value, mean of replicates, or mean of per-example scores
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    commit: str | None = None


@dataclass(frozen=True)
class RecordedEntry:
    """What one copy of a registry record (e.g. the base branch's) says about a version."""

    alias_target: str | None  # the version the alias points at in that copy
    bundle_sha256: str | None  # the version's registered bundle hash there; None if unrecorded


@dataclass(frozen=True)
class LedgerRecord:
    """One gate decision, recorded against the eval set it used (docs/leaderboard.md)."""

    eval_set: str  # sha256 over the sorted sha256s of the eval set's data entries
    data: tuple[str, ...]  # those entries' sha256s, sorted
    role: str  # "public" (the eval set the report speaks of) or "sealed" (a sealed holdout)
    model: str
    run_id: str
    bundle_sha256: str
    verdict: str  # pass | warn | block
    parent_run_id: str | None = None
    pr: int | None = None
    policy: str | None = None  # name@version
    recorded_at: str = ""  # ISO 8601 UTC, stamped by the backend when it writes the record
    id: str = ""  # the backend's id for the record, stamped when written

    def as_dict(self) -> dict[str, Any]:
        return {"eval_set": self.eval_set, "data": list(self.data), "role": self.role,
                "model": self.model, "run_id": self.run_id,
                "bundle_sha256": self.bundle_sha256, "verdict": self.verdict,
                "parent_run_id": self.parent_run_id, "pr": self.pr, "policy": self.policy,
                "recorded_at": self.recorded_at, "id": self.id}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LedgerRecord:
        """Raises ValueError naming the first field that is missing or of the wrong type."""
        def text(key: str, optional: bool = False) -> str | None:
            value = raw.get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise ValueError(f"field {key!r} is not a string")
            return value
        data = raw.get("data")
        if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
            raise ValueError("field 'data' is not a list of sha256 strings")
        pr = raw.get("pr")
        if pr is not None and (not isinstance(pr, int) or isinstance(pr, bool)):
            raise ValueError("field 'pr' is not a number")
        return cls(eval_set=str(text("eval_set")), data=tuple(sorted(data)),
                   role=str(text("role")), model=str(text("model")), run_id=str(text("run_id")),
                   bundle_sha256=str(text("bundle_sha256")), verdict=str(text("verdict")),
                   parent_run_id=text("parent_run_id", True), pr=pr,
                   policy=text("policy", True), recorded_at=str(text("recorded_at")),
                   id=str(text("id")))

    def matches(self, *, model: str | None = None, data: str | None = None) -> bool:
        """``data``: the eval set's sha256 or one entry's (a prefix of 7 or more hex digits)."""
        if model is not None and self.model != model:
            return False
        if data is None:
            return True
        return any(sha.startswith(data.lower()) for sha in (self.eval_set, *self.data))


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

    # -- trust -------------------------------------------------------------------------
    def record_file(self, model: str) -> Path | None:
        """The file in the working tree that records ``model``'s versions and aliases when the
        registry lives in the repository (so a pull request can edit it); None otherwise."""
        return None

    def read_record(self, text: str, version: str, alias: str | None) -> RecordedEntry:
        """What ``text``, another copy of ``record_file`` (the base branch's), records for
        ``version``: where ``alias`` points and the version's bundle sha256. Raises ValueError
        when the text is not a readable record."""
        raise NotImplementedError(f"{type(self).__name__} keeps no record file")

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
        """Record ``bundle_dir`` as a new version and point ``alias`` at it, closing the
        previous holder's alias event.

        A bundle whose ``bundle_sha256`` is already registered is *re-promoted*: no second
        version is written, and the existing one goes through the same guards
        (``check_repromotion``): an archived version is refused, a ``block`` verdict (stored or
        given) needs ``approval.waiver``, a verdict different from the stored one is refused.
        The approval is appended to the version's approvals, a verdict is recorded when the
        version had none, and ``tags`` are merged into its tags."""

    @abstractmethod
    def set_alias(
        self, model: str, alias: str, version: str, *, set_by: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` at ``version`` (e.g. a manual rollback); history is appended."""

    @abstractmethod
    def archive(self, model: str, version: str) -> ModelVersion:
        """Mark ``version`` archived: it stays readable but is never a rollback target.
        Refused while the version holds an alias (move the alias first)."""

    # -- the usage ledger (docs/leaderboard.md) -------------------------------------------
    def append_decision(self, record: LedgerRecord) -> LedgerRecord:
        """Record one gate decision; returns it with ``recorded_at`` and ``id`` stamped.
        Concurrent writers never lose a record (no read-modify-write)."""
        raise RegistryError(f"registry {self.uri} keeps no usage ledger")

    def decisions(self, *, model: str | None = None,
                  data: str | None = None) -> list[LedgerRecord]:
        """Recorded decisions, oldest first, optionally of one model and/or one eval set (its
        sha256, or one data entry's)."""
        raise RegistryError(f"registry {self.uri} keeps no usage ledger")

    # -- search ------------------------------------------------------------------------
    def search(
        self, expression: str, *, model: str | None = None, parent_run_id: str | None = None
    ) -> list[ModelVersion]:
        """Versions matching ``expression`` (see ``gatekeeper.registry.search``), optionally
        only those whose run names ``parent_run_id`` (a sweep's trials)."""
        # lazy: the expression parser (4 ms of dataclasses, as much as a backend) stays off
        # every check and every registry command but search
        from gatekeeper.registry.search import search_versions

        return search_versions(self, expression, model=model, parent_run_id=parent_run_id)


class PromotionRefused(GatekeeperError):
    """The verdict a version would be promoted with is block and no waiver was named."""

    exit_code = EXIT_BLOCK


def check_repromotion(
    existing: ModelVersion, verdict: str | None, approval: Approval, registry_uri: str
) -> str | None:
    """The rules for promoting a bundle that ``existing`` already holds, as for ``set_alias``
    and a new promotion (whose block rule ``gatekeeper registry promote`` applies before any
    write). Returns the verdict the version ends up with."""
    where = f"version {existing.version} of model {existing.model!r} in {registry_uri}"
    if existing.archived:
        raise RegistryError(
            f"this bundle is already registered as {where}, which is archived; an archived "
            "version cannot be promoted again or take an alias"
        )
    if verdict is not None and existing.verdict is not None and verdict != existing.verdict:
        raise RegistryError(
            f"this bundle is already registered as {where} with verdict {existing.verdict}; "
            f"the verdict given now is {verdict}. A version keeps the verdict it was promoted "
            "with: promote without --verdict-file, or check the bundle with the same policy"
        )
    effective = verdict if verdict is not None else existing.verdict
    if effective == "block" and not approval.waiver:
        raise PromotionRefused(
            f"refusing to re-promote {where}: its verdict is block; name a waiver with "
            "--waiver TEXT"
        )
    return effective
