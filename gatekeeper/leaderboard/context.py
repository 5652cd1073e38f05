"""What the check families read about the leaderboard: the eval sets, how often each has
informed a decision, the sweep the candidate was picked from, and how scores are released.

Built by ``step.read_usage`` before the checks run; read-only afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gatekeeper.leaderboard.identity import EvalSet, EvalSets
from gatekeeper.leaderboard.sweep import adjusted_confidence
from gatekeeper.models.policy import Leaderboard

Role = Literal["public", "sealed"]


@dataclass(frozen=True)
class Usage:
    role: Role
    eval_set: EvalSet
    # Distinct candidate bundles decided on this eval set before, inside the window (a re-run
    # of the same bundle gets the same answer, so it leaks nothing new and is not counted).
    earlier: int


@dataclass(frozen=True)
class SweepSize:
    k: int  # the larger of the bundle's claim and what the registry knows
    claimed: int  # run.yaml's sweep.trials (1 when absent)
    recorded: int  # trials of the same parent run the ledger and the registry know
    parent_run_id: str | None = None


@dataclass(frozen=True)
class LeaderboardContext:
    rule: Leaderboard
    sets: EvalSets
    public: Usage | None
    sealed: Usage | None
    sweep: SweepSize
    ledger: str  # the ledger's registry URI, for messages

    def is_sealed(self, metric: str) -> bool:
        return metric in self.sets.sealed_metrics

    def is_laddered(self, metric: str) -> bool:
        return self.rule.release == "ladder" and not self.is_sealed(metric)

    @property
    def over_budget(self) -> bool:
        """The public eval set has informed ``max_decisions`` decisions already, or no eval
        set can be counted at all (a bundle that drops or hides its eval entry must not buy
        unlimited answers for a warning)."""
        budget = self.rule.max_decisions
        if budget is None:
            return False
        if self.public is None:
            return self.sealed is None
        return self.public.earlier >= budget

    def withholds(self, metric: str) -> bool:
        """Only the verdict is released: a sealed holdout's metric, or, under the Ladder, any
        metric of an eval set past its budget (each further answer would leak more of it)."""
        return self.is_sealed(metric) or (self.is_laddered(metric) and self.over_budget)

    @property
    def ladder_family(self) -> int:
        """How many decisions the Ladder spreads α over: the reuse budget (one without)."""
        return self.rule.max_decisions or 1

    def family(self, metric: str) -> int:
        """The comparisons the interval is adjusted over: the sweep's trials, times the
        reuse budget under the Ladder."""
        k = self.sweep.k if self.rule.sweep_adjustment != "none" else 1
        return k * (self.ladder_family if self.is_laddered(metric) else 1)

    def confidence(self, confidence: float, metric: str) -> float:
        method = "bonferroni" if self.rule.sweep_adjustment == "none" else \
            self.rule.sweep_adjustment
        return adjusted_confidence(confidence, self.family(metric), method)
