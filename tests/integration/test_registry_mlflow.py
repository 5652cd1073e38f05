"""The registry acceptance scenario on both backends (file and a real MLflow server), the
MLflow field mapping, and transport faults (retries, bounded, credentials never shown)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gatekeeper.baseline.rollback import find_rollback_target
from gatekeeper.errors import RegistryError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.registry import open_registry
from gatekeeper.registry.interface import Approval, ModelVersion, Registry
from gatekeeper.registry.mlflow import MlflowRegistry

COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"  # the commit write_bundle records
APPROVAL = Approval(approved_by="alice", approved_at="2026-11-20T10:00:00Z", ticket="ML-1")


@pytest.fixture(params=["file", pytest.param("mlflow", marks=pytest.mark.mlflow)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "file":
        return open_registry(f"file:{tmp_path / 'registry'}")
    server = request.getfixturevalue("mlflow_server")
    return open_registry(server.uri)


def promote(registry: Registry, bundle: Path, model: str, verdict: str = "pass") -> ModelVersion:
    loaded = load_bundle(bundle)
    return registry.promote(bundle, model=model, alias="production", approval=APPROVAL,
                            verdict=verdict, bundle_sha256=loaded.sha256(),
                            run_id=loaded.run.run_id, tags={"origin": "test"})


def stored_artifact(registry: Registry, tmp_path: Path, request: pytest.FixtureRequest,
                    version: ModelVersion, run_id: str) -> Path:
    """Where the backend keeps the version's copy of artifacts/model.bin."""
    if registry.uri.startswith("file:"):
        return registry.bundle_path(version, tmp_path) / "artifacts" / "model.bin"
    server = request.getfixturevalue("mlflow_server")
    wanted = f"weights of {run_id}".encode()
    hits = [p for p in server.artifacts.rglob("model.bin") if p.read_bytes() == wanted]
    assert len(hits) == 1, hits
    return hits[0]


def test_rollback_target_skips_archived_and_corrupted(
    registry: Registry, tmp_path: Path, request: pytest.FixtureRequest,
    bundle_writer: Callable[..., Path],
) -> None:
    model = f"clf-{uuid.uuid4().hex[:8]}"
    runs = [f"run-{i}-{uuid.uuid4().hex[:6]}" for i in (1, 2, 3)]
    versions = [promote(registry, bundle_writer(tmp_path / f"b{i}", r, model=model), model)
                for i, r in enumerate(runs)]
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert registry.resolve_alias(model, "production").version == "3"
    history = registry.alias_history(model, "production")
    assert [(e.version, e.until is None) for e in history] == [
        ("1", False), ("2", False), ("3", True)]
    assert history[0].set_by == "alice"

    assert registry.archive(model, "2").archived
    stored_artifact(registry, tmp_path, request, versions[2], runs[2]).write_bytes(b"tampered")

    target = find_rollback_target(registry, model, workdir=tmp_path / "work")
    assert target.version == "1"
    reasons = {c.version: c.reasons for c in target.considered}
    assert [c.version for c in target.considered] == ["3", "2", "1"]
    assert any(r.startswith("artifact artifacts/model.bin: sha256 mismatch") for r in reasons["3"])
    assert reasons["2"] == ["archived"]
    assert reasons["1"] == [] and target.considered[-1].eligible

    registry.archive(model, "1")
    none = find_rollback_target(registry, model, workdir=tmp_path / "work2")
    assert none.version is None
    assert "no version that held 'production' qualifies" in none.reason
    assert "1: archived" in none.reason and "2: archived" in none.reason
    assert "3: artifact artifacts/model.bin" in none.reason


def test_archive_refuses_the_alias_holder_and_promote_is_idempotent(
    registry: Registry, tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    model = f"clf-{uuid.uuid4().hex[:8]}"
    bundle = bundle_writer(tmp_path / "b", f"run-{uuid.uuid4().hex[:6]}", model=model)
    first = promote(registry, bundle, model)
    again = promote(registry, bundle, model)
    assert again.version == first.version
    assert len(registry.list_versions(model)) == 1
    with pytest.raises(RegistryError, match="holds alias production"):
        registry.archive(model, first.version)


def test_search_and_sweep_trials(
    registry: Registry, tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    model = f"sweep-{uuid.uuid4().hex[:8]}"
    parent = f"sweep-{uuid.uuid4().hex[:6]}"
    specs = [((0.95, 0.96), "nlp", parent), ((0.80, 0.82), "nlp", parent),
             ((0.97, 0.99), "vision", None)]
    for i, (acc, team, par) in enumerate(specs):
        promote(registry, bundle_writer(tmp_path / f"s{i}", f"t{i}-{parent}", model=model,
                                       accuracy=acc, team=team, parent=par), model)
    found = registry.search('metrics.accuracy >= 0.9 and tags.team == "nlp"', model=model)
    assert [v.version for v in found] == ["1"]
    trials = registry.search("", model=model, parent_run_id=parent)
    assert [v.version for v in trials] == ["1", "2"]
    assert [v.version for v in registry.search("params.lr == 0.001 and not archived",
                                               model=model)] == ["1", "2", "3"]


@pytest.mark.mlflow
def test_native_mlflow_version_maps_into_the_envelope(
    mlflow_server: Any, tmp_path: Path
) -> None:
    """A version registered by MLflow itself (no gatekeeper bundle) still yields a run."""
    api = f"{mlflow_server.url}/api/2.0/mlflow"
    model = f"native-{uuid.uuid4().hex[:8]}"
    exp = requests.post(f"{api}/experiments/create", json={"name": model}, timeout=10).json()
    run = requests.post(f"{api}/runs/create", timeout=10, json={
        "experiment_id": exp["experiment_id"], "start_time": 1763632800000,
        "tags": [{"key": "mlflow.source.git.commit", "value": COMMIT}]}).json()["run"]
    run_id = run["info"]["run_id"]
    requests.post(f"{api}/runs/log-batch", timeout=10, json={
        "run_id": run_id, "params": [{"key": "seed", "value": "7"}],
        "metrics": [{"key": "accuracy", "value": 0.93, "timestamp": 0, "step": 0}],
    }).raise_for_status()
    requests.post(f"{api}/registered-models/create", json={"name": model},
                  timeout=10).raise_for_status()
    requests.post(f"{api}/model-versions/create", timeout=10, json={
        "name": model, "source": f"runs:/{run_id}/model", "run_id": run_id}).raise_for_status()
    requests.post(f"{api}/registered-models/alias", timeout=10, json={
        "name": model, "alias": "production", "version": "1"}).raise_for_status()

    registry = open_registry(mlflow_server.uri)
    version = registry.resolve_alias(model, "production")
    bundle = load_bundle(registry.bundle_path(version, tmp_path))
    assert bundle.run.run_id == run_id
    assert bundle.run.code is not None and bundle.run.code.commit == COMMIT
    assert bundle.run.seeds == [7]
    assert bundle.run.metrics["accuracy"].value == pytest.approx(0.93)
    history = registry.alias_history(model, "production")
    assert [e.version for e in history] == ["1"]  # set outside gatekeeper: synthesised
    target = find_rollback_target(registry, model, workdir=tmp_path / "w")
    assert target.version is None
    assert target.considered[0].reasons[0] == "no recorded gate verdict"
    assert any("envelope incomplete: missing environment.lockfile.sha256" in r
               for r in target.considered[0].reasons)


# -- faults ----------------------------------------------------------------------------
SECRETS = {"MLFLOW_TRACKING_TOKEN": "tok-s3cr3t"}


def test_server_down_gives_registry_error_with_uri_after_bounded_retries(
    closed_port: int,
) -> None:
    port = closed_port
    sleeps: list[float] = []
    registry = MlflowRegistry(f"mlflow+http://bob:pa55word@127.0.0.1:{port}", env=SECRETS,
                              sleep=sleeps.append, max_attempts=3, timeout=(1.0, 1.0))
    with pytest.raises(RegistryError) as info:
        registry.list_versions("clf")
    message = str(info.value)
    assert f"mlflow+http://127.0.0.1:{port}" in message
    assert "after 3 attempts" in message
    for secret in ("pa55word", "bob", "tok-s3cr3t"):
        assert secret not in message and secret not in repr(registry)
    assert sleeps == [0.5, 1.0]


def test_5xx_then_success_is_retried_with_the_token(httpserver: HTTPServer) -> None:
    path = "/api/2.0/mlflow/registered-models/search"
    httpserver.expect_ordered_request(path, headers={"Authorization": "Bearer tok-s3cr3t"}) \
        .respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(path, headers={"Authorization": "Bearer tok-s3cr3t"}) \
        .respond_with_json({"registered_models": [{"name": "b"}, {"name": "a"}]})
    sleeps: list[float] = []
    registry = MlflowRegistry(f"mlflow+{httpserver.url_for('/').rstrip('/')}", env=SECRETS,
                              sleep=sleeps.append)
    assert registry.list_models() == ["a", "b"]
    assert sleeps == [0.5]
    httpserver.check_assertions()


def test_persistent_5xx_and_timeouts_give_up(httpserver: HTTPServer) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(0.3)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/2.0/mlflow/registered-models/get").respond_with_data(
        "oops", status=500)
    httpserver.expect_request("/api/2.0/mlflow/registered-models/search").respond_with_handler(
        slow)
    env = {"MLFLOW_TRACKING_USERNAME": "carol", "MLFLOW_TRACKING_PASSWORD": "hunter2"}
    registry = MlflowRegistry(f"mlflow+{httpserver.url_for('/').rstrip('/')}", env=env,
                              sleep=lambda _s: None, max_attempts=2, timeout=(1.0, 0.1))
    with pytest.raises(RegistryError, match=r"HTTP 500 \(after 2 attempts\)") as info:
        registry.get_version("clf", "1")
    assert "hunter2" not in str(info.value) and "carol" not in str(info.value)
    assert len([r for r, _ in httpserver.log if r.path.endswith("registered-models/get")
                or r.path.endswith("model-versions/get")]) == 2
    with pytest.raises(RegistryError, match="timed out"):
        registry.list_models()


def test_repromote_applies_the_promotion_guards(
    registry: Registry, tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    from gatekeeper.registry.interface import PromotionRefused

    model = f"re-{uuid.uuid4().hex[:8]}"
    first = bundle_writer(tmp_path / "a", f"run-a-{uuid.uuid4().hex[:6]}", model=model)
    blocked = bundle_writer(tmp_path / "b", f"run-b-{uuid.uuid4().hex[:6]}", model=model)
    later = bundle_writer(tmp_path / "c", f"run-c-{uuid.uuid4().hex[:6]}", model=model)

    def again(path: Path, verdict: str | None = None, approval: Approval = APPROVAL,
              alias: str | None = "production") -> ModelVersion:
        loaded = load_bundle(path)
        return registry.promote(path, model=model, alias=alias, approval=approval,
                                verdict=verdict, bundle_sha256=loaded.sha256(),
                                run_id=loaded.run.run_id, tags={"round": "2"})

    v1 = again(first, verdict=None, alias=None)
    waived = Approval(approved_by="bob", approved_at="2026-11-20T11:00:00Z", waiver="ML-9")
    v2 = again(blocked, verdict="block", approval=waived, alias=None)
    v3 = promote(registry, later, model)
    registry.archive(model, v1.version)
    with pytest.raises(RegistryError, match="archived"):
        again(first, verdict="pass")
    with pytest.raises(PromotionRefused, match="verdict is block"):
        again(blocked)
    assert registry.resolve_alias(model, "production").version == v3.version
    carol = Approval(approved_by="carol", approved_at="2026-11-21T08:00:00Z", ticket="ML-11")
    with pytest.raises(RegistryError, match="verdict pass; the verdict given now is block"):
        again(later, verdict="block", approval=carol)
    moved = again(later, approval=carol)
    assert moved.version == v3.version and moved.approvals == (APPROVAL, carol)
    assert moved.verdict == "pass" and moved.tags["round"] == "2"
    assert registry.get_version(model, v2.version).approvals == (waived,)
    assert len(registry.list_versions(model)) == 3


def test_search_sees_per_example_means(
    registry: Registry, tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    import yaml

    model = f"pe-{uuid.uuid4().hex[:8]}"
    for name, rows in (("hi", "q1,1\nq2,1\nq3,0\nq4,1\n"), ("lo", "q1,0\nq2,1\n"),
                       ("broken", "q1,oops\n")):
        path = bundle_writer(tmp_path / name, f"{name}-{uuid.uuid4().hex[:6]}", model=model)
        (path / "scores.csv").write_text("id,score\n" + rows, encoding="utf-8")
        doc = yaml.safe_load((path / "run.yaml").read_text(encoding="utf-8"))
        doc["metrics"]["exact_match"] = {"per_example": "scores.csv"}
        (path / "run.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        promote(registry, path, model)
    assert [v.version for v in registry.search("metrics.exact_match >= 0.7", model=model)] == [
        "1"]
    assert [v.version for v in registry.search("metrics.exact_match < 0.7", model=model)] == [
        "2"]
    assert [v.version for v in registry.search("metrics.exact_match == null and "
                                               "metrics.accuracy > 0.9", model=model)] == ["3"]
