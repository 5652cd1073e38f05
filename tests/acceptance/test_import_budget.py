"""Cold start matters in CI: `check` loads only what its policy needs (bench/coldstart.py
measures the time; this test keeps the heavy modules out of the paths that do not need them)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("scipy.stats", "scipy.optimize", "jinja2", "requests", "mlflow")


def _loaded(policy: str, fmt: str) -> set[str]:
    code = (
        "import sys\n"
        "from gatekeeper.cli import main\n"
        f"main(['check', 'examples/bundles/pass', '--policy', {policy!r}, '--format', {fmt!r},"
        " '--as-of', '2026-11-26'])\n"
        f"print('LOADED:' + ' '.join(m for m in {HEAVY!r} + ('scipy',) if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("LOADED:")
    return set(last[len("LOADED:"):].split())


def test_floors_only_policy_loads_no_scipy_jinja_or_requests() -> None:
    assert _loaded("bench/floors-only.yaml", "text") == set()


def test_baseline_comparison_loads_scipy_special_only() -> None:
    loaded = _loaded("policies/default.yaml", "json")
    assert "scipy" in loaded
    assert loaded.isdisjoint(HEAVY)
