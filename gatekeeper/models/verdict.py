"""verdict.json: what every reporter renders from. Frozen; serialised with sorted keys."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from gatekeeper.errors import EXIT_BLOCK, EXIT_PASS
from gatekeeper.models.common import Status, Strict

VERDICT_SCHEMA = "gatekeeper.verdict/v1"


class WaiverRef(Strict):
    reason: str
    approved_by: str
    expires: str
    ticket: str | None = None


class Check(Strict):
    id: str
    status: Status  # after any waiver
    message: str
    original_status: Status | None = None  # set when a waiver changed the status
    observed: float | str | None = None
    baseline: float | str | None = None
    threshold: float | str | None = None
    delta: float | None = None
    ci: tuple[float, float] | None = None
    confidence: float | None = None
    method: str | None = None
    reason: str | None = None  # why this method
    n: tuple[int, int] | None = None
    p_value: float | None = None
    mde: float | None = None
    outcome: str | None = None
    notes: list[str] = Field(default_factory=list)
    waiver: WaiverRef | None = None
    source: dict[str, Any] | None = None  # {"file": ..., "line": ...} for annotations


class PolicyRef(Strict):
    name: str
    version: int | str
    sha256: str
    path: str | None = None
    target_branch: str | None = None


class CandidateRef(Strict):
    run_id: str
    model: str
    bundle_sha256: str
    path: str | None = None


class BaselineInfo(Strict):
    model: str
    version: str
    alias: str | None = None
    run_id: str | None = None
    registry: str | None = None
    bundle_sha256: str | None = None
    created_at: str | None = None


class RollbackCandidate(Strict):
    version: str
    eligible: bool
    reasons: list[str] = Field(default_factory=list)


class RollbackTarget(Strict):
    model: str
    version: str | None  # None: no version qualifies (see considered)
    reason: str
    considered: list[RollbackCandidate] = Field(default_factory=list)


class GateInfo(Strict):
    gatekeeper_version: str
    rng_seed: int
    python: str | None = None


class Counts(Strict):
    passed: int = Field(alias="pass")  # waived checks pass, so they are counted here too
    warn: int
    block: int
    waived: int = 0  # passes that a waiver made; 0 in verdicts written before it was counted


class Verdict(Strict):
    schema_: Literal["gatekeeper.verdict/v1"] = Field(alias="schema",
                                                      default="gatekeeper.verdict/v1")
    verdict: Status
    exit_code: int
    fail_on: Literal["warn", "block"] = "block"
    counts: Counts
    policy: PolicyRef
    candidate: CandidateRef
    baseline: BaselineInfo | None = None
    rollback_target: RollbackTarget | None = None
    checks: list[Check]
    gate: GateInfo


def exit_code_for(status: Status, fail_on: Literal["warn", "block"]) -> int:
    if status == "block" or (status == "warn" and fail_on == "warn"):
        return EXIT_BLOCK
    return EXIT_PASS


def verdict_json(verdict: Verdict) -> str:
    """Sorted keys, fixed separators and a trailing newline: byte-identical for equal input."""
    data = verdict.model_dump(mode="json", by_alias=True)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
