"""Waivers: approved, expiring exceptions that turn a failing check into a recorded pass.

Pure: no paths and no clock (``as_of`` is an input).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from datetime import date

from gatekeeper.models.policy import Waiver, is_unwaivable
from gatekeeper.models.verdict import Check, WaiverRef


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
