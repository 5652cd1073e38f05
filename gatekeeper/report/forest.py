"""The forest plot of Δ with its interval against the margin: text for Markdown (a code
block GitHub renders as is) and pixel rows for the HTML report's inline SVG."""

from __future__ import annotations

from dataclasses import dataclass

from gatekeeper.report.comparisons import ComparisonRow
from gatekeeper.report.escape import code_block_text

FOREST_WIDTH = 41


def forest_lines(comps: list[ComparisonRow]) -> list[str]:
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


@dataclass(frozen=True)
class ForestRow:
    """Pixel positions of one comparison in the HTML report's SVG forest plot."""

    comp: ComparisonRow
    y: float
    lo: float
    hi: float
    est: float
    zero: float
    margin: float | None


def forest_svg_rows(comps: list[ComparisonRow], x0: float, width: float, row_h: float = 28.0,
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
