"""Shared shape of a simulation result row, so that every method's validation cells print in
one table from ``bench/validate_stats.py``.

A cell is one (method, data-generating setting) pair run R times with a fixed seed. ``value`` is
the observed rate; ``nominal`` the target; ``ok`` says whether the value is within Monte Carlo
error of the nominal rate (coverage: |value - nominal| <= 3 * sqrt(nominal*(1-nominal)/R);
type-I error: value <= nominal + 3 * sqrt(nominal*(1-nominal)/R), conservative is allowed).
Exact-enumeration cells set ``exact=True`` and R = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


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
        tol = self.mc_error + (1e-12 if self.exact else 0.0)
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
