"""Where `gatekeeper check`'s start-up goes, in instructions: figures that the machine's load
does not move (CPU seconds on a shared machine drift by a quarter from one run to the next).

    python bench/coldstart_instructions.py

Each figure is the number of instructions a fresh interpreter executes, counted by valgrind's
callgrind (``apt-get install valgrind``; the script exits 2 without it), with
``PYTHONHASHSEED=0``; repeated runs agree within about 1%. A warm-up run first writes the
byte-code cache, as an installed wheel ships it compiled. About 10 s per figure.

Two tables:

1. each command next to its floor (the floors of bench/coldstart.py), counting the processes
   it starts too (`git rev-parse`);
2. the demo `check` taken apart: what each stage of its imports adds to the one before, with
   the collector paused as the console entry point pauses it (gatekeeper/startup.py), and what
   52 frozen dataclasses of five fields cost on their own (the number on the check path).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENTRY = "from gatekeeper.cli import main_entry; main_entry()"
CHECK = ["check", "examples/bundles/warn", "--policy", "policies/default.yaml",
         "--as-of", "2026-11-26"]
FLOOR = "import numpy, yaml, pydantic"
PAUSED = "from gatekeeper import startup; startup.begin(); import numpy, yaml, pydantic"
MODELS = "import gatekeeper.models.run, gatekeeper.models.policy, gatekeeper.models.verdict"

COMMANDS: list[tuple[str, list[str], str]] = [
    ("python -c pass", [PY, "-c", "pass"], ""),
    ("gatekeeper --version", [PY, "-c", ENTRY, "--version"], "python -c pass"),
    ("gatekeeper --help", [PY, "-c", ENTRY, "--help"], "python -c pass"),
    (f"python -c '{FLOOR}'", [PY, "-c", FLOOR], ""),
    ("gatekeeper check examples/bundles/warn", [PY, "-c", ENTRY, *CHECK],
     f"python -c '{FLOOR}'"),
]

# (what the stage adds, the code run up to and including it)
STAGES: list[tuple[str, str]] = [
    ("numpy, yaml, pydantic (collector paused)", PAUSED),
    ("pydantic.BaseModel and its machinery", f"{PAUSED}; from pydantic import BaseModel"),
    ("importlib.metadata (pydantic's plugin loader)",
     f"{PAUSED}; from pydantic import BaseModel; import importlib.metadata"),
    ("the models (run, policy, verdict) and field types", f"{PAUSED}; {MODELS}"),
    ("the gate: inputs, policy, baseline, checks, stats, reports",
     f"{PAUSED}; {MODELS}; import gatekeeper.gate, gatekeeper.commands.check"),
]
DATACLASSES = ("import dataclasses\nfor i in range(52):\n    dataclasses.dataclass(frozen=True)("
               "type('C', (), {'__annotations__': {f'a{j}': 'int' for j in range(5)}}))")


def instructions(cmd: list[str], out: Path) -> int:
    """Instructions executed by ``cmd`` and the processes it waits for."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONHASHSEED"] = "0"
    subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env, check=False)  # warm-up
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                           f"--callgrind-out-file={out}/cg.%p", *cmd],
                          cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    counts = [int(n) for n in re.findall(r"Collected : (\d+)", proc.stderr)]
    if not counts:
        raise SystemExit(f"valgrind counted nothing for {cmd}: {proc.stderr[-500:]}")
    for f in out.glob("cg.*"):
        f.unlink()
    return sum(counts)


def main() -> None:
    if shutil.which("valgrind") is None:
        print("bench/coldstart_instructions.py needs valgrind (apt-get install valgrind)",
              file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory(prefix="gk-callgrind-") as tmp:
        out = Path(tmp)
        print(f"python {sys.version.split()[0]}; millions of instructions (callgrind), "
              "each process and the processes it waits for")
        print(f"{'command':48} {'Minstr':>8} {'floor':>8} {'ratio':>6}")
        counted: dict[str, int] = {}
        for label, cmd, floor in COMMANDS:
            counted[label] = instructions(cmd, out)
            if floor:
                print(f"{label:48} {counted[label] / 1e6:8.1f} {counted[floor] / 1e6:8.1f} "
                      f"{counted[label] / counted[floor]:5.2f}x")
        print()
        print(f"{'stage of the check (what it adds)':60} {'Minstr':>8} {'adds':>8}")
        before = 0
        for label, code in STAGES:
            total = instructions([PY, "-c", code], out)
            print(f"{label:60} {total / 1e6:8.1f} {(total - before) / 1e6:+8.1f}")
            before = total
        whole = counted["gatekeeper check examples/bundles/warn"]
        print(f"{'reading, deciding, printing (and git rev-parse)':60} {whole / 1e6:8.1f} "
              f"{(whole - before) / 1e6:+8.1f}")
        base = instructions([PY, "-c", "import dataclasses"], out)
        made = instructions([PY, "-c", DATACLASSES], out)
        print(f"\n52 frozen dataclasses of 5 fields: {(made - base) / 1e6:.1f} M instructions "
              f"({(made - base) / 52 / 1e6:.2f} M each)")


if __name__ == "__main__":
    main()
