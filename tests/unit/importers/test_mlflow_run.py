"""MLflow FileStore: the real mlruns/0 experiment imports run by run."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_importers import REAL, do_import, tree_bytes

from gatekeeper.errors import ImporterError
from gatekeeper.importers import ImportOptions, get_importer

EXPERIMENT = REAL / "mlflow" / "mlruns" / "0"
RUNS = sorted(p for p in EXPERIMENT.iterdir() if p.is_dir())


def test_seven_runs_one_differs(tmp_path: Path) -> None:
    assert len(RUNS) == 7
    bundles = [do_import("mlflow", r, tmp_path / r.name) for r in RUNS]
    alphas = sorted(b.run.params["alpha"] for b in bundles)
    assert alphas == ["0.1"] + ["0.5"] * 6  # MLflow params are text; kept as recorded
    odd = next(b for b in bundles if b.run.params["alpha"] == "0.1")
    assert round(odd.run.metrics["rmse"].value or 0, 4) == 0.7318
    others = {round(b.run.metrics["rmse"].value or 0, 4) for b in bundles if b is not odd}
    assert others == {0.7932}
    assert {b.run.tags["mlflow.run_id"] for b in bundles} == {r.name for r in RUNS}
    assert len({b.run.run_id for b in bundles}) == 7


def test_envelope_from_mlflow_tags(tmp_path: Path) -> None:
    run_dir = EXPERIMENT / "4709c8402d5e436b8ce9a601f44516a5"
    run = do_import("mlflow", run_dir, tmp_path / "b", model_name="wine-quality").run
    assert run.model == "wine-quality"
    assert run.code is not None
    assert run.code.commit == "459611c9cc7cebc5b13599c9a768da3cc1cff17d"
    assert run.name == "gregarious-roo-26"
    assert run.tags["mlflow.status"] == "RUNNING"
    assert run.seeds is None and run.environment is None  # not recorded by the FileStore
    assert run.created_at is not None and run.created_at.year == 2025
    assert set(run.metrics) == {"mae", "r2", "rmse"}


def test_series_for_a_metric_logged_at_several_steps(tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "mlruns" / "0" / "r1"
    shutil.copytree(EXPERIMENT / "4709c8402d5e436b8ce9a601f44516a5", run_dir)
    shutil.copy(EXPERIMENT / "meta.yaml", run_dir.parent / "meta.yaml")
    (run_dir / "metrics" / "loss").write_text("1000 0.9 0\n1001 0.5 1\n1002 0.4 2\n")
    (run_dir / "artifacts").mkdir()
    (run_dir / "artifacts" / "model.pkl").write_bytes(b"weights")
    bundle = do_import("mlflow", run_dir, tmp_path / "b")
    assert bundle.run.model == "Default"  # the experiment's name when none is given
    assert bundle.run.metrics["loss"].value == 0.4
    series = bundle.run.metrics["loss/series"]
    assert series.series == "series/loss.csv"
    assert bundle.resolve("series/loss.csv").read_text().splitlines() == [
        "step,timestamp,value", "0,1000,0.9", "1,1001,0.5", "2,1002,0.4"]
    statuses = bundle.verify_artifacts()
    assert [s.path for s in statuses] == ["artifacts/model.pkl"] and statuses[0].ok


@pytest.mark.parametrize(("history", "expected"), [
    # several values at one step: the latest by timestamp is the step's point
    ("1000 0.9 0\n1001 0.7 0\n1002 0.5 1\n", ["0,1001,0.7", "1,1002,0.5"]),
    # logged without steps (all at step 0): the order of logging numbers the points
    ("1002 0.4 0\n1000 0.9 0\n1001 0.5 0\n", ["0,1000,0.9", "1,1001,0.5", "2,1002,0.4"]),
])
def test_a_series_has_one_point_per_step_so_the_gate_accepts_it(
        tmp_path: Path, history: str, expected: list[str]) -> None:
    import shutil

    run_dir = tmp_path / "mlruns" / "0" / "r1"
    shutil.copytree(EXPERIMENT / "4709c8402d5e436b8ce9a601f44516a5", run_dir)
    shutil.copy(EXPERIMENT / "meta.yaml", run_dir.parent / "meta.yaml")
    (run_dir / "metrics" / "loss").write_text(history)
    bundle = do_import("mlflow", run_dir, tmp_path / "b")  # reads the bundle back: it loads
    assert bundle.resolve("series/loss.csv").read_text().splitlines() == [
        "step,timestamp,value", *expected]
    assert bundle.run.metrics["loss"].value == float(expected[-1].rsplit(",", 1)[1])


def test_experiment_folder_lists_its_runs() -> None:
    with pytest.raises(ImporterError, match="runs here: ") as info:
        get_importer("mlflow").read(EXPERIMENT, ImportOptions())
    assert RUNS[0].name in str(info.value)


def test_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        do_import("mlflow", RUNS[0], tmp_path / name)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
