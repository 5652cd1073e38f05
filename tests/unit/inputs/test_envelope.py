from __future__ import annotations

import pytest

from gatekeeper.inputs.envelope import missing_fields, parse_path
from gatekeeper.models.run import Run

SHA = "a" * 64


def run(**kw: object) -> Run:
    return Run.model_validate({"schema": "gatekeeper.run/v1", "run_id": "r", "model": "m", **kw})


def test_parse_path() -> None:
    assert parse_path("data[*].sha256") == ["data", "*", "sha256"]
    assert parse_path("a.b[2].c") == ["a", "b", 2, "c"]
    for bad in ("", "a..b", ".a", "a[", "a[x]"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_wildcard_reports_each_missing_item() -> None:
    r = run(data=[{"name": "train", "sha256": SHA}, {"name": "eval"}])
    assert missing_fields(r, ["data[*].sha256"]) == ["data[1].sha256"]
    assert missing_fields(run(), ["data[*].sha256"]) == ["data[*] (no entries)"]


def test_nested_and_empty_values_are_missing() -> None:
    r = run(seeds=[], code={"commit": "abcdef1"})
    assert missing_fields(r, ["seeds", "code.commit", "environment.lockfile.sha256"]) == [
        "seeds", "environment.lockfile.sha256"]


def test_complete_envelope() -> None:
    r = run(seeds=[1], code={"commit": "abcdef1"},
            environment={"lockfile": {"path": "uv.lock", "sha256": SHA},
                         "hardware": {"accelerator": "cpu"}},
            data=[{"name": "d", "sha256": SHA}])
    req = ["code.commit", "environment.lockfile.sha256", "data[*].sha256", "seeds",
           "environment.hardware.accelerator"]
    assert missing_fields(r, req) == []
