"""Concurrent gates writing one file ledger: no record lost, none half-written.

Eight real ``gatekeeper check`` processes at once (the way parallel CI jobs run), then eight
processes appending many records each straight through the backend."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from gatekeeper.registry.file import LEDGER_DIR, FileRegistry
from gatekeeper.registry.interface import LedgerRecord
from tests.conftest import AS_OF, EXAMPLES, POLICIES, ROOT

GATES = 8
APPENDS = 25


def _policy(tmp_path: Path) -> Path:
    registry = tmp_path / "registry"
    shutil.copytree(EXAMPLES / "registry", registry)
    policy = yaml.safe_load((POLICIES / "default.yaml").read_text())
    policy["baseline"]["registry"] = f"file:{registry}"
    policy["leaderboard"] = {"max_decisions": 100}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def test_eight_gates_at_once_record_eight_decisions(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    bundles = ("pass", "warn", "block")
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", "check", f"examples/bundles/{bundles[i % 3]}",
         "--policy", str(policy), "--as-of", AS_OF, "--format", "json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(GATES)]
    verdicts = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err
        verdicts.append(json.loads(out)["verdict"])
    records = FileRegistry(tmp_path / "registry").decisions()
    assert len(records) == GATES
    assert len({r.id for r in records}) == GATES
    assert sorted(r.verdict for r in records) == sorted(verdicts)
    folder = tmp_path / "registry" / LEDGER_DIR
    assert sorted(p.suffix for p in folder.iterdir()) == [".json"] * GATES  # no temp left


def _append(root: str, writer: int, start: Any) -> list[str]:
    registry = FileRegistry(Path(root))
    start.wait(timeout=60)  # everyone leaves the gate together
    return [registry.append_decision(LedgerRecord(
        eval_set="e" * 64, data=("d" * 64,), role="public", model="race",
        run_id=f"w{writer}-{i}", bundle_sha256=f"{writer:02d}{i:062d}", verdict="pass")).id
        for i in range(APPENDS)]


def test_eight_processes_appending_lose_no_record(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(GATES) as pool:
            pending = [pool.apply_async(_append, (str(root), w, start)) for w in range(GATES)]
            start.set()
            ids = [i for p in pending for i in p.get(timeout=120)]
    records = FileRegistry(root).decisions()
    assert len(ids) == len(set(ids)) == GATES * APPENDS
    assert sorted(r.id for r in records) == sorted(ids)
    assert {r.run_id for r in records} == {f"w{w}-{i}" for w in range(GATES)
                                           for i in range(APPENDS)}
