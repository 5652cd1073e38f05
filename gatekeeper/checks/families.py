"""Policy × bundle × baseline → checks, in a fixed order. The branching on rule kinds lives
in the check modules; this module decides which run and in what order.

Every rule kind of the v1 policy format has a family here. A rule a family cannot evaluate
raises ``UnsupportedRuleError`` (exit 2) from that family — never a silent pass: see the
unknown-budget case in checks/budgets.py.
"""

from __future__ import annotations

from collections.abc import Callable

from gatekeeper.checks import (
    artifacts,
    budgets,
    envelope,
    judge,
    llm,
    seeds,
    thresholds,
    vs_baseline,
)
from gatekeeper.checks.context import Context
from gatekeeper.models.verdict import Check

CheckFamily = Callable[[Context], list[Check]]


def families() -> list[tuple[str, CheckFamily]]:
    return [
        ("envelope", envelope.run),
        ("seeds", seeds.run),
        ("artifacts", artifacts.run),
        ("thresholds", thresholds.run),
        ("llm", llm.run),
        # judge before baseline: it marks metrics whose Δ is not comparable (ctx.not_comparable)
        ("judge", judge.run),
        ("budgets", budgets.run),
        ("baseline", vs_baseline.run),
    ]


def evaluate(ctx: Context) -> list[Check]:
    out: list[Check] = []
    for _name, family in families():
        out.extend(family(ctx))
    return out
