"""The CLI's own promises: a library's warning reaches the user as one line, not Python's
two-line form with a path inside the library."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOISY = textwrap.dedent("""
    import sys, warnings
    from gatekeeper import cli
    import gatekeeper.commands.schema as schema

    real = schema.run

    def noisy(args):
        warnings.warn("divide by zero encountered\\nin a second line", RuntimeWarning)
        return real(args)

    schema.run = noisy
    sys.exit(cli.main(sys.argv[1:]))
""")


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-W", "always", "-c", NOISY, *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_a_library_warning_is_one_line() -> None:
    res = run("schema", "run")
    assert res.returncode == 0
    lines = res.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("gatekeeper: warning: RuntimeWarning: divide by zero encountered")
    assert "second line" in lines[0] and "commands/schema.py" not in lines[0]


def test_debug_keeps_pythons_own_warning_format() -> None:
    res = run("schema", "run", "--debug")
    assert res.returncode == 0
    assert "RuntimeWarning: divide by zero" in res.stderr
    assert "gatekeeper: warning" not in res.stderr
