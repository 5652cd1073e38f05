"""Exact operating characteristics of the binary methods, by enumerating the multinomial.

Nothing is simulated: every cell sums the probability of every possible table (cells whose
probability is below 1e-15 are dropped; the dropped mass is far below the 4th decimal), so
``SimRow.exact`` is True and ``replications`` is 0.

- Paired binary: a table (n11, n10, n01, n00) ~ Multinomial(n, p11, p10, p01, p00), with the
  discordance rate ψ = p10 + p01 and Δ = p10 - p01. Tango and Wald depend on (n10, n01) only,
  so they are summed over the trinomial; Newcombe needs all four cells.
  - coverage: P(L <= Δ <= U) of the two-sided 95% interval;
  - type1: P(pass) for the non-inferiority rule "L > -m" at the boundary Δ = -m, nominal
    α = 0.025;
  - power: P(pass) at Δ = 0 (reported, not judged).
- A single proportion: P(L <= p <= U) summed over k ~ Binomial(n, p).

Score intervals are not exactly nominal at every point (the sample space is discrete); the
values are reported as they are.

Run ``python -m bench.sim_binary`` to print the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import stats

from bench.simlib import SimRow, format_table
from gatekeeper.stats.binary import newcombe_arrays, tango_interval
from gatekeeper.stats.proportion import wilson_arrays, z_two_sided
from gatekeeper.stats.reference import clopper_pearson_interval, wald_paired_interval

CONFIDENCE = 0.95
ALPHA_ONE_SIDED = (1.0 - CONFIDENCE) / 2.0
_TINY = 1e-15
# Concordant pairs split 80/20 between both-right and both-wrong; only Newcombe depends on it.
_CONCORDANT_RIGHT = 0.8

PAIRED_METHODS = ("tango", "newcombe", "wald")
PROPORTION_METHODS = ("wilson", "clopper-pearson", "wald")
# Wald is computed to show why it is rejected; the runner reports such rows without judging.
REJECTED = frozenset({"wald"})
NOT_USED = " (not used)"


def row_name(method: str) -> str:
    """The table's method name: rejected methods carry the "(not used)" suffix."""
    return method + NOT_USED if method in REJECTED else method


@dataclass(frozen=True)
class PairedCell:
    n: int
    discordance: float  # ψ = p10 + p01
    delta: float  # Δ = p10 - p01, true value

    @property
    def p10(self) -> float:
        return (self.discordance + self.delta) / 2.0

    @property
    def p01(self) -> float:
        return (self.discordance - self.delta) / 2.0

    def __post_init__(self) -> None:
        if not (abs(self.delta) <= self.discordance + 1e-15 and 0 < self.discordance < 1):
            raise ValueError(f"need |Δ| <= ψ < 1, got Δ={self.delta}, ψ={self.discordance}")

    def label(self, margin: float | None = None) -> str:
        text = f"paired n={self.n}, discordant={self.discordance:.0%}, Δ={self.delta:+.3f}"
        return text if margin is None else f"{text}, margin={margin:.3f}"


def _trinomial_support(cell: PairedCell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n10, n01, probability) over the tables with non-negligible probability."""
    n, psi = cell.n, cell.discordance
    share = min(1.0, max(0.0, cell.p10 / psi))
    d_all = np.arange(n + 1)
    p_d = stats.binom.pmf(d_all, n, psi)
    b_parts, c_parts, p_parts = [], [], []
    for d in d_all[p_d > _TINY]:
        b = np.arange(d + 1)
        prob = p_d[d] * stats.binom.pmf(b, d, share)
        keep = prob > _TINY
        b_parts.append(b[keep])
        c_parts.append(d - b[keep])
        p_parts.append(prob[keep])
    return np.concatenate(b_parts), np.concatenate(c_parts), np.concatenate(p_parts)


def _four_cell_support(
    cell: PairedCell,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n11, n10, n01, n00, probability): the trinomial refined by the concordant split."""
    b, c, prob = _trinomial_support(cell)
    parts: list[list[np.ndarray]] = [[], [], [], [], []]
    for bi, ci, pi in zip(b.tolist(), c.tolist(), prob.tolist(), strict=True):
        rest = cell.n - bi - ci
        a = np.arange(rest + 1)
        pa = pi * stats.binom.pmf(a, rest, _CONCORDANT_RIGHT)
        keep = pa > _TINY
        a = a[keep]
        for slot, values in enumerate((a, np.full(a.size, bi), np.full(a.size, ci), rest - a)):
            parts[slot].append(values)
        parts[4].append(pa[keep])
    n11, n10, n01, n00, p = (np.concatenate(x) for x in parts)
    return n11, n10, n01, n00, p


@cache
def _tango_cached(n10: int, n01: int, n: int) -> tuple[float, float]:
    return tango_interval(n10, n01, n, CONFIDENCE)


@cache
def _wald_cached(n10: int, n01: int, n: int) -> tuple[float, float]:
    return wald_paired_interval(n10, n01, n, CONFIDENCE)


def paired_limits(method: str, cell: PairedCell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, probability) of ``method``'s 95% interval over every table of ``cell``."""
    if method == "newcombe":
        n11, n10, n01, n00, prob = _four_cell_support(cell)
        low, high = newcombe_arrays(n11, n10, n01, n00, z_two_sided(CONFIDENCE))
        return low, high, prob
    interval: Callable[[int, int, int], tuple[float, float]]
    if method == "tango":
        interval = _tango_cached
    elif method == "wald":
        interval = _wald_cached
    else:
        raise ValueError(f"unknown paired method {method!r}")
    b, c, prob = _trinomial_support(cell)
    pairs = zip(b.tolist(), c.tolist(), strict=True)
    limits = np.array([interval(bi, ci, cell.n) for bi, ci in pairs])
    return limits[:, 0], limits[:, 1], prob


def paired_coverage(method: str, cell: PairedCell) -> float:
    low, high, prob = paired_limits(method, cell)
    return float(np.sum(prob[(low <= cell.delta) & (cell.delta <= high)]))


def paired_pass_rate(method: str, cell: PairedCell, margin: float) -> float:
    """P(non-inferiority pass) = P(L > -margin), the rule of STATISTICS.md §1 with g = 0."""
    low, _, prob = paired_limits(method, cell)
    return float(np.sum(prob[low > -margin]))


def proportion_coverage(method: str, n: int, p: float) -> float:
    """Exact coverage of a 95% interval for a single proportion, summed over k ~ Bin(n, p)."""
    k = np.arange(n + 1)
    prob = stats.binom.pmf(k, n, p)
    z = z_two_sided(CONFIDENCE)
    if method == "wilson":
        low, high = wilson_arrays(k, np.full(k.size, n), z)
    elif method == "wald":
        phat = k / n
        half = z * np.sqrt(phat * (1.0 - phat) / n)
        low, high = phat - half, phat + half
    elif method == "clopper-pearson":
        limits = np.array([clopper_pearson_interval(int(ki), n, CONFIDENCE) for ki in k])
        low, high = limits[:, 0], limits[:, 1]
    else:
        raise ValueError(f"unknown proportion method {method!r}")
    return float(np.sum(prob[(low <= p) & (p <= high)]))


SIZES = (50, 100, 200)
DISCORDANCE = (0.03, 0.10, 0.30)
PROPORTION_SIZES = (50, 100, 1000)
PROPORTIONS = (0.9, 0.99, 0.999)


def margins_for(discordance: float) -> tuple[float, ...]:
    """Margins that fit the discordance rate (|Δ| <= ψ); m = ψ is the corner p10 = 0, where
    every discordant pair goes against the candidate and Wald fails worst."""
    chosen = [m for m in (0.01, 0.02, 0.05) if m < discordance - 1e-12]
    if discordance <= 0.10:
        chosen.append(discordance)
    return tuple(chosen)


def paired_rows(
    sizes: tuple[int, ...] = SIZES, discordance: tuple[float, ...] = DISCORDANCE
) -> list[SimRow]:
    rows: list[SimRow] = []
    for n in sizes:
        for psi in discordance:
            for delta in (0.0, -round(psi / 3.0, 4)):
                cell = PairedCell(n, psi, delta)
                for method in PAIRED_METHODS:
                    rows.append(
                        SimRow(
                            row_name(method),
                            cell.label(),
                            "coverage",
                            paired_coverage(method, cell),
                            CONFIDENCE,
                            0,
                            exact=True,
                        )
                    )
            for margin in margins_for(psi):
                cell = PairedCell(n, psi, -margin)
                for method in PAIRED_METHODS:
                    rows.append(
                        SimRow(
                            row_name(method),
                            cell.label(margin),
                            "type1",
                            paired_pass_rate(method, cell, margin),
                            ALPHA_ONE_SIDED,
                            0,
                            exact=True,
                        )
                    )
            margin = min(0.02, psi)
            null = PairedCell(n, psi, 0.0)
            rows.append(
                SimRow(
                    "tango",
                    null.label(margin),
                    "power",
                    paired_pass_rate("tango", null, margin),
                    ALPHA_ONE_SIDED,
                    0,
                    exact=True,
                )
            )
    return rows


def proportion_rows(
    sizes: tuple[int, ...] = PROPORTION_SIZES, proportions: tuple[float, ...] = PROPORTIONS
) -> list[SimRow]:
    rows: list[SimRow] = []
    for n in sizes:
        for p in proportions:
            for method in PROPORTION_METHODS:
                rows.append(
                    SimRow(
                        row_name(method),
                        f"proportion n={n}, p={p:g}",
                        "coverage",
                        proportion_coverage(method, n, p),
                        CONFIDENCE,
                        0,
                        exact=True,
                    )
                )
    return rows


def run(replications: int, seed: int) -> list[SimRow]:
    """All binary cells. Enumeration is exact, so ``replications`` and ``seed`` are accepted
    for a uniform interface with the simulated methods and do not change the result."""
    del replications, seed
    return paired_rows() + proportion_rows()


def main() -> None:
    start = time.perf_counter()
    rows = run(0, 0)
    print(format_table(rows))
    print(f"\n{len(rows)} exact cells in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
