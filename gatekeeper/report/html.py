"""A standalone HTML report (one file, inline CSS and an inline SVG forest plot, no scripts)."""

from __future__ import annotations

from typing import Any

from gatekeeper.models.verdict import Verdict
from gatekeeper.report import templating
from gatekeeper.report.comparisons import ComparisonRow
from gatekeeper.report.context import ReportContext
from gatekeeper.report.forest import ForestRow, forest_svg_rows
from gatekeeper.report.view import build_view

TEMPLATE = "report.html.j2"
SVG_WIDTH, PLOT_X0, PLOT_W = 900, 200, 420


def render(verdict: Verdict, context: ReportContext) -> str:
    def forest(comps: list[ComparisonRow]) -> list[ForestRow]:
        return forest_svg_rows(comps, PLOT_X0, PLOT_W)

    data: dict[str, Any] = {"v": build_view(verdict, context), "forest": forest,
                            "svg_width": SVG_WIDTH, "plot_x0": PLOT_X0, "plot_w": PLOT_W}
    text = templating.render("html", TEMPLATE, context.template_dir, **data)
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"
