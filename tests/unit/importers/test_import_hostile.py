"""Hostile tool output: refused with an ImporterError naming the file, never written as a bundle
the gate would refuse, never blocking on a FIFO."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers_importers import REAL, do_import

from gatekeeper.errors import ImporterError
from gatekeeper.importers import ImportOptions, get_importer
from gatekeeper.inputs.scores import load_metric

STAMP = "2026-07-08T16-04-34.219874"
EVAL_SET = REAL / "inspect_ai" / "pr2488-set"


def _qwen(tmp_path: Path) -> Path:
    folder = tmp_path / "qwen"
    folder.mkdir()
    for p in (REAL / "lm-eval" / "pr3936").glob(f"*{STAMP}*"):
        shutil.copy(p, folder / p.name)
    return folder / f"results_{STAMP}.json"


def _edit_first_sample(results: Path, key: str, value: object) -> None:
    samples = results.parent / f"samples_negotiationtom_belief_{STAMP}.jsonl"
    lines = samples.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record[key] = value
    lines[0] = json.dumps(record)
    samples.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_id_the_gate_would_refuse_fails_the_import(tmp_path: Path) -> None:
    results = _qwen(tmp_path)
    _edit_first_sample(results, "doc_id", "q\x1b[2J")
    with pytest.raises(ImporterError) as err:
        do_import("lm-eval", results, tmp_path / "out")
    assert "would be refused by the gate" in err.value.message
    assert "U+001B" in err.value.message
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize("value", [{"a": 1}, [1], True, 1.5], ids=["mapping", "list", "bool",
                                                                  "float"])
def test_no_name_as_an_id(tmp_path: Path, value: object) -> None:
    results = _qwen(tmp_path)
    _edit_first_sample(results, "doc_id", value)
    with pytest.raises(ImporterError, match="doc_id must be an integer or text"):
        do_import("lm-eval", results, tmp_path / "out")


@pytest.mark.parametrize("configs", [[1, 2], "text", 7, {"negotiationtom_belief": [1]}])
def test_a_results_file_with_sections_of_the_wrong_shape(tmp_path: Path,
                                                         configs: object) -> None:
    results = _qwen(tmp_path)
    data = json.loads(results.read_text())
    data["configs"] = configs
    data["versions"] = "1.0"
    data["group_subtasks"] = ["x"]
    results.write_text(json.dumps(data))
    bundle = do_import("lm-eval", results, tmp_path / "out")  # the sections are only context
    assert bundle.run.metrics


def test_a_fifo_as_the_tools_output_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "output.json")
    with pytest.raises(ImporterError, match="not a regular file"):
        get_importer("promptfoo").read(tmp_path, ImportOptions())
    os.mkfifo(tmp_path / "x.json")  # lm-eval peeks into *.json files to find results
    with pytest.raises(ImporterError, match="no lm-eval results"):
        get_importer("lm-eval").read(tmp_path, ImportOptions())


def test_damaged_deflate_data_in_an_eval_log(tmp_path: Path) -> None:
    source = next(EVAL_SET.glob("*.eval"))
    log = tmp_path / source.name
    raw = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("samples/"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 4
    raw[start:start + 16] = bytes(16)
    log.write_bytes(bytes(raw))
    with pytest.raises(ImporterError, match="cannot read samples/"):
        get_importer("inspect").read(log, ImportOptions())


def test_an_mlflow_start_time_no_calendar_holds(tmp_path: Path) -> None:
    run = tmp_path / "0" / "4709c8402d5e436b8ce9a601f44516a5"
    shutil.copytree(REAL / "mlflow" / "mlruns" / "0" / run.name, run)
    meta = run / "meta.yaml"
    text = meta.read_text()
    start = next(line for line in text.splitlines() if line.startswith("start_time:"))
    meta.write_text(text.replace(start, "start_time: 9223372036854775807"))
    bundle = do_import("mlflow", run, tmp_path / "out")
    assert bundle.run.created_at is None


def test_an_mlflow_series_loads_back(tmp_path: Path) -> None:
    """A metric logged at several steps: its series file (step,timestamp,value) is one the
    gate reads."""
    run = tmp_path / "0" / "r1"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: r1\nexperiment_id: '0'\nstatus: 3\n")
    (run / "metrics" / "loss").write_text("1700000000000 0.9 0\n1700000001000 0.5 1\n")
    bundle = do_import("mlflow", run, tmp_path / "out", model_name="m")
    series = load_metric(bundle, "loss/series")
    assert list(series.values) == [0.9, 0.5]
