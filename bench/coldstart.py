"""Cold-start wall time of `gatekeeper check` on the demo bundle, next to the bare imports it
cannot avoid (numpy, yaml, pydantic), on the same machine in the same run.

    python bench/coldstart.py [--runs 10]

Each figure is a fresh interpreter (`python -m ...`), so it includes interpreter start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES: list[tuple[str, list[str]]] = [
    ("python -c 'import numpy, yaml, pydantic'",
     [sys.executable, "-c", "import numpy, yaml, pydantic"]),
    ("gatekeeper check (floors only: no scipy)",
     [sys.executable, "-m", "gatekeeper", "check", "examples/bundles/pass", "--policy",
      "bench/floors-only.yaml", "--as-of", "2026-11-26"]),
    ("gatekeeper check (default policy, Tango vs baseline)",
     [sys.executable, "-m", "gatekeeper", "check", "examples/bundles/pass", "--policy",
      "policies/default.yaml", "--as-of", "2026-11-26"]),
]


def time_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, env={**os.environ})
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; {args.runs} runs each "
          "after one warm-up (page cache warm, fresh interpreter per run)")
    print(f"{'command':58} {'median s':>9} {'min s':>7}")
    for label, cmd in CASES:
        time_once(cmd)
        samples = [time_once(cmd) for _ in range(args.runs)]
        print(f"{label:58} {statistics.median(samples):9.3f} {min(samples):7.3f}")


if __name__ == "__main__":
    main()
