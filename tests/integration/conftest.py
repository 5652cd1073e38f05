"""Integration fixtures: a real ``mlflow server`` and run bundles to promote."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

START_TIMEOUT_S = 180.0  # the first start migrates the sqlite schema; slow on a busy machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mlflow_binary() -> str:
    explicit = os.environ.get("GATEKEEPER_MLFLOW_BIN")
    if explicit:
        if not Path(explicit).is_file():
            pytest.fail(f"GATEKEEPER_MLFLOW_BIN={explicit} does not exist")
        return explicit
    found = shutil.which("mlflow")
    if found:
        return found
    pytest.fail(
        "the MLflow integration tests need a real `mlflow server`: install mlflow in a separate "
        "venv (python -m venv /tmp/mlflow && /tmp/mlflow/bin/pip install 'mlflow>=3,<4') and "
        "export GATEKEEPER_MLFLOW_BIN=/tmp/mlflow/bin/mlflow, or put `mlflow` on PATH"
    )


@dataclass(frozen=True)
class MlflowServer:
    url: str  # http://127.0.0.1:PORT
    artifacts: Path  # --artifacts-destination, to corrupt stored files in tests

    @property
    def uri(self) -> str:
        return f"mlflow+{self.url}"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    binary = mlflow_binary()
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    artifacts = root / "artifacts"
    log = (root / "server.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    proc = subprocess.Popen(
        [binary, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(artifacts), "--serve-artifacts"],
        stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env,
        start_new_session=True,  # its own process group: the uvicorn worker goes down with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}: "
                            f"{(root / 'server.log').read_text(errors='replace')[-2000:]}")
            try:
                if requests.get(f"{url}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer /health within {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield MlflowServer(url=url, artifacts=artifacts)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"
BundleWriter = Callable[..., Path]


def write_bundle(root: Path, run_id: str, *, model: str = "sentiment-clf",
                 accuracy: tuple[float, ...] = (0.90, 0.91), team: str = "nlp",
                 parent: str | None = None) -> Path:
    """A small, complete bundle (envelope fields + one hashed artifact)."""
    root.mkdir(parents=True, exist_ok=True)
    weights = f"weights of {run_id}".encode()
    (root / "artifacts").mkdir(exist_ok=True)
    (root / "artifacts" / "model.bin").write_bytes(weights)
    doc = {
        "schema": "gatekeeper.run/v1", "run_id": run_id, "model": model,
        "tags": {"team": team}, "params": {"lr": 0.001}, "seeds": [0, 1],
        "code": {"commit": COMMIT},
        "environment": {"lockfile": {"path": "uv.lock", "sha256": "a" * 64}},
        "data": [{"name": "eval", "sha256": "b" * 64}],
        "metrics": {"accuracy": {"replicates": list(accuracy)}},
        "artifacts": [{"path": "artifacts/model.bin", "size": len(weights),
                       "sha256": hashlib.sha256(weights).hexdigest()}],
    }
    if parent is not None:
        doc["parent_run_id"] = parent
    (root / "run.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return root


@pytest.fixture
def bundle_writer() -> BundleWriter:
    """``write_bundle(root, run_id, *, model, accuracy, team, parent) -> Path``."""
    return write_bundle


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    return free_port()
