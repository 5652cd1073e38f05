"""The file registry's usage ledger: one file per record, filters, and an unreadable record
named rather than skipped (a budget must not shrink because a file was garbled)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gatekeeper.errors import RegistryError
from gatekeeper.registry.file import LEDGER_DIR, FileRegistry
from gatekeeper.registry.interface import LedgerRecord


def _record(model: str = "m", eval_set: str = "e" * 64, **extra: object) -> LedgerRecord:
    return LedgerRecord(**{"eval_set": eval_set, "data": ("d" * 64,), "role": "public",
                           "model": model, "run_id": "r", "bundle_sha256": "b" * 64,
                           "verdict": "pass", **extra})  # type: ignore[arg-type]


def test_append_stamps_time_and_id_and_reads_back(tmp_path: Path) -> None:
    when = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    registry = FileRegistry(tmp_path, clock=lambda: when)
    written = registry.append_decision(_record(pr=3))
    assert written.recorded_at == "2026-11-20T10:00:00Z" and written.id
    assert registry.decisions() == [written]
    files = list((tmp_path / LEDGER_DIR).iterdir())
    assert [p.name for p in files] == [f"{written.id}.json"]
    assert json.loads(files[0].read_text())["pr"] == 3


def test_filters_by_model_and_data(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path)
    registry.append_decision(_record("a"))
    registry.append_decision(_record("b", eval_set="f" * 64))
    assert [r.model for r in registry.decisions(model="a")] == ["a"]
    assert [r.model for r in registry.decisions(data="f" * 9)] == ["b"]
    assert len(registry.decisions(data="d" * 64)) == 2
    assert registry.decisions(data="0" * 64) == []


def test_no_ledger_yet_is_empty(tmp_path: Path) -> None:
    assert FileRegistry(tmp_path / "nowhere").decisions() == []


def test_an_unreadable_record_is_an_error_naming_the_file(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path)
    registry.append_decision(_record())
    bad = tmp_path / LEDGER_DIR / "zz.json"
    bad.write_text('{"eval_set": 3}')
    with pytest.raises(RegistryError, match=r"zz\.json"):
        registry.decisions()


def test_the_ledger_is_not_a_model(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path)
    registry.append_decision(_record())
    assert registry.list_models() == []
