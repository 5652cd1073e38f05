"""The usage ledger on a real MLflow server: one run per decision in the experiment
``gatekeeper.ledger``, its fields as run tags; concurrent writers lose nothing; a gate whose
policy names the server as its ledger records there while its baseline comes from a file
registry; ``registry eval-usage`` lists it."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import uuid
from pathlib import Path
from typing import Any

import requests
import yaml

from gatekeeper.registry.interface import LedgerRecord
from gatekeeper.registry.mlflow import LEDGER_EXPERIMENT, MlflowRegistry
from tests.conftest import AS_OF, EXAMPLES, POLICIES, run_subprocess
from tests.integration.conftest import MlflowServer

WRITERS = 8


def _record(model: str, i: int, **extra: Any) -> LedgerRecord:
    return LedgerRecord(**{"eval_set": f"{i % 2:x}" * 64, "data": ("c" * 64, "d" * 64),
                           "role": "public", "model": model, "run_id": f"run-{i}",
                           "bundle_sha256": f"{i:064d}", "verdict": "pass", **extra})


def test_records_round_trip_as_runs_with_tags(mlflow_server: MlflowServer) -> None:
    model = f"ledger-{uuid.uuid4().hex[:8]}"
    registry = MlflowRegistry(mlflow_server.uri)
    written = registry.append_decision(_record(model, 0, pr=17, parent_run_id="sweep-1",
                                               policy="default@1"))
    registry.append_decision(_record(model, 1, verdict="block"))
    got = registry.decisions(model=model)
    assert [r.run_id for r in got] == ["run-0", "run-1"]
    assert got[0] == written
    assert got[0].pr == 17 and got[0].parent_run_id == "sweep-1" and got[1].pr is None
    assert got[0].data == ("c" * 64, "d" * 64)
    assert [r.run_id for r in registry.decisions(model=model, data="1" * 64)] == ["run-1"]
    assert len(registry.decisions(model=model, data="d" * 10)) == 2
    # What the server holds: runs of the ledger experiment, tagged gatekeeper.ledger.*.
    exp = requests.get(f"{mlflow_server.url}/api/2.0/mlflow/experiments/get-by-name",
                       params={"experiment_name": LEDGER_EXPERIMENT}, timeout=10).json()
    runs = requests.post(f"{mlflow_server.url}/api/2.0/mlflow/runs/search", json={
        "experiment_ids": [exp["experiment"]["experiment_id"]],
        "filter": f"tags.`gatekeeper.ledger.model` = '{model}'"}, timeout=10).json()["runs"]
    assert len(runs) == 2
    tags = {t["key"]: t["value"] for t in runs[0]["data"]["tags"]}
    assert tags["gatekeeper.ledger.role"] == "public"


def _append(uri: str, model: str, writer: int, start: Any) -> list[str]:
    registry = MlflowRegistry(uri)
    start.wait(timeout=60)
    return [registry.append_decision(_record(model, writer * 10 + i)).id for i in range(3)]


def test_concurrent_writers_lose_no_record(mlflow_server: MlflowServer) -> None:
    model = f"race-{uuid.uuid4().hex[:8]}"
    MlflowRegistry(mlflow_server.uri).decisions()  # the experiment exists before the race
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(WRITERS) as pool:
            pending = [pool.apply_async(_append, (mlflow_server.uri, model, w, start))
                       for w in range(WRITERS)]
            start.set()
            ids = [i for p in pending for i in p.get(timeout=180)]
    records = MlflowRegistry(mlflow_server.uri).decisions(model=model)
    assert len(ids) == len(set(ids)) == WRITERS * 3
    assert sorted(r.id for r in records) == sorted(ids)


def test_a_gate_records_in_the_mlflow_ledger(mlflow_server: MlflowServer,
                                             tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(EXAMPLES / "registry", registry)
    policy = yaml.safe_load((POLICIES / "default.yaml").read_text())
    policy["baseline"]["registry"] = f"file:{registry}"
    policy["leaderboard"] = {"ledger": mlflow_server.uri, "max_decisions": 1,
                             "on_exceed": "block"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    before = len(MlflowRegistry(mlflow_server.uri).decisions(model="sentiment-clf"))
    first = run_subprocess("check", "examples/bundles/warn", "--policy", str(path),
                           "--as-of", AS_OF, "--format", "json")
    assert first.code == 0, first.err
    second = run_subprocess("check", "examples/bundles/pass", "--policy", str(path),
                            "--as-of", AS_OF, "--format", "json")
    checks = {c["id"]: c for c in json.loads(second.out)["checks"]}
    assert checks["leaderboard:reuse"]["status"] == "block"
    assert not (registry / ".ledger").exists()  # the file registry gave only the baseline
    listed = run_subprocess("registry", "eval-usage", "--registry", mlflow_server.uri,
                            "--model", "sentiment-clf", "--format", "json")
    assert listed.code == 0, listed.err
    decisions = json.loads(listed.out)["decisions"]
    assert len(decisions) == before + 2
    assert [d["run_id"] for d in decisions[-2:]] == ["run-cand-warn", "run-cand-pass"]
