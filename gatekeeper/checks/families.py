"""Policy × bundle × baseline → checks, in a fixed order. The branching on rule kinds lives
in the family modules; this module decides which run, in what order, and what one family
hands to another.

Every rule kind of the v1 policy format has a family here. A rule a family cannot evaluate
raises ``UnsupportedRuleError`` (exit 2) from that family — never a silent pass: see the
unknown-budget case in checks/budgets.py.
"""

from __future__ import annotations

from gatekeeper.checks import (
    artifacts,
    budgets,
    data,
    envelope,
    judge,
    leaderboard,
    llm,
    seeds,
    series,
    thresholds,
    vs_baseline,
)
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.verdict import Check


def evaluate(ev: Evidence) -> list[Check]:
    """Every family's checks, in the order reports list them, as the policy's leaderboard
    settings let them be released (rounded to the Ladder step, or only a sealed verdict)."""
    return leaderboard.release(_all(ev), ev.leaderboard)


def _all(ev: Evidence) -> list[Check]:
    # The judge family decides which metrics' Δ is meaningless (the judge changed); the
    # comparison family takes that finding as an argument rather than reading shared state.
    series.run(ev)  # refuses a malformed curve before any check reads the bundle
    judged = judge.run(ev)
    return [
        *envelope.run(ev),
        *seeds.run(ev),
        *artifacts.run(ev),
        *data.run(ev),
        *thresholds.run(ev),
        *llm.run(ev),
        *judged.checks,
        *budgets.run(ev),
        *vs_baseline.run(ev, judged.not_comparable),
        *leaderboard.run(ev),
    ]
