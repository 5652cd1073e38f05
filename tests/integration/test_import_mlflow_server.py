"""`gatekeeper import mlflow mlflow+http://... --run-id` against a real `mlflow server`: a run
logged over REST becomes a bundle; a run holding a promoted bundle imports as that bundle; faults
exit 2 with one line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from gatekeeper.cli import main
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.registry.interface import Approval
from gatekeeper.registry.mlflow import MlflowRegistry

pytestmark = pytest.mark.mlflow

COMMIT = "0123456789abcdef0123456789abcdef01234567"
START_MS = 1763632800000  # 2025-11-20T10:00:00Z
REPO_ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("tok-s3cr3t", "pa55word")


def call(server: Any, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{server.url}/api/2.0/mlflow/{endpoint}", json=body, timeout=10)
    response.raise_for_status()
    payload: dict[str, Any] = response.json()
    return payload


def upload(server: Any, run: dict[str, Any], rel: str, content: bytes) -> None:
    root = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:").strip("/")
    response = requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{root}/{rel}",
                            data=content, timeout=10)
    response.raise_for_status()


def new_run(server: Any, tags: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    experiment = f"imp-{uuid.uuid4().hex[:8]}"
    exp_id = call(server, "experiments/create", {"name": experiment})["experiment_id"]
    run = call(server, "runs/create", {
        "experiment_id": exp_id, "start_time": START_MS, "run_name": "bright-owl-7",
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]})["run"]
    return experiment, run


def gatekeeper(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("MLFLOW_TRACKING_", "GATEKEEPER_MLFLOW_MAX"))}
    return subprocess.run([sys.executable, "-m", "gatekeeper", *args], cwd=REPO_ROOT,
                          env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=120, check=False)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_logged_run_becomes_a_bundle(mlflow_server: Any, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    experiment, run = new_run(mlflow_server, {
        "mlflow.source.git.commit": COMMIT, "mlflow.source.git.repoURL": "org/repo",
        "mlflow.source.git.branch": "main", "mlflow.parentRunId": "sweep-42", "team": "nlp"})
    run_id = run["info"]["run_id"]
    losses = [(0, START_MS + 10, 0.9), (1, START_MS + 20, 0.5), (2, START_MS + 30, 0.4)]
    call(mlflow_server, "runs/log-batch", {
        "run_id": run_id,
        "params": [{"key": "lr", "value": "0.001"}, {"key": "epochs", "value": "3"}],
        "metrics": [{"key": "loss", "value": v, "timestamp": t, "step": s}
                    for s, t, v in losses]
        + [{"key": "accuracy", "value": 0.93, "timestamp": START_MS, "step": 0}],
        "tags": [{"key": "stage", "value": "eval"}]})
    weights = b"\x00weights\xff" * 100
    upload(mlflow_server, run, "model/weights.bin", weights)
    upload(mlflow_server, run, "notes.txt", b"trained on the eval split\n")

    out = tmp_path / "bundle"
    done = gatekeeper("import", "mlflow", mlflow_server.uri, "--run-id", run_id,
                      "--out", str(out), env={"MLFLOW_TRACKING_TOKEN": SECRETS[0]})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)

    bundle = load_bundle(out)
    got = bundle.run
    assert got.run_id == run_id
    assert got.model == experiment
    assert got.name == "bright-owl-7"
    assert got.params == {"lr": "0.001", "epochs": "3"}  # MLflow params are text
    assert got.metrics["loss"].value == 0.4
    assert got.metrics["accuracy"].value == pytest.approx(0.93)
    assert "accuracy/series" not in got.metrics  # one point: no series
    series = got.metrics["loss/series"]
    assert series.series == "series/loss.csv"
    assert bundle.resolve("series/loss.csv").read_text().splitlines() == [
        "step,timestamp,value"] + [f"{s},{t},{v}" for s, t, v in losses]
    assert got.code is not None
    assert (got.code.commit, got.code.repo, got.code.branch) == (COMMIT, "org/repo", "main")
    assert got.parent_run_id == "sweep-42"
    assert got.created_at is not None
    assert got.created_at.isoformat().startswith("2025-11-20T10:00:00")
    assert got.tags["team"] == "nlp" and got.tags["stage"] == "eval"
    assert got.tags["mlflow.run_id"] == run_id and got.tags["mlflow.status"] == "RUNNING"
    assert [(a.path, a.sha256, a.size) for a in got.artifacts] == [
        ("artifacts/model/weights.bin", hashlib.sha256(weights).hexdigest(), len(weights)),
        ("artifacts/notes.txt", hashlib.sha256(b"trained on the eval split\n").hexdigest(), 26)]
    assert all(status.ok for status in bundle.verify_artifacts())

    # Same server state, same bytes; and the import never loads the mlflow package.
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    again = tmp_path / "again"
    assert main(["import", "mlflow", mlflow_server.uri, "--run-id", run_id,
                 "--out", str(again)]) == 0
    assert "mlflow" not in sys.modules
    assert tree_bytes(again) == tree_bytes(out)


def test_run_holding_a_promoted_bundle_imports_as_that_bundle(
    mlflow_server: Any, tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    model = f"clf-{uuid.uuid4().hex[:8]}"
    source = bundle_writer(tmp_path / "src", f"run-{uuid.uuid4().hex[:6]}", model=model)
    loaded = load_bundle(source)
    registry = MlflowRegistry(mlflow_server.uri)
    version = registry.promote(
        source, model=model, alias="production", verdict="pass",
        approval=Approval(approved_by="alice", approved_at="2026-11-20T10:00:00Z"),
        bundle_sha256=loaded.sha256(), run_id=loaded.run.run_id)
    raw = requests.get(f"{mlflow_server.url}/api/2.0/mlflow/model-versions/get", timeout=10,
                       params={"name": model, "version": version.version}).json()
    mlflow_run_id = raw["model_version"]["run_id"]

    out = tmp_path / "imported"
    done = gatekeeper("import", "mlflow", mlflow_server.uri, "--run-id", mlflow_run_id,
                      "--out", str(out))
    assert done.returncode == 0, done.stderr
    imported = load_bundle(out)
    assert imported.sha256() == loaded.sha256()
    assert imported.run.run_id == loaded.run.run_id  # the bundle's own id, not MLflow's
    assert tree_bytes(out) == tree_bytes(source)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gatekeeper: error: ")
    assert "Traceback" not in done.stderr and done.stdout == ""
    return lines[0]


def test_unknown_run_id_exits_2_naming_uri_and_run(mlflow_server: Any, tmp_path: Path) -> None:
    missing = uuid.uuid4().hex
    out = tmp_path / "out"
    line = one_error_line(gatekeeper("import", "mlflow", mlflow_server.uri, "--run-id",
                                     missing, "--out", str(out)))
    assert mlflow_server.uri in line and missing in line and "not found" in line
    assert not out.exists()


def test_closed_port_exits_2_without_credentials(closed_port: int, tmp_path: Path) -> None:
    uri = f"mlflow+http://bob:{SECRETS[1]}@127.0.0.1:{closed_port}"
    line = one_error_line(gatekeeper(
        "import", "mlflow", uri, "--run-id", "abc", "--out", str(tmp_path / "out"),
        env={"MLFLOW_TRACKING_TOKEN": SECRETS[0]}))
    assert f"mlflow+http://127.0.0.1:{closed_port} unreachable" in line
    assert "after 4 attempts" in line
    assert all(secret not in line for secret in (*SECRETS, "bob"))


def test_artifacts_over_the_download_limit_are_refused(mlflow_server: Any,
                                                        tmp_path: Path) -> None:
    _experiment, run = new_run(mlflow_server)
    upload(mlflow_server, run, "big.bin", b"x" * 3000)
    out = tmp_path / "out"
    line = one_error_line(gatekeeper(
        "import", "mlflow", mlflow_server.uri, "--run-id", run["info"]["run_id"],
        "--out", str(out), env={"GATEKEEPER_MLFLOW_MAX_DOWNLOAD_BYTES": "1000"}))
    assert "total 3,000 bytes in 1 files; the download limit is 1,000 bytes" in line
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary leftovers


def test_server_import_needs_a_run_id(mlflow_server: Any, tmp_path: Path) -> None:
    line = one_error_line(gatekeeper("import", "mlflow", mlflow_server.uri,
                                     "--out", str(tmp_path / "out")))
    assert "needs --run-id RUN_ID" in line


def test_a_metric_named_like_another_metrics_series_is_refused(mlflow_server: Any,
                                                               tmp_path: Path) -> None:
    _experiment, run = new_run(mlflow_server)
    call(mlflow_server, "runs/log-batch", {"run_id": run["info"]["run_id"], "metrics": [
        {"key": "loss", "value": 0.9, "timestamp": START_MS, "step": 0},
        {"key": "loss", "value": 0.5, "timestamp": START_MS, "step": 1},
        {"key": "loss/series", "value": 1.0, "timestamp": START_MS, "step": 0}]})
    line = one_error_line(gatekeeper("import", "mlflow", mlflow_server.uri, "--run-id",
                                     run["info"]["run_id"], "--out", str(tmp_path / "out")))
    assert "'loss/series' collides with the series of another metric" in line
