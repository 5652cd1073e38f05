"""Inputs `bench/fuzz.py` found crashing or hanging the gate, replayed through the same reader.

Each file under tests/fixtures/fuzz is one input as the fuzzer saved it (where it goes, a NUL,
its bytes; gzipped); cases.json names the target that reads it, its number in the run and what
it did to the gate it was found on (`python bench/fuzz.py --seed 7` on the gate before these
fixes: 7,989 crashes and 75 hangs in 100,000 inputs, 84 distinct, one input kept for each).
Every one must now load or be refused with gatekeeper's user error — through the whole CLI for
the `gate` cases (exit 2 with one stderr line, never exit 3).
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.fuzz import FUZZ_ENV, Workspace, replay, run_gate, setup, targets
from tests.conftest import ROOT
from tests.unit.inputs.hostile import loads_or_refuses

FIXTURES = ROOT / "tests" / "fixtures" / "fuzz"
CASES = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))
TARGETS = {t.name: t for t in targets()}


@pytest.fixture(scope="module")
def workspace() -> Iterator[Workspace]:
    root = Path(tempfile.mkdtemp(prefix="gk-fuzz-replay-"))
    yield setup(root)
    shutil.rmtree(root, ignore_errors=True)


def test_every_saved_input_is_listed() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.bin.gz")}
    assert on_disk == {case["file"] for case in CASES}
    assert {case["target"] for case in CASES} <= {*TARGETS, "gate"}


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_a_saved_input_loads_or_is_refused(case: dict[str, str], workspace: Workspace,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FUZZ_ENV.items():
        monkeypatch.setenv(key, value)
    data = gzip.decompress((FIXTURES / case["file"]).read_bytes())
    if case["target"] == "gate":
        code, err = run_gate(workspace, data)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code in (0, 1, 2) and "Traceback" not in err, err
        assert code != 2 or len(lines) == 1, err
        return
    loads_or_refuses(lambda: replay(workspace, TARGETS[case["target"]], data))
