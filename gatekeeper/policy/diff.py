"""Which changes from the base policy to the PR's policy loosen the gate.

A PR that loosens the policy gating it needs someone to approve that separately: the gate runs
on the base version and the report lists each loosening.

Some changes are flagged although they are not looser in every case, because they let a PR pick
what it is judged against or how: any change to the baseline's registry, model, alias or version
pin (an older or another model's version is an easier bar), a change of ``stats.seed`` (a seed
can be shopped for until a borderline resample passes), of a comparison's ``method``,
``aggregate``, ``quantile`` or direction, and any change to a ``branches:`` override (those
patterns are compared as raw mappings: the effective policy of the target branch is compared
rule by rule as well, but another branch's override applies to other PRs).

Multiplicity: the adjustment applies to the family of block tests only (a pass needs every
rule, no correction). Larger adjusted p-values mean fewer blocks, so for blocking the methods
rank, strictest first: ``none`` > ``bh`` > ``holm`` > ``bonferroni`` (BH-adjusted p-values are
never above Holm's, and Holm's never above Bonferroni's). A move down that ranking loosens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gatekeeper.models.common import STATUS_ORDER
from gatekeeper.models.policy import BaselineRef, Budget, MetricRule, Policy, VsBaseline

Rule = TypeVar("Rule", MetricRule, Budget)

# Strictness for blocking: more blocks = stricter (see the module docstring).
MULTIPLICITY_STRICTNESS = {"bonferroni": 0, "holm": 1, "bh": 2, "none": 3}
# "block" turns an unreachable registry into a block verdict; "error" into exit 2, which a
# workflow can tolerate (continue-on-error) without the gate having judged anything.
_REGISTRY_ERROR_STRICTNESS = {"error": 0, "block": 1}


def _weaker_status(base: str, head: str) -> bool:
    return STATUS_ORDER[head] < STATUS_ORDER[base]


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "none" if value is None else str(value)


def _baseline(base: BaselineRef | None, head: BaselineRef | None) -> list[str]:
    if base is None:
        return []
    if head is None:
        return ["baseline section removed"]
    out: list[str] = []
    for name in ("registry", "model", "alias"):
        old, new = getattr(base, name), getattr(head, name)
        if old != new:
            out.append(f"baseline {name} changed from {_show(old)} to {_show(new)}")
    if base.version != head.version:
        out.append(f"baseline version pin changed from {_show(base.version)} to "
                   f"{_show(head.version)}")
    if _weaker_status(base.on_missing, head.on_missing):
        out.append(f"baseline on_missing weakened from {base.on_missing} to {head.on_missing}")
    if base.max_age_days is not None and (head.max_age_days is None
                                          or head.max_age_days > base.max_age_days):
        out.append(f"baseline max_age_days raised from {base.max_age_days:g} to "
                   f"{_show(head.max_age_days)}")
    if (_REGISTRY_ERROR_STRICTNESS[head.on_registry_error]
            < _REGISTRY_ERROR_STRICTNESS[base.on_registry_error]):
        out.append(f"baseline on_registry_error weakened from {base.on_registry_error} to "
                   f"{head.on_registry_error}")
    return out


def _envelope(base: Policy, head: Policy) -> list[str]:
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
    return out


def _metric(rule: MetricRule, new: MetricRule) -> list[str]:
    out = _metric_limits(rule, new)
    bv, nv = rule.vs_baseline, new.vs_baseline
    if bv is None:
        return out
    if nv is None:
        return [*out, f"{rule.metric}: baseline comparison removed"]
    return [*out, *_comparison(rule.metric, bv, nv)]


def _metric_limits(rule: MetricRule, new: MetricRule) -> list[str]:
    """Direction, floor, ceiling and what a failure costs."""
    out: list[str] = []
    name = rule.metric
    if rule.higher_is_better != new.higher_is_better:
        out.append(f"{name}: direction changed (higher_is_better {new.higher_is_better})")
    if rule.min is not None and (new.min is None or new.min < rule.min):
        out.append(f"{name}: floor lowered from {rule.min} to {new.min}")
    if rule.max is not None and (new.max is None or new.max > rule.max):
        out.append(f"{name}: ceiling raised from {rule.max} to {new.max}")
    if rule.range is not None and new.range != rule.range:
        out.append(f"{name}: range changed from {list(rule.range)} to "
                   f"{list(new.range) if new.range else None}")
    if _weaker_status(rule.on_fail, new.on_fail):
        out.append(f"{name}: on_fail weakened from {rule.on_fail} to {new.on_fail}")
    if _weaker_status(rule.on_inconclusive, new.on_inconclusive):
        out.append(f"{name}: on_inconclusive weakened from {rule.on_inconclusive} to "
                   f"{new.on_inconclusive}")
    return out


def _comparison(name: str, bv: VsBaseline, nv: VsBaseline) -> list[str]:
    """The rule's comparison with the baseline: margin, confidence, what it requires, how."""
    out: list[str] = []
    if nv.margin > bv.margin or (nv.margin_rel or 0) > (bv.margin_rel or 0):
        out.append(f"{name}: non-inferiority margin widened")
    if nv.confidence < bv.confidence:
        out.append(f"{name}: confidence lowered from {bv.confidence} to {nv.confidence}")
    if bv.require == "superior" and nv.require != "superior":
        out.append(f"{name}: improvement no longer required")
    if (bv.min_gain or 0) > (nv.min_gain or 0):
        out.append(f"{name}: required gain lowered")
    if bv.require_full_overlap and not nv.require_full_overlap:
        out.append(f"{name}: require_full_overlap switched off")
    out.extend(_missing(name, bv, nv))
    for what in ("method", "aggregate", "quantile"):
        old, new_value = getattr(bv, what), getattr(nv, what)
        if old != new_value:
            out.append(f"{name}: comparison {what} changed from {_show(old)} to "
                       f"{_show(new_value)}")
    return out


def _missing(name: str, bv: VsBaseline, nv: VsBaseline) -> list[str]:
    """Examples the candidate lacks: scoring them as failures is the strict reading."""
    if bv.missing == "fail" and nv.missing == "drop":
        return [f"{name}: missing examples dropped instead of scored as failures"]
    if nv.missing == "drop" and nv.max_missing_fraction > bv.max_missing_fraction:
        return [f"{name}: max_missing_fraction raised from {bv.max_missing_fraction} to "
                f"{nv.max_missing_fraction}"]
    return []


def _rules(base: Sequence[Rule], head: Sequence[Rule], key: Callable[[Rule], str],
           removed: str, compare: Callable[[Rule, Rule], list[str]]) -> list[str]:
    """Match rules by name: a removed rule loosens, a kept one is compared field by field."""
    out: list[str] = []
    head_by_key = {key(r): r for r in head}
    for rule in base:
        new = head_by_key.get(key(rule))
        out.extend([removed.format(key(rule))] if new is None else compare(rule, new))
    return out


def _budget(budget: Budget, new: Budget) -> list[str]:
    out: list[str] = []
    name = budget.name
    if budget.max is not None and (new.max is None or new.max > budget.max):
        out.append(f"budget {name}: max raised from {budget.max} to {new.max}")
    if budget.min is not None and (new.min is None or new.min < budget.min):
        out.append(f"budget {name}: min lowered from {budget.min} to {new.min}")
    if _weaker_status(budget.on_exceed, new.on_exceed):
        out.append(f"budget {name}: on_exceed weakened")
    bv, nv = budget.vs_baseline, new.vs_baseline
    if bv is not None:
        if nv is None:
            out.append(f"budget {name}: baseline ratio limit removed")
        else:
            if nv.max_ratio > bv.max_ratio:
                out.append(f"budget {name}: max_ratio raised from {bv.max_ratio} to "
                           f"{nv.max_ratio}")
            if nv.confidence < bv.confidence:
                # A narrower interval clears max_ratio sooner: an easier pass.
                out.append(f"budget {name}: confidence lowered from {bv.confidence} to "
                           f"{nv.confidence}")
    return out


def _judge_and_llm(base: Policy, head: Policy) -> list[str]:
    return [*_judge(base, head), *_llm(base, head)]


def _judge(base: Policy, head: Policy) -> list[str]:
    out: list[str] = []
    base_pin = base.judge.pin if base.judge else None
    head_pin = head.judge.pin if head.judge else None
    if base_pin and not head_pin:
        out.append("judge pin removed")
    elif base_pin and head_pin and base_pin != head_pin:
        out.append("judge pin changed")
    # Without a judge section a judge mismatch blocks (checks/judge.py): compare what applies.
    base_judged = set(base.judge.metrics) if base.judge else set()
    head_judged = set(head.judge.metrics) if head.judge else set()
    for name in sorted(base_judged - head_judged):
        out.append(f"{name} is no longer listed as judged (its judge is not checked)")
    base_mismatch = base.judge.on_mismatch if base.judge else "block"
    head_mismatch = head.judge.on_mismatch if head.judge else "block"
    if _weaker_status(base_mismatch, head_mismatch):
        out.append(f"judge on_mismatch weakened from {base_mismatch} to {head_mismatch}")
    return out


def _llm(base: Policy, head: Policy) -> list[str]:
    base_one = bool(base.llm and base.llm.one_change_at_a_time)
    head_one = bool(head.llm and head.llm.one_change_at_a_time)
    if base_one and not head_one:
        return ["one_change_at_a_time switched off"]
    if base_one and base.llm and head.llm and _weaker_status(base.llm.on_violation,
                                                             head.llm.on_violation):
        return [f"llm on_violation weakened from {base.llm.on_violation} to "
                f"{head.llm.on_violation}"]
    return []


def _stats(base: Policy, head: Policy) -> list[str]:
    out: list[str] = []
    old, new = base.multiplicity.method, head.multiplicity.method
    if MULTIPLICITY_STRICTNESS[new] < MULTIPLICITY_STRICTNESS[old]:
        out.append(f"multiplicity method changed from {old} to {new} (fewer blocks)")
    if head.stats.resamples < base.stats.resamples:
        out.append(f"stats.resamples lowered from {base.stats.resamples} to "
                   f"{head.stats.resamples}")
    if head.stats.seed != base.stats.seed:
        out.append(f"stats.seed changed from {base.stats.seed} to {head.stats.seed}")
    return out


def _branches(base: Policy, head: Policy) -> list[str]:
    """Any change to an override needs approval: it gates the PRs to other branches."""
    patterns = sorted(set(base.branches) | set(head.branches))
    return [f"branch overrides changed: {pattern}" for pattern in patterns
            if base.branches.get(pattern) != head.branches.get(pattern)]


def _waivers(base: Policy, head: Policy) -> list[str]:
    base_waivers = {(w.check, w.approved_by, w.expires) for w in base.waivers}
    return [f"waiver added for {w.check} (approved by {w.approved_by} until {w.expires})"
            for w in head.waivers if (w.check, w.approved_by, w.expires) not in base_waivers]


def loosenings(base: Policy, head: Policy) -> list[str]:
    """Each way ``head`` is looser than ``base``, as short sentences; [] when none."""
    return [
        *_baseline(base.baseline, head.baseline),
        *_envelope(base, head),
        *_rules(base.metrics, head.metrics, lambda r: r.metric, "metric rule {} removed",
                _metric),
        *_rules(base.budgets, head.budgets, lambda b: b.name, "budget {} removed", _budget),
        *_judge_and_llm(base, head),
        *_stats(base, head),
        *_branches(base, head),
        *_waivers(base, head),
    ]
