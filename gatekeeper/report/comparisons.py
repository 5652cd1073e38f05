"""The verdict's comparisons with an interval, oriented and labelled for display."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gatekeeper.models.verdict import STATISTICS_NOTE, Check, Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.report.formatting import num, signed


@dataclass(frozen=True)
class ComparisonRow:
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
    def statistics(self) -> str | None:
        """The bundle shape the comparison was made from instead of rows (``paired_moments``,
        ...), or None: an auditor reading a report or the model card must see that the gate
        did not read the rows behind it."""
        for note in self.check.notes:
            if note.startswith(STATISTICS_NOTE + " ("):
                return note[len(STATISTICS_NOTE) + 2:].split(")", 1)[0]
        return None

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


def comparisons(verdict: Verdict, ctx: ReportContext) -> list[ComparisonRow]:
    """One row per check that compared the candidate with the baseline (a Δ and an interval)."""
    return [_row(c, ctx) for c in verdict.checks if c.ci is not None and c.delta is not None]


def _row(c: Check, ctx: ReportContext) -> ComparisonRow:
    metric = c.metric or c.id
    log = c.scale == "log_ratio"
    level = round((c.confidence or 0.95) * 100)
    threshold = c.threshold if isinstance(c.threshold, float) else None
    if c.family == "budget":
        # Budgets are costs and latencies: lower is better, and the threshold is the limit
        # itself on the natural (log-ratio) scale, not an oriented margin.
        return ComparisonRow(c, metric, log, threshold, level, False)
    hib = _higher_is_better(ctx, metric) is not False  # unknown policy: assume higher
    # the check's threshold is on the oriented scale (Δ for higher-is-better)
    margin_line = threshold if hib or threshold is None else -threshold
    return ComparisonRow(c, metric, log, margin_line, level, hib)
