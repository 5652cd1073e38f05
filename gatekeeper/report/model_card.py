"""The model card: intended use and limitations, data versions, metrics with intervals, the
comparison to the baseline and the waivers used.

Written to a file it starts with Hugging Face–compatible YAML front matter (``model-index``
with ``results``: task, dataset with its sha256 as ``revision``, metrics), so the card can be
pushed to the Hub as a README.md unchanged.
"""

from __future__ import annotations

from typing import Any

import yaml

from gatekeeper.models.verdict import Verdict
from gatekeeper.report import templating
from gatekeeper.report.context import ReportContext
from gatekeeper.report.escape import clean_text
from gatekeeper.report.markdown import _tidy
from gatekeeper.report.view import build_view

TEMPLATE = "model_card.md.j2"
EVAL_SPLITS = ("test", "eval", "evaluation", "validation", "val", "dev")


def _eval_dataset(ctx: ReportContext) -> dict[str, str]:
    run = ctx.candidate.run if ctx.candidate is not None else None
    out: dict[str, str] = {}
    if run is not None and run.llm is not None and run.llm.dataset is not None:
        ds = run.llm.dataset
        out = _hub_dataset(ds.name, ds.sha256, ds.version)
    elif run is not None:
        evals = [d for d in run.data if (d.split or "").lower() in EVAL_SPLITS]
        if evals:
            d = evals[0]
            out = _hub_dataset(d.name, d.sha256, d.version)
    if not out:
        out = {"name": "evaluation", "type": "custom"}
    return {k: clean_text(v, 200) for k, v in out.items()}


def _hub_dataset(name: str, sha256: str | None, version: str | None) -> dict[str, str]:
    """A ``model-index`` dataset: the sha256, else the version, is its revision."""
    out = {"name": name, "type": name}
    if sha256:
        out["revision"] = sha256
    elif version:
        out["revision"] = version
    return out


def front_matter(verdict: Verdict, ctx: ReportContext) -> str:
    """``---``-fenced YAML: Hugging Face ``model-index`` (plus a few card fields)."""
    view = build_view(verdict, ctx)
    run = ctx.candidate.run if ctx.candidate is not None else None
    task = "other"
    if run is not None:
        task = run.tags.get("task") or run.tags.get("pipeline_tag") or "other"
    metrics: list[dict[str, Any]] = [
        {"type": clean_text(p["metric"], 100), "value": p["value"],
         "name": clean_text(p["metric"], 100)}
        for p in view.metric_points
    ]
    data: dict[str, Any] = {
        "model-index": [{
            "name": clean_text(verdict.candidate.model, 200),
            "results": [{
                "task": {"type": clean_text(task, 100)},
                "dataset": _eval_dataset(ctx),
                "metrics": metrics,
            }],
        }],
        "tags": ["gatekeeper"],
    }
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{body}---\n\n"


def render_model_card(verdict: Verdict, ctx: ReportContext, *, front: bool = False) -> str:
    text = _tidy(templating.render("markdown", TEMPLATE, ctx.template_dir,
                                   v=build_view(verdict, ctx)))
    return (front_matter(verdict, ctx) if front else "") + text


def render(verdict: Verdict, context: ReportContext) -> str:
    return render_model_card(verdict, context)
