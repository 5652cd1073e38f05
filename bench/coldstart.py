"""Cold-start CPU time of `gatekeeper`, each figure next to its floor and the ratio, measured on
the same machine in the same run.

    python bench/coldstart.py [--runs 9]

Each sample is a fresh interpreter; its CPU time (user + system) comes from
``resource.getrusage(RUSAGE_CHILDREN)`` around the child, so other work on a shared machine
slows the wall clock but barely moves the figure. The median of ``--runs`` samples (at least 7)
is printed after one warm-up run per command, which also writes the byte-code cache (an installed
wheel ships it compiled), so ``PYTHONDONTWRITEBYTECODE`` is dropped from the children's
environment.

Floors: `gatekeeper --version` and `--help` against a bare `python -c pass` (target 1.3x);
`check` on the demo against `python -c "import numpy, yaml, pydantic"` (target 1.5x).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# What the `gatekeeper` console script runs (sys.path[0] is the repository, like -m).
ENTRY = "from gatekeeper.cli import main_entry; main_entry()"
CHECK = ["check", "examples/bundles/warn", "--policy", "policies/default.yaml",
         "--as-of", "2026-11-26"]

FLOOR_BARE = ("python -c pass", [PY, "-c", "pass"])
FLOOR_IMPORTS = ("python -c 'import numpy, yaml, pydantic'",
                 [PY, "-c", "import numpy, yaml, pydantic"])
# (label, command, floor, target ratio)
CASES: list[tuple[str, list[str], tuple[str, list[str]], float]] = [
    ("gatekeeper --version", [PY, "-c", ENTRY, "--version"], FLOOR_BARE, 1.3),
    ("gatekeeper --help", [PY, "-c", ENTRY, "--help"], FLOOR_BARE, 1.3),
    ("gatekeeper check examples/bundles/warn (default policy)", [PY, "-c", ENTRY, *CHECK],
     FLOOR_IMPORTS, 1.5),
    ("gatekeeper check examples/bundles/pass (floors only)",
     [PY, "-c", ENTRY, "check", "examples/bundles/pass", "--policy", "bench/floors-only.yaml",
      "--as-of", "2026-11-26"], FLOOR_IMPORTS, 1.5),
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cpu_once(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, env=_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(cmd: list[str], runs: int) -> float:
    cpu_once(cmd)  # warm-up: page cache and byte-code cache
    return statistics.median(cpu_once(cmd) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    runs = max(7, args.runs)
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; CPU seconds (user+sys), "
          f"median of {runs} fresh processes after one warm-up")
    floors: dict[str, float] = {}
    print(f"{'command':56} {'cpu s':>7} {'floor s':>8} {'ratio':>6} {'target':>7}  floor")
    for label, cmd, (floor_label, floor_cmd), target in CASES:
        if floor_label not in floors:
            floors[floor_label] = median_cpu(floor_cmd, runs)
        figure = median_cpu(cmd, runs)
        floor = floors[floor_label]
        ratio = figure / floor
        mark = "ok" if ratio <= target else "OVER"
        print(f"{label:56} {figure:7.3f} {floor:8.3f} {ratio:5.2f}x {target:5.1f}x {mark:4} "
              f"{floor_label}")


if __name__ == "__main__":
    main()
