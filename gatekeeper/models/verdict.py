"""verdict.json: what every reporter renders from. Frozen; serialised with sorted keys."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_serializer
from pydantic.json_schema import SkipJsonSchema

from gatekeeper.errors import EXIT_BLOCK, EXIT_PASS
from gatekeeper.models.common import Status, Strict

VERDICT_SCHEMA = "gatekeeper.verdict/v1"


class WaiverRef(Strict):
    reason: str
    approved_by: str
    expires: str
    ticket: str | None = None


# What a check is about. Built with its id by ``checks/ids.py``, the one place ids are made.
CheckFamily = Literal["envelope", "seeds", "replicates", "artifact", "data", "metric", "budget",
                      "llm", "judge", "baseline", "policy", "waiver", "leaderboard", "replay"]
# How Δ and its interval are expressed: natural units, or the log of candidate/baseline
# (latency quantiles and cost ratios), which reports show as a factor ×exp(Δ).
Scale = Literal["absolute", "log_ratio"]
# A comparison's finding: the stats outcomes (stats/types.Outcome) plus the two the gate adds.
CheckOutcome = Literal["improved", "non_inferior", "not_improved", "worse", "inconclusive",
                       "no_information", "worse_before_adjustment", "not_comparable"]


class Source(Strict):
    """Where an annotation should point: a policy or bundle file, and a line when known."""

    file: str
    line: int | None = None

    @model_serializer
    def _dump(self) -> dict[str, Any]:
        # verdict.json v1 wrote {"file"} alone when the line is unknown: keep those bytes.
        return {"file": self.file} if self.line is None else {"file": self.file,
                                                               "line": self.line}


class Unmatched(Strict):
    """What pairing by example id left out of a comparison, with a few ids of each side."""

    candidate_only: int
    baseline_only: int
    candidate_total: int
    baseline_total: int
    candidate_examples: tuple[str, ...] = ()
    baseline_examples: tuple[str, ...] = ()


# The note a comparison made from sufficient statistics (a bundle's paired_counts,
# paired_moments or paired_cluster_sums) starts with, followed by "(<shape>)": reports mark
# such comparisons by it (checks/sufficient.py writes it).
STATISTICS_NOTE = "from sufficient statistics"


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
    outcome: CheckOutcome | None = None
    notes: list[str] = Field(default_factory=list)
    waiver: WaiverRef | None = None
    source: Source | None = None
    # Typed facts for reporters, so that none of them parses an id or a message. verdict.json
    # v1 keeps its shape (each is recoverable from ``id``/``method``/``notes`` there), so they
    # are not serialised.
    family: SkipJsonSchema[CheckFamily | None] = Field(default=None, exclude=True)
    # what it is about: the envelope field, artifact path, metric or budget name
    subject: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    metric: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    scale: SkipJsonSchema[Scale | None] = Field(default=None, exclude=True)
    unmatched: SkipJsonSchema[Unmatched | None] = Field(default=None, exclude=True)
    policy_diff: SkipJsonSchema[tuple[str, ...]] = Field(default=(), exclude=True)


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

    @property
    def state(self) -> Literal["none", "target"]:
        return "none" if self.version is None else "target"


class GateInfo(Strict):
    gatekeeper_version: str
    rng_seed: int
    python: str | None = None
    # What else decided this verdict, so that it can be replayed byte for byte: the day it was
    # judged on, the commit the policy and registry record were read at, and a --registry given
    # on the command line (None: the policy's own).
    as_of: str | None = None
    base_ref: str | None = None
    registry: str | None = None


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


# Characters some readers take as a line break (NEL, LINE/PARAGRAPH SEPARATOR) and the other C1
# controls: json.dumps leaves them raw with ensure_ascii=False. They only occur inside strings,
# so writing them as \u escapes keeps the JSON equal and every line of it gatekeeper's.
_RAW_BREAKS = {c: f"\\u{c:04x}" for c in [*range(0x7F, 0xA0), 0x2028, 0x2029]}


def verdict_json(verdict: Verdict) -> str:
    """Sorted keys, fixed separators and a trailing newline: byte-identical for equal input."""
    data = verdict.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)
    return text.translate(_RAW_BREAKS) + "\n"
