"""The dataset–model–prompt triple: which of the three changed against the baseline.

A difference between two LLM runs can only be attributed when one of dataset (``llm.dataset``:
name, version, sha256), model (``llm.model``: provider, name, revision) and prompts
(``llm.prompts``: id, version, sha256 each) changed. ``llm:triple`` always reports what changed
(a pass: it is information); with ``llm.one_change_at_a_time: true`` the policy adds
``llm:one_change_at_a_time``, which takes ``llm.on_violation`` when two or more changed. A part
that one of the two runs does not record is *unknown*, and so is a dataset of the same name with
no version or sha256 recorded by both runs (a name is not an identity; a prompt always records
its version). Unknown never counts as unchanged, and when it could be the second change the rule
warns that it cannot confirm a single change.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.common import Status
from gatekeeper.models.run import EvalDataset, LlmModel, Prompt, Run
from gatekeeper.models.verdict import Check, Source


@dataclass(frozen=True)
class PartChange:
    part: str  # dataset | model | prompt
    state: str  # changed | unchanged | unknown
    detail: str = ""  # e.g. "summarize v6→v7"


def _short(value: object) -> str:
    text = "none" if value is None else str(value)
    return text[:12] if len(text) == 64 else text  # a sha256: its prefix reads enough


def _fields_diff(old: object, new: object, fields: tuple[str, ...]) -> list[str]:
    return [f"{f} {_short(getattr(old, f))}→{_short(getattr(new, f))}" for f in fields
            if getattr(old, f) != getattr(new, f)]


def _identified_diff(old: object, new: object, fields: tuple[str, ...]) -> list[str] | None:
    """The identifying fields that differ, among those both sides record; None when the two
    sides record no identifying field in common, so nothing says whether it changed."""
    common = [f for f in fields if getattr(old, f) is not None and getattr(new, f) is not None]
    if not common:
        return None
    return _fields_diff(old, new, tuple(common))


def _dataset(old: EvalDataset | None, new: EvalDataset | None) -> PartChange:
    if old is None or new is None:
        return PartChange("dataset", "unknown", _not_recorded("llm.dataset", old, new))
    if old.name != new.name:
        return PartChange("dataset", "changed", f"dataset {_short(old.name)}→{_short(new.name)}")
    diff = _identified_diff(old, new, ("version", "sha256"))
    if diff is None:
        # A name alone does not identify the rows: the eval set may have changed under it.
        return PartChange("dataset", "unknown", f"dataset {new.name}: no version or sha256 "
                          "recorded by both runs")
    return PartChange("dataset", "changed" if diff else "unchanged",
                      f"dataset {new.name}: {', '.join(diff)}" if diff else "")


def _model(old: LlmModel | None, new: LlmModel | None) -> PartChange:
    if old is None or new is None:
        return PartChange("model", "unknown", _not_recorded("llm.model", old, new))
    if (old.provider, old.name) != (new.provider, new.name):
        return PartChange("model", "changed", f"model {_model_name(old)}→{_model_name(new)}")
    if old.revision != new.revision:
        return PartChange("model", "changed", f"model {new.name} revision "
                          f"{_short(old.revision)}→{_short(new.revision)}")
    return PartChange("model", "unchanged")


def _model_name(m: LlmModel) -> str:
    return f"{m.provider}/{m.name}" if m.provider else m.name


def _prompt_text(p: Prompt) -> str:
    return f"v{p.version}" if p.version is not None else "?"


def _prompts(old: list[Prompt], new: list[Prompt]) -> PartChange:
    if not old or not new:
        return PartChange("prompt", "unknown", _not_recorded("llm.prompts", old or None,
                                                             new or None))
    before = {p.id: p for p in old}
    after = {p.id: p for p in new}
    details = [d for d in (_prompt_change(pid, before.get(pid), after.get(pid))
                           for pid in sorted(before.keys() | after.keys())) if d is not None]
    return PartChange("prompt", "changed" if details else "unchanged", "; ".join(details))


def _prompt_change(pid: str, a: Prompt | None, b: Prompt | None) -> str | None:
    """How one prompt differs between baseline ``a`` and candidate ``b`` (None: it does not)."""
    if a is None:
        return f"prompt {pid} added ({_prompt_text(b)})" if b is not None else None
    if b is None:
        return f"prompt {pid} removed"
    if str(a.version) != str(b.version):
        return f"prompt {pid} {_prompt_text(a)}→{_prompt_text(b)}"
    if a.sha256 != b.sha256:
        # Same version number, other text: the version was not bumped.
        return (f"prompt {pid} {_prompt_text(b)} text changed (sha256 "
                f"{_short(a.sha256)}→{_short(b.sha256)})")
    return None


def _not_recorded(field: str, old: object, new: object) -> str:
    sides = [side for side, v in (("baseline", old), ("candidate", new)) if v is None]
    return f"{field} not recorded by the {' and '.join(sides)}"


def triple_changes(baseline: Run, candidate: Run) -> list[PartChange]:
    """How dataset, model and prompts differ between two runs, in that order."""
    b, c = baseline.llm, candidate.llm
    return [
        _dataset(b.dataset if b else None, c.dataset if c else None),
        _model(b.model if b else None, c.model if c else None),
        _prompts(b.prompts if b else [], c.prompts if c else []),
    ]


def summary(changes: list[PartChange]) -> str:
    """'changed: prompt summarize v6→v7; unchanged: dataset, model'."""
    out = []
    changed = [c.detail or c.part for c in changes if c.state == "changed"]
    unchanged = [c.part for c in changes if c.state == "unchanged"]
    unknown = [c.detail or c.part for c in changes if c.state == "unknown"]
    if changed:
        out.append("changed: " + "; ".join(changed))
    else:
        out.append("nothing changed" if not unknown else "no recorded change")
    if unchanged:
        out.append("unchanged: " + ", ".join(unchanged))
    if unknown:
        out.append("unknown: " + "; ".join(unknown))
    return "; ".join(out)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def run(ctx: Evidence) -> list[Check]:
    policy = ctx.policy.policy
    rule = policy.llm
    if ctx.bundle.run.llm is None and rule is None:
        return []
    src = source_of(ctx.policy.location("llm")) if rule is not None else None
    strict = rule is not None and rule.one_change_at_a_time
    if ctx.baseline is None:
        if rule is None and policy.baseline is None:
            return []  # nothing to compare with and nothing required
        return [_no_baseline(strict, src)]
    changes = triple_changes(ctx.baseline.run, ctx.bundle.run)
    text = summary(changes)
    out = [check(ids.llm("triple"), "pass", text, observed=", ".join(
        c.part for c in changes if c.state == "changed") or "none", source=src)]
    if strict:
        assert rule is not None
        out.append(_one_change(changes, text, rule.on_violation, src))
    return out


def _no_baseline(strict: bool, src: Source | None) -> Check:
    msg = ("no baseline: cannot tell which of dataset, model and prompt changed"
           + (", so a single change cannot be confirmed" if strict else ""))
    return check(ids.llm("one_change_at_a_time" if strict else "triple"), "warn", msg,
                 source=src)


def _one_change(changes: list[PartChange], text: str, on_violation: Status,
                src: Source | None) -> Check:
    """``llm:one_change_at_a_time``: two changes cannot be told apart; an unknown part that
    could be the second one only warns."""
    changed = [c.part for c in changes if c.state == "changed"]
    unknown = [c.part for c in changes if c.state == "unknown"]
    cid = ids.llm("one_change_at_a_time")
    if len(changed) > 1:
        return check(cid, on_violation,
                     f"cannot attribute the difference: {_and(changed)} "
                     f"{'both' if len(changed) == 2 else 'all'} changed ({text})",
                     observed=len(changed), threshold=1, source=src)
    if unknown and len(changed) + len(unknown) > 1:
        return check(cid, "warn",
                     f"cannot confirm a single change: {_and(unknown)} "
                     f"{'is' if len(unknown) == 1 else 'are'} not identified by both runs "
                     f"({text})", observed=len(changed), threshold=1, source=src)
    what = f"only the {changed[0]} changed" if changed else "nothing changed"
    return check(cid, "pass", f"{what}: the difference can be attributed ({text})",
                 observed=len(changed), threshold=1, source=src)
