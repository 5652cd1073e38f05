"""Checks + waivers → the verdict. Pure: no paths, no clock (``as_of`` is an input)."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Sequence
from datetime import date
from typing import Literal

from gatekeeper import __version__
from gatekeeper.errors import EXIT_BLOCK, EXIT_PASS
from gatekeeper.models.common import STATUS_ORDER, Status
from gatekeeper.models.policy import Waiver, is_unwaivable
from gatekeeper.models.verdict import (
    BaselineInfo,
    CandidateRef,
    Check,
    Counts,
    GateInfo,
    PolicyRef,
    RollbackTarget,
    Verdict,
    WaiverRef,
)


def worst(statuses: Sequence[Status]) -> Status:
    out: Status = "pass"
    for s in statuses:
        if STATUS_ORDER[s] > STATUS_ORDER[out]:
            out = s
    return out


def exit_code_for(status: Status, fail_on: Literal["warn", "block"]) -> int:
    if status == "block" or (status == "warn" and fail_on == "warn"):
        return EXIT_BLOCK
    return EXIT_PASS


def apply_waivers(checks: Sequence[Check], waivers: Sequence[Waiver], as_of: date) -> list[Check]:
    """A live waiver that matches a failing check turns it into a pass that records the waiver
    (who, why, ticket, until when). An expired waiver covers nothing and says so.

    Integrity checks (``is_unwaivable``) are never waived: the policy loader already rejects a
    waiver that could match one, and this keeps a policy built in code to the same rule.
    """
    out: list[Check] = []
    for c in checks:
        if c.status == "pass" or is_unwaivable(c.id):
            out.append(c)
            continue
        matching = [w for w in waivers if fnmatch.fnmatchcase(c.id, w.check)]
        live = [w for w in matching if w.expires >= as_of]
        if live:
            w = live[0]
            ref = WaiverRef(reason=w.reason, approved_by=w.approved_by,
                            expires=w.expires.isoformat(), ticket=w.ticket)
            out.append(c.model_copy(update={
                "status": "pass", "original_status": c.status, "waiver": ref,
                "message": f"{c.message} [waived by {w.approved_by} until {w.expires}]",
            }))
        elif matching:
            expired = matching[0]
            out.append(c.model_copy(update={"notes": [
                *c.notes, f"waiver by {expired.approved_by} expired on {expired.expires}"]}))
        else:
            out.append(c)
    for i, w in enumerate(waivers):
        if w.expires < as_of:
            out.append(Check(id=f"waiver:{i}:{w.check}", status="warn",
                             message=f"waiver for {w.check} approved by {w.approved_by} expired on "
                                     f"{w.expires}; remove it or renew it"))
    return out


def build_verdict(
    *,
    checks: Sequence[Check],
    fail_on: Literal["warn", "block"],
    policy: PolicyRef,
    candidate: CandidateRef,
    baseline: BaselineInfo | None,
    rollback_target: RollbackTarget | None,
    rng_seed: int,
) -> Verdict:
    status = worst([c.status for c in checks])
    counts = Counts.model_validate({
        "pass": sum(c.status == "pass" for c in checks),
        "warn": sum(c.status == "warn" for c in checks),
        "block": sum(c.status == "block" for c in checks),
        "waived": sum(c.waiver is not None for c in checks),
    })
    return Verdict(
        verdict=status,
        exit_code=exit_code_for(status, fail_on),
        fail_on=fail_on,
        counts=counts,
        policy=policy,
        candidate=candidate,
        baseline=baseline,
        rollback_target=rollback_target,
        checks=list(checks),
        gate=GateInfo(gatekeeper_version=__version__, rng_seed=rng_seed,
                      python=f"{sys.version_info.major}.{sys.version_info.minor}"),
    )


def verdict_json(verdict: Verdict) -> str:
    """Sorted keys, fixed separators and a trailing newline: byte-identical for equal input."""
    data = verdict.model_dump(mode="json", by_alias=True)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
