"""The collector is paused while a command-line process starts and runs again before the
command does its work; in any other process (here: pytest calling cli.main) nothing changes."""

from __future__ import annotations

import contextlib
import gc
import io
import subprocess
import sys

from gatekeeper.cli import main
from tests.conftest import AS_OF, ROOT

CHECK = ["check", "examples/bundles/warn", "--policy", "policies/default.yaml", "--as-of", AS_OF]


def test_a_command_line_check_ends_with_the_collector_running() -> None:
    # Through the console entry point: paused at start, resumed (imports frozen) before the
    # gate reads the bundle, and the verdict is the one an unpaused run gives.
    code = ("import gc, sys\n"
            "from gatekeeper import cli\n"
            f"sys.argv = ['gatekeeper', *{CHECK!r}, '--format', 'json']\n"
            "seen = []\n"
            "import gatekeeper.gate as gate\n"
            "run_gate = gate.run_gate\n"
            "def spy(*a, **k):\n"
            "    seen.append(gc.isenabled())\n"
            "    return run_gate(*a, **k)\n"
            "gate.run_gate = spy\n"
            "try:\n"
            "    cli.main_entry()\n"
            "except SystemExit as exc:\n"
            "    print(exc.code, seen, gc.isenabled(), gc.get_freeze_count() > 1000,"
            " file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.stderr.strip() == "0 [True] True True", proc.stderr
    plain = subprocess.run([sys.executable, "-m", "gatekeeper", *CHECK, "--format", "json"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stdout == plain.stdout and '"verdict": "warn"' in plain.stdout


def test_main_called_in_process_leaves_the_collector_alone() -> None:
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(CHECK) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_a_collector_paused_by_someone_else_stays_paused() -> None:
    from gatekeeper import startup

    gc.disable()
    try:
        with startup.imports():
            pass
        startup.done()
        assert not gc.isenabled()
    finally:
        gc.enable()
