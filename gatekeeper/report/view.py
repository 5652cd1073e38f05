"""The report's data, prepared once for every template (Markdown, HTML, model card).

Values stay *raw* here (untrusted strings are escaped at output by the template environment),
so one view serves Markdown and HTML alike. All ordering is deterministic: the same verdict and
bundles give the same view, byte for byte once rendered.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from gatekeeper.models.verdict import Check, Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.report.escape import code_block_text

ICON = {"pass": "✅", "warn": "⚠️", "block": "⛔"}
LABEL = {"pass": "pass", "warn": "warn", "block": "block"}
MAX_DIFF_ROWS = 60  # per section; the rest is counted, not listed
_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_GITHUB_URL = re.compile(r"^(?:https://github\.com/|git@github\.com:)"
                         r"([A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}?)(?:\.git)?/?$")
_HEX = re.compile(r"^[0-9a-f]{7,64}$")


# ---------------------------------------------------------------- number formatting


def num(value: object) -> str:
    """A metric value: 4 significant digits, or the text as given."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        if 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def signed(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return f"{0:.{digits}f}"
    if abs(value) < 10 ** (-digits):
        return f"{value:+.2e}"
    return f"{value:+.{digits}f}"


OUTCOME_WORDS = {"non_inferior": "non-inferior", "not_improved": "not improved",
                 "no_information": "no information"}


def outcome_text(c: Check) -> str:
    """The comparison's outcome in words (falls back to the status)."""
    raw = c.outcome or c.status
    return OUTCOME_WORDS.get(raw, raw.replace("_", " "))


def short_sha(value: object, length: int = 12) -> str:
    text = str(value) if value is not None else ""
    return text[:length] if _HEX.match(text) else text


# ---------------------------------------------------------------- checks


def is_log_scale(c: Check) -> bool:
    """Latency/cost comparisons report Δ in log units (stats/quantile.py, stats/ratio.py)."""
    method = c.method or ""
    return ("log" in method or method.startswith("harrell-davis")
            or "log ratio" in c.message)


def check_kind(check_id: str) -> str:
    return check_id.split(":", 1)[0] if ":" in check_id else check_id


def metric_name(c: Check) -> str:
    parts = c.id.split(":")
    if len(parts) >= 3 and parts[0] in ("metric", "budget"):
        return ":".join(parts[1:-1])
    if len(parts) == 2:
        return parts[1]
    return c.id


@dataclass(frozen=True)
class Comparison:
    check: Check
    metric: str
    log: bool
    margin_line: float | None  # the policy's bound on the natural Δ scale
    level: int
    higher_is_better: bool = True

    @property
    def delta_text(self) -> str:
        d = self.check.delta
        if d is None:
            return "—"
        if self.log:
            return f"×{math.exp(d):.3f}"
        return signed(d)

    @property
    def ci_text(self) -> str:
        ci = self.check.ci
        if ci is None:
            return "—"
        if self.log:
            return f"×[{math.exp(ci[0]):.3f}, {math.exp(ci[1]):.3f}]"
        return f"[{signed(ci[0])}, {signed(ci[1])}]"

    @property
    def n_text(self) -> str:
        n = self.check.n
        if n is None:
            return "—"
        return f"{n[0]:,} / {n[1]:,}"

    @property
    def mde_text(self) -> str:
        m = self.check.mde
        if m is None:
            return "—"
        return f"×{math.exp(m):.3f}" if self.log else num(m)


def _higher_is_better(ctx: ReportContext, metric: str) -> bool | None:
    if ctx.policy is None:
        return None
    for rule in ctx.policy.policy.metrics:
        if rule.metric == metric:
            return rule.higher_is_better
    return None


def comparisons(verdict: Verdict, ctx: ReportContext) -> list[Comparison]:
    out: list[Comparison] = []
    for c in verdict.checks:
        if c.ci is None or c.delta is None:
            continue
        metric = metric_name(c)
        margin_line: float | None = None
        if c.id.startswith("budget:"):
            # Budgets are costs and latencies: lower is better, and the threshold is the limit
            # itself on the natural (log-ratio) scale, not an oriented margin.
            hib = False
            if isinstance(c.threshold, float):
                margin_line = c.threshold
            level = round((c.confidence or 0.95) * 100)
            out.append(Comparison(c, metric, is_log_scale(c), margin_line, level, hib))
            continue
        hib = _higher_is_better(ctx, metric) is not False  # unknown policy: assume higher
        if isinstance(c.threshold, float) and c.id.endswith(":vs_baseline"):
            # the check's threshold is on the oriented scale (Δ for higher-is-better)
            margin_line = c.threshold if hib else -c.threshold
        level = round((c.confidence or 0.95) * 100)
        out.append(Comparison(c, metric, is_log_scale(c), margin_line, level, hib))
    return out


POLICY_CHECKS = ("policy:changed", "policy:loosened")


def policy_diff_lines(verdict: Verdict) -> list[str]:
    """The unified diff that ``check`` stores in the notes of a policy-change check."""
    for c in verdict.checks:
        if c.id in POLICY_CHECKS and c.notes and c.notes[0].startswith("diff of"):
            return [code_block_text(line, 200) for line in c.notes[1:]]
    return []


FOREST_WIDTH = 41


def forest_lines(comps: list[Comparison]) -> list[str]:
    """A text forest plot: one row per comparison, each on its own symmetric axis around 0.

    Rows have different units (absolute Δ, log ratios), so each row is scaled to fit its own
    interval and margin; ``│`` is no change, ``┆`` the margin, ``●`` the estimate.
    """
    if not comps:
        return []
    name_w = min(max(len(code_block_text(c.metric, 24)) for c in comps), 24)
    lines = [f"{'':<{name_w}}  {'worse ◀':<{FOREST_WIDTH // 2}}│{'▶ better':>{FOREST_WIDTH // 2}}"
             .rstrip()]
    half = FOREST_WIDTH // 2
    for comp in comps:
        c = comp.check
        assert c.ci is not None and c.delta is not None
        sign = 1.0 if comp.higher_is_better else -1.0  # "better" is to the right for every row
        lo, hi = min(sign * c.ci[0], sign * c.ci[1]), max(sign * c.ci[0], sign * c.ci[1])
        d = sign * c.delta
        margin = sign * comp.margin_line if comp.margin_line is not None else None
        span = max(abs(lo), abs(hi), abs(margin) if margin is not None else 0.0) * 1.1 or 1.0
        cells = [" "] * FOREST_WIDTH

        def pos(x: float, span: float = span) -> int:
            return max(0, min(FOREST_WIDTH - 1, half + round(x / span * half)))

        a, b = pos(lo), pos(hi)
        for i in range(a, b + 1):
            cells[i] = "─"
        cells[half] = "│" if cells[half] == " " else "┼"
        if margin is not None and margin != 0:
            cells[pos(margin)] = "┆"
        cells[a], cells[b] = "├", "┤"
        if a == b:
            cells[a] = "┼"
        cells[pos(d)] = "●"
        name = code_block_text(comp.metric, 24)
        lines.append(f"{name:<{name_w}}  {''.join(cells)}  {comp.delta_text} {comp.ci_text}")
    return lines


# ---------------------------------------------------------------- what changed


@dataclass(frozen=True)
class DiffRow:
    field: str
    baseline: str | None
    candidate: str | None
    changed: bool
    baseline_url: str | None = None
    candidate_url: str | None = None


@dataclass
class DiffSection:
    title: str
    rows: list[DiffRow] = field(default_factory=list)
    hidden: int = 0  # rows beyond MAX_DIFF_ROWS

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.rows) + self.hidden


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _flatten(prefix: str, value: Any, out: dict[str, str | None], depth: int = 0) -> None:
    if isinstance(value, dict) and value and depth < 4:
        for k in sorted(value, key=str):
            _flatten(f"{prefix}.{k}" if prefix else str(k), value[k], out, depth + 1)
    else:
        out[prefix] = _scalar(value)


def _model_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    dumped: dict[str, Any] = obj.model_dump(mode="json", exclude_none=True)
    return dumped


def commit_url(repo: str | None, commit: str | None, server: str = "https://github.com") -> \
        str | None:
    """A link for ``owner/name`` (or a github.com URL) and a hex commit; else None."""
    if not repo or not commit or not _HEX.match(commit):
        return None
    m = _GITHUB_URL.match(repo)
    slug = m.group(1) if m else (repo if _REPO.match(repo) else None)
    if slug is None or ".." in slug:
        return None
    return f"{server.rstrip('/')}/{slug}/commit/{commit}"


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _brief(value: str | None) -> str | None:
    """Full hashes are in the reproducibility section; 12 hex digits tell two versions apart."""
    if value is not None and _SHA256.match(value):
        return value[:12] + "…"
    return value


def _section(title: str, base: dict[str, str | None], cand: dict[str, str | None],
             urls: dict[str, tuple[str | None, str | None]] | None = None,
             changed_only: bool = False) -> DiffSection:
    urls = urls or {}
    rows: list[DiffRow] = []
    for key in sorted(set(base) | set(cand)):
        b, c = base.get(key), cand.get(key)
        changed = b != c
        if changed_only and not changed:
            continue
        bu, cu = urls.get(key, (None, None))
        rows.append(DiffRow(key, _brief(b), _brief(c), changed, bu, cu))
    # changed rows first: they are why the numbers moved
    rows.sort(key=lambda r: (not r.changed,))
    sec = DiffSection(title, rows[:MAX_DIFF_ROWS], max(0, len(rows) - MAX_DIFF_ROWS))
    return sec


def what_changed(ctx: ReportContext, server: str = "https://github.com") -> list[DiffSection]:
    if ctx.candidate is None:
        return []
    cr = ctx.candidate.run
    br = ctx.baseline.run if ctx.baseline is not None else None

    def flat(obj: Any, prefix: str = "") -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        _flatten(prefix, obj, out)
        return {k: v for k, v in out.items() if k}

    sections: list[DiffSection] = []
    sections.append(_section("Parameters", flat(br.params if br else {}), flat(cr.params)))

    def data_map(run: Any) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if run is None:
            return out
        for d in run.data:
            for key, value in sorted(_model_dict(d).items()):
                if key != "name":
                    out[f"{d.name}.{key}"] = _scalar(value)
        return out

    sections.append(_section("Data", data_map(br), data_map(cr)))

    def code_map(run: Any) -> dict[str, str | None]:
        return flat(_model_dict(run.code)) if run is not None and run.code else {}

    urls: dict[str, tuple[str | None, str | None]] = {}
    c_url = commit_url(cr.code.repo, cr.code.commit, server) if cr.code else None
    b_url = commit_url(br.code.repo, br.code.commit, server) if br and br.code else None
    urls["commit"] = (b_url, c_url)
    sections.append(_section("Code", code_map(br), code_map(cr), urls))

    def env_map(run: Any) -> dict[str, str | None]:
        if run is None or run.environment is None:
            return {}
        return flat(_model_dict(run.environment))

    sections.append(_section("Environment and hardware", env_map(br), env_map(cr)))

    def llm_map(run: Any) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if run is None:
            return out
        if run.llm is not None:
            llm = run.llm
            for p in llm.prompts:
                out[f"prompt {p.id}.version"] = _scalar(p.version)
                out[f"prompt {p.id}.sha256"] = p.sha256
            for key, value in flat(_model_dict(llm.model)).items():
                out[f"model.{key}"] = value
            for key, value in flat(_model_dict(llm.judge)).items():
                out[f"judge.{key}"] = value
            for key, value in flat(_model_dict(llm.dataset)).items():
                out[f"dataset.{key}"] = value
        for name in sorted(run.metrics):
            judge = run.metrics[name].judge
            if judge is not None:
                for key, value in flat(_model_dict(judge)).items():
                    out[f"{name} judge.{key}"] = value
        return out

    llm_b, llm_c = llm_map(br), llm_map(cr)
    if llm_b or llm_c:
        sections.append(_section("Prompts and judge", llm_b, llm_c))
    return [s for s in sections if s.rows or s.hidden]


# ---------------------------------------------------------------- the whole view


@dataclass(frozen=True)
class Rollback:
    state: str  # "not_computed" | "none" | "target"
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
    comparisons: list[Comparison]
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


def _rollback(verdict: Verdict) -> Rollback:
    rt = verdict.rollback_target
    if rt is None:
        return Rollback("not_computed", None, None, None, [])
    if rt.version is None:
        return Rollback("none", rt.model, None, rt.reason, list(rt.considered))
    return Rollback("target", rt.model, rt.version, rt.reason, list(rt.considered))


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


def _replay(verdict: Verdict, ctx: ReportContext) -> str:
    import shlex

    parts = ["gatekeeper", "check", verdict.candidate.path or "BUNDLE"]
    if verdict.policy.path:
        parts += ["--policy", verdict.policy.path]
    if verdict.policy.target_branch:
        parts += ["--target-branch", verdict.policy.target_branch]
    if verdict.fail_on != "block":
        parts += ["--fail-on", verdict.fail_on]
    if ctx.as_of:
        parts += ["--as-of", ctx.as_of]
    parts += ["--format", "json"]
    return code_block_text(" ".join(shlex.quote(x) for x in parts), 600)


def _metric_points(verdict: Verdict, comps: list[Comparison]) -> list[dict[str, Any]]:
    """One row per metric for the model card: its value, and the comparison if there is one."""
    by_metric: dict[str, dict[str, Any]] = {}
    for c in verdict.checks:
        if check_kind(c.id) != "metric" or not isinstance(c.observed, float):
            continue
        name = metric_name(c)
        row = by_metric.setdefault(name, {"metric": name, "value": c.observed,
                                          "comparison": None})
        if c.id.endswith(":vs_baseline"):
            row["value"] = c.observed
    for comp in comps:
        if comp.metric in by_metric:
            by_metric[comp.metric]["comparison"] = comp
    return [by_metric[k] for k in sorted(by_metric)]


def build_view(verdict: Verdict, ctx: ReportContext) -> View:
    order = {"block": 0, "warn": 1}
    attention = sorted((c for c in verdict.checks if c.status != "pass"),
                       key=lambda c: order[c.status])
    attention += [c for c in verdict.checks if c.status == "pass" and c.waiver is not None]
    passing = [c for c in verdict.checks if c.status == "pass" and c.waiver is None]
    comps = comparisons(verdict, ctx)
    changes = what_changed(ctx, ctx.server_url)
    changed_fields = [f"{s.title.lower()}: {r.field}" for s in changes for r in s.rows
                      if r.changed]
    envelope = [c for c in verdict.checks if check_kind(c.id) in ("envelope", "seeds")]
    artifacts = [c for c in verdict.checks if check_kind(c.id) == "artifact"]
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
    return View(
        policy_diff=policy_diff_lines(verdict),
        verdict=verdict,
        icon=ICON[verdict.verdict],
        attention=attention,
        passing=passing,
        comparisons=comps,
        forest=forest_lines(comps),
        changes=changes,
        changed_fields=changed_fields,
        envelope=envelope,
        artifacts=artifacts,
        gate=_gate_rows(verdict, ctx),
        replay=_replay(verdict, ctx),
        rollback=_rollback(verdict),
        has_baseline_bundle=ctx.baseline is not None,
        details_url=ctx.details_url,
        intended_use=intended,
        limitations=limits,
        data=data,
        metric_points=_metric_points(verdict, comps),
    )


@dataclass(frozen=True)
class ForestRow:
    """Pixel positions of one comparison in the HTML report's SVG forest plot."""

    comp: Comparison
    y: float
    lo: float
    hi: float
    est: float
    zero: float
    margin: float | None


def forest_svg_rows(comps: list[Comparison], x0: float, width: float, row_h: float = 28.0,
                    top: float = 24.0) -> list[ForestRow]:
    """Each row on its own symmetric scale around 0, "better" to the right (as the text plot)."""
    rows: list[ForestRow] = []
    mid = x0 + width / 2
    for i, comp in enumerate(comps):
        c = comp.check
        assert c.ci is not None and c.delta is not None
        sign = 1.0 if comp.higher_is_better else -1.0
        lo, hi = sorted((sign * c.ci[0], sign * c.ci[1]))
        margin = sign * comp.margin_line if comp.margin_line is not None else None
        span = max(abs(lo), abs(hi), abs(margin) if margin is not None else 0.0) * 1.1 or 1.0

        def x(v: float, span: float = span) -> float:
            return round(mid + max(-1.0, min(1.0, v / span)) * width / 2, 1)

        rows.append(ForestRow(comp, top + i * row_h + row_h / 2, x(lo), x(hi), x(sign * c.delta),
                              round(mid, 1), x(margin) if margin else None))
    return rows
