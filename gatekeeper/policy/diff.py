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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gatekeeper.models.common import STATUS_ORDER
from gatekeeper.models.policy import (
    BaselineRef,
    Budget,
    Leaderboard,
    MetricRule,
    Policy,
    Reproducibility,
    VsBaseline,
)

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
    if _weaker_status(base.on_unverified, head.on_unverified):
        out.append(f"baseline on_unverified weakened from {base.on_unverified} to "
                   f"{head.on_unverified}")
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
    out = [*_metric_limits(rule, new), *_reduction(rule, new)]
    bv, nv = rule.vs_baseline, new.vs_baseline
    if bv is None:
        return out
    if nv is None:
        return [*out, f"{rule.metric}: baseline comparison removed"]
    return [*out, *_comparison(rule.metric, bv, nv)]


def _reduction(rule: MetricRule, new: MetricRule) -> list[str]:
    """Which value of a series the rule judges: only best → final is no loosening."""
    if rule.reduce == new.reduce or (rule.reduce == "best" and new.reduce == "final"):
        return []
    return [f"{rule.metric}: series reduction changed from {_show(rule.reduce)} to "
            f"{_show(new.reduce)}"]


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


_OTHER_METRICS = "\0"  # stands for every metric a per-metric tolerance does not name


def _reproducibility(base: Policy, head: Policy) -> list[str]:
    """Dropping the replay requirement or widening a replay tolerance needs approval."""
    br = base.reproducibility or Reproducibility()
    hr = head.reproducibility or Reproducibility()
    out: list[str] = []
    if br.require_replay and not hr.require_replay:
        out.append("a replay record is no longer required")
    if _weaker_status(br.on_missing_replay, hr.on_missing_replay):
        out.append(f"on_missing_replay weakened from {br.on_missing_replay} to "
                   f"{hr.on_missing_replay}")
    names = {_OTHER_METRICS}
    for rule in (br, hr):
        if isinstance(rule.replay_tolerance, dict):
            names |= set(rule.replay_tolerance)
    for name in sorted(names):
        before, after = br.tolerance(name), hr.tolerance(name)
        if after > before:
            what = "other metrics" if name == _OTHER_METRICS else name
            out.append(f"replay tolerance of {what} raised from {before:g} to {after:g}")
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


def _leaderboard(base: Policy, head: Policy) -> list[str]:
    """Fewer guards against fitting the eval set: each one loosens."""
    old, new = base.leaderboard, head.leaderboard
    if old is None:
        return []
    if new is None:
        return ["leaderboard section removed (no usage ledger, budget or Ladder)"]
    return [*_leaderboard_budget(old, new), *_leaderboard_release(old, new)]


def _leaderboard_budget(old: Leaderboard, new: Leaderboard) -> list[str]:
    out: list[str] = []
    if new.ledger != old.ledger:
        out.append(f"usage ledger changed from {old.ledger} to {new.ledger}")
    if old.max_decisions is not None and (new.max_decisions or math.inf) > old.max_decisions:
        out.append(f"reuse budget raised from {old.max_decisions} to "
                   f"{new.max_decisions or 'none'}")
    if (new.window_days or math.inf) < (old.window_days or math.inf):
        out.append(f"reuse window shortened to {new.window_days:g} days")
    if _weaker_status(old.on_exceed, new.on_exceed):
        out.append(f"leaderboard on_exceed softened from {old.on_exceed} to {new.on_exceed}")
    out += [f"eval set {name} no longer named" for name in old.eval_sets
            if name not in new.eval_sets]
    return out


def _leaderboard_release(old: Leaderboard, new: Leaderboard) -> list[str]:
    out: list[str] = []
    if old.release == "ladder" and new.release != "ladder":
        out.append("Ladder release turned off (exact scores released)")
    if new.release == "ladder" and new.ladder_step < old.ladder_step:
        out.append(f"ladder step lowered from {old.ladder_step:g} to {new.ladder_step:g}")
    out += [f"sealed holdout {name} unsealed" for name in old.sealed if name not in new.sealed]
    rank = {"bonferroni": 0, "sidak": 1, "none": 2}
    if rank[new.sweep_adjustment] > rank[old.sweep_adjustment]:
        out.append(f"sweep adjustment changed from {old.sweep_adjustment} to "
                   f"{new.sweep_adjustment}")
    return out


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
        *_reproducibility(base, head),
        *_leaderboard(base, head),
    ]


# --- The structured diff of two effective policies (``gatekeeper policy diff``) ----------------
#
# Both policies are dumped to plain data, their keyed lists turned into mappings (metrics and
# budgets by name, waivers by check, required fields and judged metrics as sets), and walked
# together: each differing leaf, or each section present on one side only, is one change,
# classified by the rule it touches. ``loosenings()`` above stays the gate's own list.

_MISSING: Any = object()
Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Change:
    path: str  # dotted, list items by name: metrics.accuracy.min
    rule: str  # what kind of change, e.g. "floor lowered"
    before: Any
    after: Any
    direction: str  # "loosened" | "tightened" | "neutral"
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rule": self.rule, "before": _plain(self.before),
                "after": _plain(self.after), "direction": self.direction,
                "file": self.file, "line": self.line}


@dataclass(frozen=True)
class PolicyDiff:
    version_bumped: bool
    changes: tuple[Change, ...]

    @property
    def meaning_changed(self) -> bool:
        return any(not c.path.startswith("metadata.") for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {"version_bumped": self.version_bumped,
                "changes": [c.as_dict() for c in self.changes]}


def _plain(value: Any) -> Any:
    return None if value is _MISSING else value


def _keyed(items: list[Any], key: str, raw: tuple[str | int, ...],
           raws: dict[Path_, tuple[str | int, ...]], path: Path_) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        name = str(item.get(key)) if isinstance(item, dict) else str(item)
        while name in out:  # two waivers for one check: keep both
            name += "'"
        out[name] = True if not isinstance(item, dict) else item
        raws[(*path, name)] = (*raw, i)
    return out


_KEYS = {"metrics": "metric", "budgets": "name", "waivers": "check"}
_SETS = {("envelope", "required"), ("judge", "metrics"), ("approvers",),
         ("leaderboard", "sealed"), ("leaderboard", "eval_sets")}


def normalize(data: dict[str, Any], raws: dict[Path_, tuple[str | int, ...]],
              path: Path_ = (), raw: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """Lists keyed by identity; ``raws`` maps a keyed path back to its list index."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        here, here_raw = (*path, str(key)), (*raw, key)
        rel = here[-2:] if len(here) >= 2 else here
        if isinstance(value, list) and (len(here) == 1 or (path[:1] == ("branches",)
                                        and len(here) == 3)) and key in _KEYS:
            items = _keyed(value, _KEYS[key], here_raw, raws, here)
            out[key] = {k: normalize(v, raws, (*here, k), raws[(*here, k)])
                        if isinstance(v, dict) else v for k, v in items.items()}
        elif isinstance(value, list) and rel in _SETS:
            out[key] = _keyed(value, "", here_raw, raws, here)
        elif isinstance(value, dict):
            out[key] = normalize(value, raws, here, here_raw)
        else:
            out[key] = value
    return out


def _walk(before: Any, after: Any, path: Path_, out: list[tuple[Path_, Any, Any]]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            _walk(before.get(key, _MISSING), after.get(key, _MISSING), (*path, key), out)
        return
    out.append((path, before, after))


def _project(top: Any, over: Any) -> Any:
    """The part of ``top`` that the override ``over`` sets."""
    if isinstance(top, dict) and isinstance(over, dict):
        return {k: _project(top.get(k, _MISSING), v) for k, v in over.items()}
    return top


def _override_effect(path: Path_, before: Any, after: Any, top_old: dict[str, Any],
                     top_new: dict[str, Any]) -> list[tuple[Path_, Any, Any]]:
    """An override added (or removed) changes, for its branches, what it sets: judged against
    the policy without it, leaf by leaf."""
    out: list[tuple[Path_, Any, Any]] = []
    if before is _MISSING and isinstance(after, dict):
        _walk(_project(top_new, after), after, path, out)
    elif after is _MISSING and isinstance(before, dict):
        _walk(before, _project(top_old, before), path, out)
    return out or [(path, before, after)]


# A missing judge or llm section is read as these (checks/judge.py, checks/llm.py).
_ABSENT_SECTIONS = {"judge": {"pin": None, "metrics": [], "on_mismatch": "block"},
                    "llm": {"one_change_at_a_time": False, "on_violation": "block"},
                    "reproducibility": {"replay_tolerance": 0.0, "require_replay": False,
                                        "on_missing_replay": "block"}}


def _with_sections(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, **{k: v for k, v in _ABSENT_SECTIONS.items() if data.get(k) is None}}


def _num(value: Any, default: float) -> float:
    return default if value is None or value is _MISSING else float(value)


def _status(rule: str) -> Callable[[Any, Any], tuple[str, str]]:
    def classify(before: Any, after: Any) -> tuple[str, str]:
        b, a = STATUS_ORDER.get(before, 2), STATUS_ORDER.get(after, 2)
        if a < b:
            return f"{rule} softened", "loosened"
        return (f"{rule} hardened", "tightened") if a > b else (f"{rule} changed", "neutral")
    return classify


def _higher_is_stricter(rule: str, missing: float) -> Callable[[Any, Any], tuple[str, str]]:
    """Floors, min_seeds, confidence, resamples: raising one tightens."""
    def classify(before: Any, after: Any) -> tuple[str, str]:
        b, a = _num(before, missing), _num(after, missing)
        if a < b:
            return f"{rule} lowered", "loosened"
        return (f"{rule} raised", "tightened") if a > b else (f"{rule} changed", "neutral")
    return classify


def _lower_is_stricter(rule: str, missing: float,
                       words: tuple[str, str] = ("raised", "lowered")
                       ) -> Callable[[Any, Any], tuple[str, str]]:
    """Ceilings, budgets, margins, ages: raising one loosens."""
    def classify(before: Any, after: Any) -> tuple[str, str]:
        b, a = _num(before, missing), _num(after, missing)
        if a > b:
            return f"{rule} {words[0]}", "loosened"
        return ((f"{rule} {words[1]}", "tightened") if a < b
                else (f"{rule} changed", "neutral"))
    return classify


def _flag(rule: str, strict: Any) -> Callable[[Any, Any], tuple[str, str]]:
    """A switch or choice whose ``strict`` value is the strict one."""
    def classify(before: Any, after: Any) -> tuple[str, str]:
        if before == strict:
            return f"{rule} dropped", "loosened"
        return (f"{rule} required", "tightened") if after == strict else (f"{rule} changed",
                                                                         "neutral")
    return classify


def _always(rule: str, direction: str) -> Callable[[Any, Any], tuple[str, str]]:
    return lambda before, after: (rule, direction)


def _ranked(rule: str, strictness: dict[str, int]) -> Callable[[Any, Any], tuple[str, str]]:
    def classify(before: Any, after: Any) -> tuple[str, str]:
        b, a = strictness.get(before, 0), strictness.get(after, 0)
        if a > b:
            return f"{rule} softened", "loosened"
        return (f"{rule} hardened", "tightened") if a < b else (f"{rule} changed", "neutral")
    return classify


def _presence(noun: str, loosen_when_removed: bool = True
              ) -> Callable[[Any, Any], tuple[str, str]]:
    """A rule, section or entry present on one side only."""
    def classify(before: Any, after: Any) -> tuple[str, str]:
        removed = after is _MISSING or after is None
        if removed:
            return f"{noun} removed", "loosened" if loosen_when_removed else "tightened"
        if before is _MISSING or before is None:
            return f"{noun} added", "tightened" if loosen_when_removed else "loosened"
        return f"{noun} changed", "neutral"
    return classify


def _waiver_expiry(before: Any, after: Any) -> tuple[str, str]:
    if str(after) > str(before):
        return "waiver extended", "loosened"
    return "waiver shortened", "tightened"


def _reduce(before: Any, after: Any) -> tuple[str, str]:
    """Which value of a series a rule judges. The best value is at least as good as the final
    one in the rule's direction, so best → final tightens; any other change (final → best, or
    reduce added or dropped) changes which number the rule judges, and an approver should see
    it: loosened."""
    if before == "best" and after == "final":
        return "series reduction final instead of best", "tightened"
    return "series reduction changed", "loosened"


def _range(before: Any, after: Any) -> tuple[str, str]:
    if before is None:
        return "range added", "tightened"
    return "range changed", "loosened"  # it decides how a missing example scores


_ENFORCEMENT = {"hard": 0, "soft": 1, "advisory": 2}  # a higher rank is softer


# The classification table: a path pattern ("*" is one name) → how a change there is judged.
Classify = Callable[[Any, Any], tuple[str, str]]
RULES: dict[Path_, Classify] = {
    ("metadata", "*"): _always("metadata changed", "neutral"),
    ("extends",): _always("extends changed", "neutral"),
    ("baseline",): _presence("baseline section"),
    ("baseline", "registry"): _always("baseline registry changed", "loosened"),
    ("baseline", "model"): _always("baseline model changed", "loosened"),
    ("baseline", "alias"): _always("baseline alias changed", "loosened"),
    ("baseline", "version"): _always("baseline version pin changed", "loosened"),
    ("baseline", "max_age_days"): _lower_is_stricter("baseline max age", float("inf")),
    ("baseline", "on_missing"): _status("baseline on_missing"),
    ("baseline", "on_unverified"): _status("baseline on_unverified"),
    ("baseline", "on_registry_error"): _ranked("baseline on_registry_error",
                                               {"block": 0, "error": 1}),
    ("envelope", "required", "*"): _presence("required field"),
    ("envelope", "min_seeds"): _higher_is_stricter("min_seeds", 0),
    ("envelope", "require_clean_code"): _flag("clean code", True),
    ("envelope", "on_missing"): _status("envelope on_missing"),
    ("metrics", "*"): _presence("rule"),
    ("metrics", "*", "min"): _higher_is_stricter("floor", float("-inf")),
    ("metrics", "*", "max"): _lower_is_stricter("ceiling", float("inf")),
    ("metrics", "*", "range"): _range,
    ("metrics", "*", "reduce"): _reduce,
    ("metrics", "*", "higher_is_better"): _always("direction changed", "loosened"),
    ("metrics", "*", "on_fail"): _status("on_fail"),
    ("metrics", "*", "on_inconclusive"): _status("on_inconclusive"),
    ("metrics", "*", "vs_baseline"): _presence("baseline comparison"),
    ("metrics", "*", "vs_baseline", "confidence"): _higher_is_stricter("confidence", 0),
    ("metrics", "*", "vs_baseline", "margin"): _lower_is_stricter("margin", 0,
                                                                  ("widened", "narrowed")),
    ("metrics", "*", "vs_baseline", "margin_rel"): _lower_is_stricter(
        "relative margin", 0, ("widened", "narrowed")),
    ("metrics", "*", "vs_baseline", "min_gain"): _higher_is_stricter("required gain", 0),
    ("metrics", "*", "vs_baseline", "require"): _flag("improvement", "superior"),
    ("metrics", "*", "vs_baseline", "require_full_overlap"): _flag("full overlap", True),
    ("metrics", "*", "vs_baseline", "missing"): _ranked("missing examples",
                                                        {"fail": 0, "drop": 1}),
    ("metrics", "*", "vs_baseline", "max_missing_fraction"): _lower_is_stricter(
        "max_missing_fraction", 0),
    ("metrics", "*", "vs_baseline", "method"): _always("comparison method changed", "loosened"),
    ("metrics", "*", "vs_baseline", "aggregate"): _always("comparison aggregate changed",
                                                          "loosened"),
    ("metrics", "*", "vs_baseline", "quantile"): _always("comparison quantile changed",
                                                         "loosened"),
    ("budgets", "*"): _presence("rule"),
    ("budgets", "*", "max"): _lower_is_stricter("budget", float("inf")),
    ("budgets", "*", "min"): _higher_is_stricter("budget minimum", float("-inf")),
    ("budgets", "*", "on_exceed"): _status("on_exceed"),
    ("budgets", "*", "vs_baseline"): _presence("budget ratio limit"),
    ("budgets", "*", "vs_baseline", "max_ratio"): _lower_is_stricter("budget ratio",
                                                                     float("inf")),
    ("budgets", "*", "vs_baseline", "confidence"): _higher_is_stricter("confidence", 0),
    ("judge",): _presence("judge section"),
    ("judge", "pin"): _presence("judge pin"),
    ("judge", "pin", "*"): _always("judge pin changed", "loosened"),
    ("judge", "metrics", "*"): _presence("judged metric"),
    ("judge", "on_mismatch"): _status("judge on_mismatch"),
    ("waivers", "*"): _presence("waiver", loosen_when_removed=False),
    ("waivers", "*", "expires"): _waiver_expiry,
    ("waivers", "*", "approved_by"): _always("waiver approver changed", "loosened"),
    ("waivers", "*", "*"): _always("waiver changed", "neutral"),
    # The rules about rules: who may approve, what a waiver must carry, how hard a rule is.
    ("approvers", "*"): _presence("approver", loosen_when_removed=False),
    ("waiver_policy", "require_ticket"): _flag("waiver ticket", True),
    ("metrics", "*", "enforcement"): _ranked("enforcement", _ENFORCEMENT),
    ("budgets", "*", "enforcement"): _ranked("enforcement", _ENFORCEMENT),
    ("llm",): _presence("llm section"),
    ("llm", "one_change_at_a_time"): _flag("one change at a time", True),
    ("llm", "on_violation"): _status("llm on_violation"),
    ("multiplicity", "method"): _ranked(
        "multiplicity method", {k: -v for k, v in MULTIPLICITY_STRICTNESS.items()}),
    ("stats", "resamples"): _higher_is_stricter("resamples", 0),
    ("stats", "seed"): _always("seed changed", "loosened"),
    ("reproducibility", "require_replay"): _flag("replay record", True),
    ("reproducibility", "on_missing_replay"): _status("on_missing_replay"),
    ("reproducibility", "replay_tolerance"): _always("replay tolerance changed", "loosened"),
    ("reproducibility", "replay_tolerance", "*"): _lower_is_stricter("replay tolerance", 0),
    ("leaderboard",): _presence("leaderboard section"),
    ("leaderboard", "ledger"): _always("usage ledger changed", "loosened"),
    ("leaderboard", "eval_sets", "*"): _presence("named eval set"),
    ("leaderboard", "max_decisions"): _lower_is_stricter("reuse budget", float("inf")),
    ("leaderboard", "window_days"): _higher_is_stricter("reuse window", float("inf")),
    ("leaderboard", "on_exceed"): _status("leaderboard on_exceed"),
    ("leaderboard", "release"): _ranked("score release", {"ladder": 0, "exact": 1}),
    ("leaderboard", "ladder_step"): _higher_is_stricter("ladder step", 0),
    ("leaderboard", "sealed", "*"): _presence("sealed holdout"),
    ("leaderboard", "sweep_adjustment"): _ranked(
        "sweep adjustment", {"bonferroni": 0, "sidak": 1, "none": 2}),
    # Reached only when an added or removed override sets nothing the policy does not.
    ("branches", "*"): lambda before, after: (
        "branch override removed" if after is _MISSING else "branch override added", "neutral"),
}


def _match(path: Path_) -> Classify | None:
    exact = [p for p in RULES if len(p) == len(path)
             and all(a in ("*", b) for a, b in zip(p, path, strict=True))]
    # The most specific pattern wins: fewer wildcards.
    exact.sort(key=lambda p: p.count("*"))
    return RULES[exact[0]] if exact else None


def classify(path: Path_, before: Any, after: Any) -> tuple[str, str]:
    """The rule a change touches and its direction."""
    if len(path) > 2 and path[0] == "branches":
        rule, direction = classify(path[2:], before, after)
        return f"{rule} (branch override {path[1]!r})", direction
    found = _match(path)
    if found is None:
        return "changed", "neutral"
    return found(before, after)


def version_grew(before: Any, after: Any) -> bool:
    """Numbers and dotted numbers compare as numbers, a leading "v" aside ("1.0" and "v1" are 1:
    no bump from 1). A number never grows into a name: the next bump could be the old number
    again, and two meanings would share one version. Names (no order) must change."""
    b, a = _version_number(before), _version_number(after)
    if b is not None:
        return a is not None and a > b
    return str(after) != str(before)


def _version_number(version: Any) -> tuple[int, ...] | None:
    text = str(version)
    parts = (text[1:] if text[:1] in ("v", "V") else text).split(".")
    # ASCII digits only: int() also takes "1_0", " 1" and other scripts' digits, and "²" is a
    # digit to str.isdigit() that int() refuses.
    if not all(p and p.isascii() and p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


Locate = Callable[[tuple[str | int, ...]], "tuple[str | None, int | None]"]


def structured_diff(old: dict[str, Any], new: dict[str, Any],
                    old_locate: Locate | None = None,
                    new_locate: Locate | None = None) -> PolicyDiff:
    """``old``/``new``: effective policies as ``Policy.model_dump(mode="json", by_alias=True)``;
    the ``locate`` functions map a raw field path to (file, line)."""
    old_raws: dict[Path_, tuple[str | int, ...]] = {}
    new_raws: dict[Path_, tuple[str | int, ...]] = {}
    found: list[tuple[Path_, Any, Any]] = []
    old_n = normalize(_with_sections(old), old_raws)
    new_n = normalize(_with_sections(new), new_raws)
    _walk(old_n, new_n, (), found)
    expanded = [item for path, before, after in found
                for item in (_override_effect(path, before, after, old_n, new_n)
                             if len(path) == 2 and path[0] == "branches"
                             else [(path, before, after)])]
    changes: list[Change] = []
    for path, before, after in expanded:
        if path == ("metadata", "version"):
            continue
        rule, direction = classify(path, before, after)
        removed = after is _MISSING
        locate = old_locate if removed else new_locate
        file, line = (locate(_raw(path, old_raws if removed else new_raws))
                      if locate else (None, None))
        changes.append(Change(".".join(path), rule, before, after, direction, file, line))
    bumped = version_grew(old["metadata"]["version"], new["metadata"]["version"])
    return PolicyDiff(bumped, tuple(changes))


def _raw(path: Path_, raws: dict[Path_, tuple[str | int, ...]]) -> tuple[str | int, ...]:
    for n in range(len(path), 0, -1):
        if path[:n] in raws:
            return (*raws[path[:n]], *path[n:])
    return path
