"""Shared test helpers: run the CLI in-process (fast) or as a subprocess (true end to end)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
POLICIES = ROOT / "policies"
AS_OF = "2026-11-26"  # fixed so waiver expiry and baseline age do not depend on the test day


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``gatekeeper`` in-process from the repository root."""
    from gatekeeper.cli import main

    monkeypatch.chdir(ROOT)

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_subprocess(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "gatekeeper", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of a demo bundle that a test may tamper with."""

    def make(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(EXAMPLES / "bundles" / name, dest)
        return dest

    return make


def use_environ(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
    """``environ`` as the process's GitHub variables: the runner's own ones are removed first,
    so a test never reads the machine's."""
    for key in list(os.environ):
        if key.startswith("GITHUB_") or key.startswith("GATEKEEPER_GITHUB"):
            monkeypatch.delenv(key, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
