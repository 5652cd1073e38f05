"""The wheel ships what the package needs at run time: schemas, templates, py.typed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_contains_schemas_and_templates(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = list(tmp_path.glob("gatekeeper_gate-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("gatekeeper/schemas/run.schema.json", "gatekeeper/schemas/policy.schema.json",
                     "gatekeeper/schemas/verdict.schema.json", "gatekeeper/py.typed",
                     "gatekeeper/report/templates/report.md.j2",
                     "gatekeeper/report/templates/model_card.md.j2"):
        assert required in names, required
    assert not any(n.startswith("tests/") for n in names)
