"""The report's data, prepared once for every template (Markdown, HTML, model card).

Values stay *raw* here (untrusted strings are escaped at output by the template environment),
so one view serves Markdown and HTML alike. All ordering is deterministic: the same verdict and
bundles give the same view, byte for byte once rendered.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from gatekeeper.checks import ids
from gatekeeper.models.verdict import Check, Verdict
from gatekeeper.report.changes import DiffSection, what_changed
from gatekeeper.report.comparisons import ComparisonRow, comparisons
from gatekeeper.report.context import ReportContext
from gatekeeper.report.curves import Curves, curves
from gatekeeper.report.escape import code_block_text
from gatekeeper.report.forest import forest_lines

ICON = {"pass": "✅", "warn": "⚠️", "block": "⛔"}
LABEL = {"pass": "pass", "warn": "warn", "block": "block"}


def policy_diff_lines(verdict: Verdict) -> list[str]:
    """The PR's change to the policy (the first policy check that carries one)."""
    for c in verdict.checks:
        if c.policy_diff:
            return [code_block_text(line, 200) for line in c.policy_diff]
    return []


# ---------------------------------------------------------------- the whole view


@dataclass(frozen=True)
class Rollback:
    state: Literal["not_computed", "none", "target"]
    model: str | None
    version: str | None
    reason: str | None
    considered: list[Any]


@dataclass(frozen=True)
class GateRow:
    name: str
    value: str
    monospace: bool = True


@dataclass
class View:
    verdict: Verdict
    icon: str
    attention: list[Check]  # block, warn, then waived passes
    passing: list[Check]
    comparisons: list[ComparisonRow]
    forest: list[str]
    changes: list[DiffSection]
    changed_fields: list[str]
    envelope: list[Check]
    artifacts: list[Check]
    gate: list[GateRow]
    replay: str
    rollback: Rollback
    has_baseline_bundle: bool
    details_url: str | None
    intended_use: list[tuple[str, str]]
    limitations: list[tuple[str, str]]
    data: list[dict[str, Any]]
    metric_points: list[dict[str, Any]]
    policy_diff: list[str]  # the PR's change to the policy, code-block safe; [] if none
    curves: Curves  # the candidate's series metrics (and the baseline's curves)
    # leaderboard:* checks: how often each eval set (public, sealed) has informed a decision
    eval_usage: list[Check] = field(default_factory=list)


def _rollback(verdict: Verdict) -> Rollback:
    rt = verdict.rollback_target
    if rt is None:
        return Rollback("not_computed", None, None, None, [])
    return Rollback(rt.state, rt.model, rt.version, rt.reason, list(rt.considered))


def _gate_rows(verdict: Verdict, ctx: ReportContext) -> list[GateRow]:
    g, p, c, b = verdict.gate, verdict.policy, verdict.candidate, verdict.baseline
    rows = [GateRow("gatekeeper version", g.gatekeeper_version)]
    if g.python:
        rows.append(GateRow("Python", g.python))
    rows += [
        GateRow("policy", f"{p.name}@{p.version}"),
        GateRow("policy sha256", p.sha256),
    ]
    if p.path:
        rows.append(GateRow("policy file", p.path))
    if p.target_branch:
        rows.append(GateRow("target branch", p.target_branch))
    rows += [GateRow("candidate run", c.run_id), GateRow("bundle sha256", c.bundle_sha256)]
    if b is not None:
        rows.append(GateRow("baseline version", f"{b.model} v{b.version}"
                            + (f" ({b.alias})" if b.alias else "")))
        if b.bundle_sha256:
            rows.append(GateRow("baseline bundle sha256", b.bundle_sha256))
        if b.registry:
            rows.append(GateRow("registry", b.registry))
    else:
        rows.append(GateRow("baseline version", "none", monospace=False))
    rows.append(GateRow("RNG seed", str(g.rng_seed)))
    if ctx.as_of:
        rows.append(GateRow("as of", ctx.as_of))
    return rows


def replay_command(verdict: Verdict, as_of: str | None = None) -> list[str]:
    """The command that gives this verdict again, byte for byte: every input the gate recorded
    (the policy, target branch, base commit, a --registry override, the day)."""
    parts = ["gatekeeper", "check", verdict.candidate.path or "BUNDLE"]
    if verdict.policy.path:
        parts += ["--policy", verdict.policy.path]
    if verdict.policy.target_branch:
        parts += ["--target-branch", verdict.policy.target_branch]
    if verdict.gate.base_ref:
        parts += ["--base-ref", verdict.gate.base_ref]
    if verdict.gate.registry:
        parts += ["--registry", verdict.gate.registry]
    if verdict.fail_on != "block":
        parts += ["--fail-on", verdict.fail_on]
    day = verdict.gate.as_of or as_of
    if day:
        parts += ["--as-of", day]
    return [*parts, "--format", "json"]


def _replay(verdict: Verdict, ctx: ReportContext) -> str:
    parts = replay_command(verdict, ctx.as_of)
    return code_block_text(" ".join(shlex.quote(x) for x in parts), 600)


def _metric_points(verdict: Verdict, comps: list[ComparisonRow]) -> list[dict[str, Any]]:
    """One row per metric for the model card: its value, and the comparison if there is one."""
    by_metric: dict[str, dict[str, Any]] = {}
    for c in verdict.checks:
        if c.family != "metric" or c.metric is None or not isinstance(c.observed, float):
            continue
        row = by_metric.setdefault(c.metric, {"metric": c.metric, "value": c.observed,
                                              "comparison": None})
        if c.id == ids.metric(c.metric, "vs_baseline").id:
            row["value"] = c.observed  # the comparison's own reading of the metric wins
    for comp in comps:
        if comp.metric in by_metric:
            by_metric[comp.metric]["comparison"] = comp
    return [by_metric[k] for k in sorted(by_metric)]


@dataclass(frozen=True)
class _CardFacts:
    """What the run and the policy say about the model's use and data, for the model card."""

    intended_use: list[tuple[str, str]]
    limitations: list[tuple[str, str]]
    data: list[dict[str, Any]]


def _card_facts(ctx: ReportContext) -> _CardFacts:
    """Intended use and limitations from the run, then the policy; the run's data sources."""
    intended: list[tuple[str, str]] = []
    limits: list[tuple[str, str]] = []
    data: list[dict[str, Any]] = []
    if ctx.candidate is not None:
        run = ctx.candidate.run
        if run.intended_use:
            intended.append(("run", run.intended_use))
        if run.limitations:
            limits.append(("run", run.limitations))
        data = [d.model_dump(mode="json") for d in run.data]
    if ctx.policy is not None:
        meta = ctx.policy.policy.metadata
        if meta.intended_use:
            intended.append(("policy", meta.intended_use))
        if meta.limitations:
            limits.append(("policy", meta.limitations))
    return _CardFacts(intended, limits, data)


def _attention(verdict: Verdict) -> list[Check]:
    """Blocks, then warnings, then passes that a waiver made (each group in check order)."""
    order = {"block": 0, "warn": 1}
    attention = sorted((c for c in verdict.checks if c.status != "pass"),
                       key=lambda c: order[c.status])
    return attention + [c for c in verdict.checks if c.status == "pass" and c.waiver is not None]


def build_view(verdict: Verdict, ctx: ReportContext) -> View:
    comps = comparisons(verdict, ctx)
    changes = what_changed(ctx, ctx.server_url)
    card = _card_facts(ctx)
    return View(
        policy_diff=policy_diff_lines(verdict),
        verdict=verdict,
        icon=ICON[verdict.verdict],
        attention=_attention(verdict),
        passing=[c for c in verdict.checks if c.status == "pass" and c.waiver is None],
        comparisons=comps,
        forest=forest_lines(comps),
        changes=changes,
        changed_fields=[f"{s.title.lower()}: {r.field}" for s in changes for r in s.rows
                        if r.changed],
        envelope=[c for c in verdict.checks if c.family in ("envelope", "seeds")],
        artifacts=[c for c in verdict.checks if c.family == "artifact"],
        gate=_gate_rows(verdict, ctx),
        replay=_replay(verdict, ctx),
        rollback=_rollback(verdict),
        has_baseline_bundle=ctx.baseline is not None,
        details_url=ctx.details_url,
        intended_use=card.intended_use,
        limitations=card.limitations,
        data=card.data,
        metric_points=_metric_points(verdict, comps),
        curves=curves(ctx),
        eval_usage=[c for c in verdict.checks if c.family == "leaderboard"],
    )
