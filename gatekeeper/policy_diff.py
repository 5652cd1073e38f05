"""Which changes from the base policy to the PR's policy loosen the gate.

A PR that loosens the policy gating it needs someone to approve that separately: the gate runs
on the base version and the report lists each loosening.
"""

from __future__ import annotations

from gatekeeper.models.common import STATUS_ORDER
from gatekeeper.models.policy import Policy


def _weaker_status(base: str, head: str) -> bool:
    return STATUS_ORDER[head] < STATUS_ORDER[base]


def loosenings(base: Policy, head: Policy) -> list[str]:
    out: list[str] = []
    be, he = base.envelope, head.envelope
    for path in sorted(set(be.required) - set(he.required)):
        out.append(f"envelope field {path} is no longer required")
    if be.min_seeds and (he.min_seeds or 0) < be.min_seeds:
        out.append(f"min_seeds lowered from {be.min_seeds} to {he.min_seeds or 'none'}")
    if be.require_clean_code and not he.require_clean_code:
        out.append("clean code is no longer required")
    if _weaker_status(be.on_missing, he.on_missing):
        out.append(f"envelope on_missing weakened from {be.on_missing} to {he.on_missing}")
    head_rules = {r.metric: r for r in head.metrics}
    for rule in base.metrics:
        new = head_rules.get(rule.metric)
        name = rule.metric
        if new is None:
            out.append(f"metric rule {name} removed")
            continue
        if rule.min is not None and (new.min is None or new.min < rule.min):
            out.append(f"{name}: floor lowered from {rule.min} to {new.min}")
        if rule.max is not None and (new.max is None or new.max > rule.max):
            out.append(f"{name}: ceiling raised from {rule.max} to {new.max}")
        if _weaker_status(rule.on_fail, new.on_fail):
            out.append(f"{name}: on_fail weakened from {rule.on_fail} to {new.on_fail}")
        if _weaker_status(rule.on_inconclusive, new.on_inconclusive):
            out.append(f"{name}: on_inconclusive weakened from {rule.on_inconclusive} to "
                       f"{new.on_inconclusive}")
        bv, nv = rule.vs_baseline, new.vs_baseline
        if bv is not None:
            if nv is None:
                out.append(f"{name}: baseline comparison removed")
                continue
            if nv.margin > bv.margin or (nv.margin_rel or 0) > (bv.margin_rel or 0):
                out.append(f"{name}: non-inferiority margin widened")
            if nv.confidence < bv.confidence:
                out.append(f"{name}: confidence lowered from {bv.confidence} to {nv.confidence}")
            if bv.require == "superior" and nv.require != "superior":
                out.append(f"{name}: improvement no longer required")
            if (bv.min_gain or 0) > (nv.min_gain or 0):
                out.append(f"{name}: required gain lowered")
    head_budgets = {b.name: b for b in head.budgets}
    for budget in base.budgets:
        new_b = head_budgets.get(budget.name)
        if new_b is None:
            out.append(f"budget {budget.name} removed")
            continue
        if budget.max is not None and (new_b.max is None or new_b.max > budget.max):
            out.append(f"budget {budget.name}: max raised from {budget.max} to {new_b.max}")
        if budget.min is not None and (new_b.min is None or new_b.min < budget.min):
            out.append(f"budget {budget.name}: min lowered from {budget.min} to {new_b.min}")
        if _weaker_status(budget.on_exceed, new_b.on_exceed):
            out.append(f"budget {budget.name}: on_exceed weakened")
    if base.judge and base.judge.pin and not (head.judge and head.judge.pin):
        out.append("judge pin removed")
    elif base.judge and head.judge and base.judge.pin and head.judge.pin and \
            base.judge.pin != head.judge.pin:
        out.append("judge pin changed")
    if base.llm and base.llm.one_change_at_a_time and not (head.llm and
                                                           head.llm.one_change_at_a_time):
        out.append("one_change_at_a_time switched off")
    base_waivers = {(w.check, w.approved_by, w.expires) for w in base.waivers}
    for w in head.waivers:
        if (w.check, w.approved_by, w.expires) not in base_waivers:
            out.append(f"waiver added for {w.check} (approved by {w.approved_by} until "
                       f"{w.expires})")
    return out
