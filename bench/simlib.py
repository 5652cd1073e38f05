"""Shared shape of a simulation result row, so that every method's validation cells print in
one table from ``bench/validate_stats.py``.

A cell is one (method, data-generating setting) pair run R times with a fixed seed. ``value`` is
the observed rate; ``nominal`` the target; ``ok`` says whether the value is within Monte Carlo
error of the nominal rate (coverage: |value - nominal| <= 3 * sqrt(nominal*(1-nominal)/R);
type-I error: value <= nominal + 3 * sqrt(nominal*(1-nominal)/R), conservative is allowed).
Exact-enumeration cells set ``exact=True`` and R = 0. There is no Monte Carlo error, but a
discrete interval's coverage is never exactly nominal and oscillates with n and p, so exact cells
are judged one-sided: coverage >= nominal - 0.015 (over-coverage is conservative, not wrong) and
type-I error <= nominal + 0.001.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EXACT_COVERAGE_SLACK = 0.015
EXACT_TYPE1_SLACK = 0.001


@dataclass(frozen=True)
class SimRow:
    method: str
    cell: str
    quantity: str  # "coverage" | "type1" | "power"
    value: float
    nominal: float
    replications: int
    exact: bool = False

    @property
    def mc_error(self) -> float:
        if self.exact or self.replications == 0:
            return 0.0
        return 3.0 * math.sqrt(self.nominal * (1.0 - self.nominal) / self.replications)

    @property
    def ok(self) -> bool:
        if self.exact:
            if self.quantity == "coverage":
                return self.value >= self.nominal - EXACT_COVERAGE_SLACK
            if self.quantity == "type1":
                return self.value <= self.nominal + EXACT_TYPE1_SLACK
            return True
        tol = self.mc_error
        if self.quantity == "coverage":
            return abs(self.value - self.nominal) <= tol
        if self.quantity == "type1":
            return self.value <= self.nominal + tol
        return True  # power rows are reported, not judged


def format_table(rows: list[SimRow]) -> str:
    """A Markdown table, stable order, so docs/statistics.md can quote it verbatim."""
    lines = [
        "| method | cell | quantity | value | nominal | R | within MC error |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        reps = "exact" if r.exact else str(r.replications)
        lines.append(
            f"| {r.method} | {r.cell} | {r.quantity} | {r.value:.4f} | {r.nominal:.3f} | {reps} "
            f"| {'yes' if r.ok else 'NO'} |"
        )
    return "\n".join(lines)
