"""Policy × bundle × baseline → checks, in a fixed order. The branching on rule kinds lives
in the check modules; this module decides which run and in what order."""

from __future__ import annotations

from collections.abc import Callable

from gatekeeper.checks import (
    artifacts,
    baseline,
    budgets,
    envelope,
    judge,
    llm,
    seeds,
    thresholds,
)
from gatekeeper.checks.context import Context
from gatekeeper.errors import UnsupportedRuleError
from gatekeeper.models.verdict import Check

CheckFamily = Callable[[Context], list[Check]]


def _unsupported(ctx: Context) -> list[Check]:
    """Rules this version cannot evaluate stop the gate (exit 2): never a silent pass."""
    policy = ctx.policy.policy
    for i, rule in enumerate(policy.metrics):
        if rule.vs_baseline is not None and not _has_family("baseline"):
            raise UnsupportedRuleError(
                f"metric {rule.metric!r}: vs_baseline comparisons are not supported yet",
                ctx.policy.location("metrics", i, "vs_baseline"))
    return []


def _has_family(name: str) -> bool:
    return any(n == name for n, _ in families())


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
        ("baseline", baseline.run),
    ]


def evaluate(ctx: Context) -> list[Check]:
    _unsupported(ctx)
    out: list[Check] = []
    for _name, family in families():
        out.extend(family(ctx))
    return out
