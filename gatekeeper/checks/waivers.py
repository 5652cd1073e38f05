"""Waivers and enforcement levels: what a failing check of a rule ends up as.

Pure: no paths and no clock (``as_of`` is an input).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Sequence
from datetime import date

from gatekeeper.checks import ids
from gatekeeper.models.policy import Waiver, is_unwaivable
from gatekeeper.models.verdict import Check, WaiverRef


def apply_enforcement(checks: Sequence[Check], advisory: Collection[str]) -> list[Check]:
    """A failing check of an ``advisory`` rule warns instead of blocking."""
    out: list[Check] = []
    for c in checks:
        if c.status == "block" and c.id in advisory:
            c = c.model_copy(update={"status": "warn", "original_status": "block",
                                     "notes": [*c.notes, "advisory rule: a failure warns"]})
        out.append(c)
    return out


def apply_waivers(checks: Sequence[Check], waivers: Sequence[Waiver], as_of: date,
                  hard: Collection[str] = ()) -> list[Check]:
    """A live waiver that matches a failing check turns it into a pass that records the waiver
    (who, why, ticket, until when). An expired waiver covers nothing and says so; a live one
    that matches no check at all is reported as unused.

    Integrity checks (``is_unwaivable``) and the checks of hard rules (``hard``) are never
    waived: the policy loader already rejects a waiver that could match one, and this keeps a
    policy built in code to the same rule.
    """
    out = [_waived(c, waivers, as_of, hard) for c in checks]
    for i, w in enumerate(waivers):
        if w.expires < as_of:
            out.append(Check(id=f"waiver:{i}:{w.check}", status="warn",
                             message=f"waiver for {w.check} approved by {w.approved_by} expired on "
                                     f"{w.expires}; remove it or renew it"))
    unused = [w for w in waivers if w.expires >= as_of
              and not any(fnmatch.fnmatchcase(c.id, w.check) for c in checks)]
    if unused:
        key = ids.waiver_unused()
        named = "; ".join(f"{w.check!r} (approved by {w.approved_by}"
                          + (f", {w.ticket})" if w.ticket else ")") for w in unused)
        out.append(Check(id=key.id, family=key.family, status="warn",
                         message=f"waivers that match no check of this run: {named}; remove "
                                 "them, or fix the check id they name"))
    return out


def _waived(c: Check, waivers: Sequence[Waiver], as_of: date, hard: Collection[str]) -> Check:
    if c.status == "pass" or is_unwaivable(c.id) or c.id in hard:
        return c
    matching = [w for w in waivers if fnmatch.fnmatchcase(c.id, w.check)]
    live = [w for w in matching if w.expires >= as_of]
    if live:
        w = live[0]
        ref = WaiverRef(reason=w.reason, approved_by=w.approved_by,
                        expires=w.expires.isoformat(), ticket=w.ticket)
        ticket = f", {w.ticket}" if w.ticket else ""
        return c.model_copy(update={
            "status": "pass", "original_status": c.original_status or c.status, "waiver": ref,
            "message": f"{c.message} [waived by {w.approved_by}{ticket} until {w.expires}]",
        })
    if matching:
        expired = matching[0]
        return c.model_copy(update={"notes": [
            *c.notes, f"waiver by {expired.approved_by} expired on {expired.expires}"]})
    return c
