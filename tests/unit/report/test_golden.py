"""The three demo verdicts, rendered in every format, against golden files.

Regenerate after an intended change with ``GATEKEEPER_UPDATE_GOLDEN=1 pytest tests/unit/report``
and review the diff; a missing golden file fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gatekeeper.report.files import FILES, write_report_files
from tests.unit.report.helpers_report import GOLDEN, demo

UPDATE = os.environ.get("GATEKEEPER_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", ["pass", "warn", "block"])
def test_demo_reports_match_golden_files(tmp_path: Path, name: str) -> None:
    verdict, ctx = demo(name)
    written = write_report_files(tmp_path / "out", verdict, ctx)
    assert sorted(written) == sorted(FILES)
    for file_name, path in written.items():
        golden = GOLDEN / name / file_name
        actual = path.read_text(encoding="utf-8")
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
        assert golden.is_file(), f"missing {golden}: run with GATEKEEPER_UPDATE_GOLDEN=1"
        assert actual == golden.read_text(encoding="utf-8"), f"{name}/{file_name} changed"


def test_outputs_are_byte_identical_for_identical_input(tmp_path: Path) -> None:
    verdict, ctx = demo("warn")
    first = write_report_files(tmp_path / "a", verdict, ctx)
    second = write_report_files(tmp_path / "b", verdict, ctx)
    for name in FILES:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    # atomic writes leave no temporary files behind
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(FILES)
