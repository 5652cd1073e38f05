"""Run every validation grid and print one table.

    python bench/validate_stats.py [--replications 10000] [--seed 20261126] [--quick]

Imports bench.sim_binary, bench.sim_continuous and bench.sim_quantile; a module whose file is
missing is reported loudly and skipped (any other import error propagates). Exit status 1 when
any judged type-I or coverage cell lies outside Monte Carlo error. Rows whose method name ends
in "(not used)" exist to show why an alternative is rejected (Wald, naive SE, z at small K):
they are printed but not judged.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable so ``bench`` and ``gatekeeper`` resolve.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.simlib import SimRow, format_table

MODULES = ("bench.sim_binary", "bench.sim_continuous", "bench.sim_quantile")
NOT_USED = "(not used)"
QUICK_REPLICATIONS = 1000


def is_expected_failure(row: SimRow) -> bool:
    """Rows that demonstrate a rejected method are reported, never judged."""
    return row.method.rstrip().endswith(NOT_USED)


def is_judged(row: SimRow) -> bool:
    return row.quantity in ("coverage", "type1") and not is_expected_failure(row)


def load_runners() -> tuple[list[tuple[str, Callable[[int, int], list[SimRow]]]], list[str]]:
    runners: list[tuple[str, Callable[[int, int], list[SimRow]]]] = []
    missing: list[str] = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            missing.append(name)
            continue
        runners.append((name, module.run))
    return runners, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK_REPLICATIONS} replications per cell (a smoke run, wider MC error)",
    )
    args = parser.parse_args(argv)
    replications = QUICK_REPLICATIONS if args.quick else args.replications
    if replications < 1:
        parser.error("--replications must be >= 1")

    runners, missing = load_runners()
    for name in missing:
        print(f"!!! MISSING: {name} is not there; its cells are NOT validated in this run !!!")
    rows: list[SimRow] = []
    for name, run in runners:
        start = time.perf_counter()
        part = run(replications, args.seed)
        print(f"{name}: {len(part)} rows in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        rows += part

    print(format_table(rows))
    judged = [r for r in rows if is_judged(r)]
    bad = [r for r in judged if not r.ok]
    shown = [r for r in rows if is_expected_failure(r) and not r.ok]
    conservative = [r for r in bad if r.quantity == "coverage" and r.value > r.nominal]
    print()
    for r in bad:
        kind = "conservative" if r in conservative else "ANTI-CONSERVATIVE"
        print(f"outside MC error ({kind}): {r.method} | {r.cell} | {r.quantity} = {r.value:.4f}")
    print(
        f"{len(shown)} rejected-method rows (not used) fail as expected; "
        f"{len(conservative)} of the judged misses are conservative (coverage above nominal)"
    )
    if missing:
        print(f"missing modules: {', '.join(missing)}")
    print(f"{len(judged)} cells, {len(bad)} outside Monte Carlo error")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
