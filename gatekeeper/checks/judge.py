"""LLM-judge identity: scores from one judge are not comparable with scores from another.

A metric is *judged* when an LLM judge produced its scores. Its judge is ``metrics.<m>.judge``
when the metric names one; otherwise the run-level ``llm.judge`` applies to every score metric
(value, replicates, per-example), but never to latency/cost ``samples`` or ``series``. A metric
that writes ``judge: null`` explicitly opts out of the run-level judge: that is how one run mixes
judged metrics with exact-match ones.

Two rules, both ``judge.on_mismatch`` (default block):

* ``judge:pin:<metric>`` — the policy's ``judge.pin`` (model, and prompt_sha256 / temperature
  when the pin gives them) must match the candidate's judge of every judged metric. A run that
  records no judge would slip past that, so ``judge.metrics`` lists the metrics an LLM judge
  scores: each of them must record a judge (``judge:recorded:<metric>`` without a pin), and one
  that records none takes ``on_mismatch``. A pin with no list, on a run that records no judge at
  all, is a warning (``judge:pin``): the pin cannot be enforced;
* ``judge:baseline:<metric>`` — for each metric compared with the baseline (a ``vs_baseline``
  rule), candidate and baseline must have the same judge (model, prompt_sha256, temperature).
  Otherwise Δ measures the judge as much as the model, so the metric is listed in the
  family's ``not_comparable`` finding and its ``vs_baseline`` check takes the same status, even
  when both judges match some pin. A different judge *library version* alone is a note, not a
  mismatch: the prompt hash already captures what the judge was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.common import Status
from gatekeeper.models.policy import JudgePin
from gatekeeper.models.run import JudgeIdentity, Run
from gatekeeper.models.verdict import Check, Source

_SCORE_KINDS = ("value", "replicates", "per_example")
# What makes two judges the same judge (see the module docstring for library_version).
_IDENTITY = ("model", "prompt_sha256", "temperature")


def judge_of(run: Run, metric: str) -> JudgeIdentity | None:
    """The judge that scored ``metric`` in ``run``, or None for an unjudged metric."""
    spec = run.metrics.get(metric)
    if spec is None:
        return None
    if "judge" in spec.model_fields_set:  # given on the metric, even as null: it wins
        return spec.judge
    if spec.kind not in _SCORE_KINDS or run.llm is None:
        return None
    return run.llm.judge


def judged_metrics(run: Run) -> dict[str, JudgeIdentity]:
    out: dict[str, JudgeIdentity] = {}
    for name in sorted(run.metrics):
        judge = judge_of(run, name)
        if judge is not None:
            out[name] = judge
    return out


def describe(judge: JudgeIdentity | JudgePin | None) -> str:
    """'gpt-4o-2024-08-06 (prompt 1a2b3c4d5e6f, temperature 0)'; 'no judge' for None."""
    if judge is None:
        return "no judge"
    parts = []
    if judge.prompt_sha256 is not None:
        parts.append(f"prompt {judge.prompt_sha256[:12]}")
    if judge.temperature is not None:
        parts.append(f"temperature {judge.temperature:g}")
    if isinstance(judge, JudgeIdentity) and judge.library:
        parts.append(f"{judge.library} {judge.library_version or ''}".rstrip())
    return judge.model + (f" ({', '.join(parts)})" if parts else "")


def identity(judge: JudgeIdentity | None) -> tuple[object, ...] | None:
    return None if judge is None else tuple(getattr(judge, k) for k in _IDENTITY)


def pin_mismatches(pin: JudgePin, judge: JudgeIdentity) -> list[str]:
    """Which pinned fields the judge does not match (fields the pin leaves out are free)."""
    out = []
    if judge.model != pin.model:
        out.append("model")
    if pin.prompt_sha256 is not None and judge.prompt_sha256 != pin.prompt_sha256:
        out.append("prompt_sha256")
    if pin.temperature is not None and judge.temperature != pin.temperature:
        out.append("temperature")
    return out


def _on_mismatch(ctx: Evidence) -> Status:
    rule = ctx.policy.policy.judge
    return rule.on_mismatch if rule is not None else "block"


def _pin_check(name: str, judge: JudgeIdentity, pin: JudgePin, status: Status,
               src: Source | None) -> Check:
    wrong = pin_mismatches(pin, judge)
    if wrong:
        return check(
            ids.judge("pin", name), status,
            f"{name} was scored by {describe(judge)}, but the policy pins {describe(pin)} "
            f"({', '.join(wrong)} differ{'s' if len(wrong) == 1 else ''})",
            observed=judge.model, threshold=pin.model, source=src)
    return check(ids.judge("pin", name), "pass",
                 f"{name} was scored by the pinned judge {describe(judge)}",
                 observed=judge.model, threshold=pin.model, source=src)


def _listed_checks(ctx: Evidence, judged: dict[str, JudgeIdentity]) -> list[Check]:
    """``judge.metrics``: each listed metric of the run must record its judge."""
    rule = ctx.policy.policy.judge
    assert rule is not None
    pin = rule.pin
    kind: Literal["pin", "recorded"] = "pin" if pin is not None else "recorded"
    out = []
    for i, name in enumerate(rule.metrics):
        if name not in ctx.bundle.run.metrics:
            continue  # a missing metric is its metric rule's failure, not the judge's
        src = source_of(ctx.policy.location("judge", "metrics", i))
        judge = judged.get(name)
        if judge is None:
            out.append(check(
                ids.judge(kind, name), rule.on_mismatch,
                f"{name} is listed as judged but the run records no judge"
                + (f"; the policy pins {describe(pin)}" if pin is not None else ""),
                threshold=pin.model if pin is not None else None, source=src))
        elif pin is not None:
            out.append(_pin_check(name, judge, pin, rule.on_mismatch, src))
        else:
            out.append(check(ids.judge(kind, name), "pass",
                             f"{name} records its judge {describe(judge)}",
                             observed=judge.model, source=src))
    return out


def _pin_checks(ctx: Evidence) -> list[Check]:
    rule = ctx.policy.policy.judge
    if rule is None:
        return []
    judged = judged_metrics(ctx.bundle.run)
    out = _listed_checks(ctx, judged)
    pin = rule.pin
    if pin is None:
        return out
    src = source_of(ctx.policy.location("judge", "pin"))
    if not judged and not rule.metrics:
        # Importers rarely record the judge, and a candidate can drop it: silence is no evidence.
        return [check(ids.judge("pin"), "warn",
                      f"the policy pins the judge {describe(pin)} but the run records none: "
                      "list the judged metrics under judge.metrics to enforce the pin",
                      threshold=pin.model, source=src)]
    listed = set(rule.metrics)
    out.extend(_pin_check(name, judge, pin, rule.on_mismatch, src)
               for name, judge in judged.items() if name not in listed)
    return out


@dataclass(frozen=True)
class NotComparable:
    """A metric whose Δ must not be computed: the status its comparison takes, and why."""

    status: Status
    why: str


@dataclass(frozen=True)
class JudgeFindings:
    checks: list[Check]
    not_comparable: Mapping[str, NotComparable] = field(default_factory=dict)


def _baseline_checks(ctx: Evidence, not_comparable: dict[str, NotComparable]) -> list[Check]:
    base = ctx.baseline
    if base is None:
        return []
    status = _on_mismatch(ctx)
    out = []
    for i, rule in enumerate(ctx.policy.policy.metrics):
        name = rule.metric
        if rule.vs_baseline is None or name not in ctx.bundle.run.metrics \
                or name not in base.run.metrics:
            continue
        cand, old = judge_of(ctx.bundle.run, name), judge_of(base.run, name)
        if cand is None and old is None:
            continue  # an exact-match metric: no judge on either side
        src = source_of(ctx.policy.location("metrics", i, "vs_baseline"))
        if identity(cand) != identity(old):
            found = NotComparable(status, f"Δ is not comparable: the judge changed from "
                                  f"{describe(old)} to {describe(cand)}")
            not_comparable[name] = found
            out.append(_judge_changed(name, cand, old, found, src))
        else:
            assert cand is not None and old is not None
            out.append(_same_judge(name, cand, old, src))
    return out


def _judge_changed(name: str, cand: JudgeIdentity | None, old: JudgeIdentity | None,
                   found: NotComparable, src: Source | None) -> Check:
    return check(ids.judge("baseline", name), found.status, f"{name}: {found.why}",
                 observed=cand.model if cand else None, baseline=old.model if old else None,
                 source=src)


def _same_judge(name: str, cand: JudgeIdentity, old: JudgeIdentity,
                src: Source | None) -> Check:
    notes = []
    if (cand.library, cand.library_version) != (old.library, old.library_version):
        notes.append(f"the judge library changed from {old.library or '?'} "
                     f"{old.library_version or '?'} to {cand.library or '?'} "
                     f"{cand.library_version or '?'}; model, prompt and temperature match")
    return check(ids.judge("baseline", name), "pass",
                 f"{name}: candidate and baseline were scored by the same judge "
                 f"{describe(cand)}", observed=cand.model, baseline=old.model,
                 notes=notes, source=src)


def run(ctx: Evidence) -> JudgeFindings:
    not_comparable: dict[str, NotComparable] = {}
    checks = [*_pin_checks(ctx), *_baseline_checks(ctx, not_comparable)]
    return JudgeFindings(checks, not_comparable)
