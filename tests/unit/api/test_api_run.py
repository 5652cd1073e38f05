"""gatekeeper.Run: each log_* call's shape in the written bundle, which loads as the gate
reads it; failures, credentials and the environment variables it honours."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import gatekeeper
from gatekeeper.errors import InputError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric
from gatekeeper.inputs.traces import read_traces

TOKEN = "sk-proj-" + "Abc123XyZ789" * 4


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GATEKEEPER_BUNDLE_DIR", "GATEKEEPER_SEEDS", "GATEKEEPER_COMMAND"):
        monkeypatch.delenv(name, raising=False)


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_every_log_call_lands_in_a_bundle_the_gate_loads(tmp_path: Path) -> None:
    Path("model.safetensors").write_bytes(b"weights" * 1000)
    Path("eval.parquet").write_bytes(b"rows")
    with gatekeeper.Run("out/bundle", model="sentiment-clf", params={"lr": 0.1},
                        seeds=[0, 1, 2], tags={"team": "nlp"}) as run:
        for seed in run.seeds:
            run.log_metric("accuracy", 0.9 + seed / 100, seed=seed)
        run.log_metric("f1", np.float64(0.8))
        run.log_scores("exact_match", np.array(["a", "b", "c"]), np.array([1, 0, 1]))
        for step in range(3):
            run.log_series("loss", step, 1.0 / (step + 1))
        run.log_artifact("model.safetensors", kind="model")
        run.log_trace({"latency_ms": 41.2, "input_tokens": 812, "cost_usd": 0.0004})
        run.log_data("eval", uri="s3://bucket/eval.parquet", path="eval.parquet")
    bundle = load_bundle(Path("out/bundle"))
    r = bundle.run
    assert r.status == "complete" and r.model == "sentiment-clf" and r.seeds == [0, 1, 2]
    assert r.metrics["accuracy"].replicates == [0.9, 0.91, 0.92]
    assert r.metrics["f1"].value == 0.8
    em = load_metric(bundle, "exact_match")
    assert em.ids is not None and em.ids.tolist() == ["a", "b", "c"]
    assert em.values.tolist() == [1.0, 0.0, 1.0]
    assert load_metric(bundle, "loss").values.tolist() == [1.0, 0.5, 1.0 / 3]
    (art,) = r.artifacts
    assert art.path == "artifacts/model.safetensors" and art.kind == "model"
    assert art.sha256 == hashlib.sha256(b"weights" * 1000).hexdigest() and art.size == 7000
    assert all(status.ok for status in bundle.verify_artifacts())
    assert read_traces(bundle).fields["latency_ms"].tolist() == [41.2]
    assert r.data[0].sha256 == hashlib.sha256(b"rows").hexdigest()
    assert r.environment is not None and r.environment.python is not None
    assert r.tags == {"team": "nlp"}


def test_the_same_run_gives_the_same_bytes(tmp_path: Path) -> None:
    for out in ("a", "b"):
        with gatekeeper.Run(out, model="m", seeds=[0, 1], command=["python", "t.py"]) as run:
            run.log_metric("acc", 0.5, seed=0)
            run.log_metric("acc", 0.6, seed=1)
    assert Path("a/run.yaml").read_bytes() == Path("b/run.yaml").read_bytes()


def test_large_score_sets_go_to_npz(tmp_path: Path) -> None:
    n = 100_001
    with gatekeeper.Run("out", model="m") as run:
        run.log_scores("em", np.arange(n), np.ones(n))
    bundle = load_bundle(Path("out"))
    assert bundle.run.metrics["em"].per_example == "scores/em.npz"
    assert load_metric(bundle, "em").values.size == n


def test_the_bundle_dir_variable_overrides_the_folder(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKEEPER_BUNDLE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GATEKEEPER_SEEDS", "[7, 8]")
    monkeypatch.setenv("GATEKEEPER_COMMAND", json.dumps(["python", "train.py"]))
    with gatekeeper.Run("ignored", model="m", seeds=[0]) as run:
        assert run.seeds == [7, 8]
        for s in run.seeds:
            run.log_metric("acc", 0.5, seed=s)
    assert not Path("ignored").exists()
    r = load_bundle(tmp_path / "elsewhere").run
    assert r.seeds == [7, 8] and r.command == ["python", "train.py"]


def test_a_crash_writes_a_failed_bundle_and_propagates(tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError), gatekeeper.Run("out", model="m", seeds=[0, 1]) as run:
        run.log_metric("acc", 0.5, seed=0)
        _ = 1 / 0
    r = load_bundle(Path("out")).run
    assert r.status == "failed"
    assert r.failure == "ZeroDivisionError: division by zero"


def test_a_crash_whose_message_holds_a_secret_records_only_its_type(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), gatekeeper.Run("out", model="m"):
        raise RuntimeError(f"401 for key {TOKEN}")
    assert load_bundle(Path("out")).run.failure == "RuntimeError"
    assert TOKEN.encode() not in _all_bytes(tmp_path)


def test_a_crash_with_invalid_evidence_still_writes_a_failed_bundle(tmp_path: Path) -> None:
    with pytest.raises(KeyError), gatekeeper.Run("out", model="m") as run:
        run.log_metric("acc", 1.5, range=(0, 1))  # outside its range: not a valid bundle
        raise KeyError("x")
    r = load_bundle(Path("out")).run
    assert r.status == "failed" and r.metrics == {}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"params": {"openai": {"key": TOKEN}}}, "params.openai.key"),
    ({"tags": {"owner": TOKEN}}, "tags.owner"),
    ({"params": {"keys": ["ok", TOKEN]}}, "params.keys[1]"),
    ({"command": ["python", "t.py", "--key", TOKEN]}, "command[3]"),
])
def test_a_credential_is_refused_naming_the_field(tmp_path: Path, kwargs: dict[str, object],
                                                  field: str) -> None:
    with pytest.raises(InputError) as info, \
            gatekeeper.Run("out", model="m", **kwargs):  # type: ignore[arg-type]
        pass
    assert info.value.location.field == field
    assert TOKEN not in str(info.value)
    assert TOKEN.encode() not in _all_bytes(tmp_path)
    assert not Path("out").exists()


def test_a_credential_in_a_trace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info, gatekeeper.Run("out", model="m") as run:
        run.log_trace({"latency_ms": 3, "headers": {"auth": TOKEN}})
    assert info.value.location.field == "traces[0].headers.auth"
    assert TOKEN.encode() not in _all_bytes(tmp_path)


def test_a_missing_seed_is_an_error_naming_the_metric(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info, \
            gatekeeper.Run("out", model="m", seeds=[0, 1, 2]) as run:
        run.log_metric("acc", 0.5, seed=0)
        run.log_metric("acc", 0.6, seed=2)
    assert "seed(s) 1" in str(info.value) and info.value.location.field == "metrics.acc"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, "0.9"])
def test_a_value_that_is_no_number_is_refused(tmp_path: Path, bad: object) -> None:
    with gatekeeper.Run("out", model="m") as run, pytest.raises(InputError):
        run.log_metric("acc", bad)  # type: ignore[arg-type]


def test_one_name_in_two_shapes_is_refused(tmp_path: Path) -> None:
    with gatekeeper.Run("out", model="m") as run:
        run.log_metric("acc", 0.5)
        with pytest.raises(InputError, match="two different shapes"):
            run.log_metric("acc", 0.5, seed=1)
        with pytest.raises(InputError, match="two different shapes"):
            run.log_series("acc", 0, 1.0)


def test_scores_and_ids_of_different_lengths(tmp_path: Path) -> None:
    with gatekeeper.Run("out", model="m") as run, pytest.raises(InputError, match="2 ids"):
        run.log_scores("em", ["a", "b"], [1.0])


def test_a_missing_artifact_is_refused_when_logged(tmp_path: Path) -> None:
    with gatekeeper.Run("out", model="m") as run, pytest.raises(InputError, match="not a file"):
        run.log_artifact("nope.bin")


def test_a_stranger_folder_is_never_replaced(tmp_path: Path) -> None:
    Path("out").mkdir()
    Path("out/thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="holds no run bundle"), \
            gatekeeper.Run("out", model="m") as run:
        run.log_metric("acc", 0.5)
    assert Path("out/thesis.tex").read_text() == "years of work"


def test_a_previous_bundle_is_replaced(tmp_path: Path) -> None:
    for value in (0.5, 0.7):
        with gatekeeper.Run("out", model="m") as run:
            run.log_metric("acc", value)
    assert load_bundle(Path("out")).run.metrics["acc"].value == 0.7


def test_no_folder_at_all(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="GATEKEEPER_BUNDLE_DIR"):
        gatekeeper.Run(model="m")


def test_close_without_a_with_block(tmp_path: Path) -> None:
    run = gatekeeper.Run("out", model="m")
    run.log_metric("acc", 0.5)
    assert run.close() == Path("out")
    assert yaml.safe_load(Path("out/run.yaml").read_text())["status"] == "complete"


def test_a_step_logged_twice_keeps_its_latest_value(tmp_path: Path) -> None:
    with gatekeeper.Run("out", model="m") as run:
        run.log_series("loss", [2, 0, 1], [0.2, 0.9, 0.5])
        run.log_series("loss", 1, 0.4)
    assert load_metric(load_bundle(Path("out")), "loss").values.tolist() == [0.9, 0.4, 0.2]
