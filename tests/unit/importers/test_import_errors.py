"""Malformed tool output: an ImporterError naming the file and the record, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_importers import REAL, do_import

from gatekeeper.errors import EXIT_INPUT, ImporterError
from gatekeeper.importers import ImportOptions, get_importer

STAMP = "2026-07-08T16-04-34.219874"
ROOT = Path(__file__).resolve().parents[3]


def _qwen_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "qwen"
    folder.mkdir()
    for p in (REAL / "lm-eval" / "pr3936").glob(f"*{STAMP}*"):
        shutil.copy(p, folder / p.name)
    return folder


def _samples(folder: Path, task: str = "negotiationtom_belief") -> Path:
    return folder / f"samples_{task}_{STAMP}.jsonl"


def _edit_line(path: Path, lineno: int, change: Callable[[dict], object]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[lineno - 1])
    change(record)
    lines[lineno - 1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _read(tool: str, source: Path, **options: object) -> ImporterError:
    with pytest.raises(ImporterError) as info:
        get_importer(tool).read(source, ImportOptions(**options))  # type: ignore[arg-type]
    return info.value


def test_lm_eval_truncated_samples_line(tmp_path: Path) -> None:
    folder = _qwen_copy(tmp_path)
    path = _samples(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 500])  # cut inside the last record
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert err.location.file == str(path)
    assert err.location.line == 20
    assert "truncated JSON" in err.message


def test_lm_eval_truncated_results(tmp_path: Path) -> None:
    folder = _qwen_copy(tmp_path)
    results = folder / f"results_{STAMP}.json"
    results.write_bytes(results.read_bytes()[:5000])
    err = _read("lm-eval", results)
    assert err.location.file == str(results) and "truncated JSON" in err.message


def test_lm_eval_samples_file_from_another_task(tmp_path: Path) -> None:
    folder = _qwen_copy(tmp_path)
    shutil.copy(_samples(folder, "negotiationtom_desire"), _samples(folder))
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert err.location.file == str(_samples(folder))
    assert "another task" in err.message and "0.45" in err.message
    shutil.copy(_samples(folder, "negotiationtom_intention"), _samples(folder))
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert "not reported for task 'negotiationtom_belief'" in err.message
    assert err.location.line == 1


def test_lm_eval_duplicate_doc_id(tmp_path: Path) -> None:
    folder = _qwen_copy(tmp_path)
    path = _samples(folder)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    with path.open("a", encoding="utf-8") as fh:
        fh.write(first + "\n")
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert (err.location.file, err.location.line) == (str(path), 21)
    assert "duplicate doc_id 0" in err.message and "line 1" in err.message


def test_lm_eval_missing_and_mistyped_scores(tmp_path: Path) -> None:
    folder = _qwen_copy(tmp_path)
    path = _samples(folder)
    original = path.read_bytes()
    _edit_line(path, 5, lambda r: r.pop("acc"))
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert err.location.line == 5 and "missing score field 'acc'" in err.message
    path.write_bytes(original)
    _edit_line(path, 7, lambda r: r.update(acc="maybe"))
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert "line 7" in err.message and "not a number" in err.message
    path.write_bytes(original)
    _edit_line(path, 3, lambda r: r.pop("doc_id"))
    err = _read("lm-eval", folder / f"results_{STAMP}.json")
    assert err.location.line == 3 and "doc_id" in err.message


def test_lm_eval_write_out_array_errors(tmp_path: Path) -> None:
    source = tmp_path / "winogrande_write_out_info.json"
    records = json.loads((REAL / "lm-eval" / "pr1567" / "llama" / source.name).read_text())
    records[12]["doc_id"] = records[11]["doc_id"]
    source.write_text(json.dumps(records))
    err = _read("lm-eval", source, model_name="m")
    assert "record [12]" in err.message and "duplicate doc_id 11" in err.message
    source.write_text(json.dumps(records)[:-100])
    err = _read("lm-eval", source, model_name="m")
    assert err.location.file == str(source) and "truncated JSON" in err.message


def _promptfoo_copy(tmp_path: Path, change: Callable[[dict], object]) -> Path:
    data = json.loads((REAL / "promptfoo" / "run1" / "output.json").read_text())
    change(data)
    path = tmp_path / "output.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d["results"]["results"][3].pop("score"), "results.results[3].score",
     "missing score field 'score'"),
    (lambda d: d["results"]["results"][2].update(success="yes"), "results.results[2].success",
     "must be true or false"),
    (lambda d: d["results"]["results"][5].update(testIdx="five"), "results.results[5].testIdx",
     "whole number"),
    (lambda d: d["results"]["results"][1].update(latencyMs=-3), "results.results[1].latencyMs",
     "non-negative"),
])
def test_promptfoo_bad_records(tmp_path: Path, change: Callable[[dict], object], field: str,
                               words: str) -> None:
    path = _promptfoo_copy(tmp_path, change)
    err = _read("promptfoo", path)
    assert (err.location.file, err.location.field) == (str(path), field)
    assert words in err.message


def test_promptfoo_duplicate_and_truncated(tmp_path: Path) -> None:
    def duplicate(d: dict) -> None:
        results = d["results"]["results"]
        twin = next(r for r in results[1:] if r["promptIdx"] == results[0]["promptIdx"])
        twin["testIdx"] = results[0]["testIdx"]

    path = _promptfoo_copy(tmp_path, duplicate)
    err = _read("promptfoo", path)
    assert "duplicate example id" in err.message and err.location.field is not None
    path.write_text(path.read_text()[:-40])
    err = _read("promptfoo", path)
    assert "truncated JSON" in err.message and err.location.line is not None


def _rezip(source: Path, dest: Path, edit: dict[str, Callable[[dict], object]]) -> None:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename in edit:
                doc = json.loads(data)
                edit[info.filename](doc)
                data = json.dumps(doc).encode()
            out.writestr(info.filename, data)


def test_inspect_bad_sample_in_eval_zip(tmp_path: Path) -> None:
    source = sorted((REAL / "inspect_ai" / "pr2488-set").glob("*.eval"))[0]
    bad = tmp_path / "bad.eval"
    _rezip(source, bad, {"samples/7_epoch_1.json":
                         lambda s: s["scores"]["match"].update(value="maybe")})
    err = _read("inspect", bad)
    assert (err.location.file, err.location.field) == (str(bad), "samples/7_epoch_1.json")
    assert "sample 7" in err.message and "'maybe'" in err.message
    _rezip(source, bad, {"samples/7_epoch_1.json": lambda s: s.pop("scores")})
    err = _read("inspect", bad)
    assert "missing score field" in err.message and err.location.field == "samples/7_epoch_1.json"
    bad.write_bytes(source.read_bytes()[:20000])
    err = _read("inspect", bad)
    assert err.location.file == str(bad) and ".eval" in err.message


def test_inspect_duplicate_sample_in_json_log(tmp_path: Path) -> None:
    log = json.loads((REAL / "inspect_ai" / "main" /
                      "2025-05-12T20-28-13-04-00_popularity.json").read_text())
    log["samples"].append(log["samples"][0])
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log))
    err = _read("inspect", path)
    assert err.location.field == "samples[3]" and "duplicate sample id 1" in err.message


def test_mlflow_bad_metric_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(REAL / "mlflow" / "mlruns" / "0" / "4709c8402d5e436b8ce9a601f44516a5", run)
    (run / "metrics" / "rmse").write_text("1 0.5 0\n2 oops 1\n")
    err = _read("mlflow", run)
    assert (err.location.file, err.location.line) == (str(run / "metrics" / "rmse"), 2)


def test_out_is_never_overwritten_without_force(tmp_path: Path) -> None:
    source = REAL / "promptfoo" / "run1"
    out = tmp_path / "b"
    do_import("promptfoo", source, out)
    with pytest.raises(ImporterError, match="--force"):
        do_import("promptfoo", source, out)
    do_import("promptfoo", source, out, force=True, model_name="echo-2")
    assert "model: echo-2" in (out / "run.yaml").read_text()
    stranger = tmp_path / "home"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    with pytest.raises(ImporterError, match="holds no run bundle"):
        do_import("promptfoo", source, stranger, force=True)
    assert (stranger / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "home"]  # no temp leftovers


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatekeeper", "import", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_malformed_input_exits_2_with_one_line(tmp_path: Path) -> None:
    folder = _qwen_copy(tmp_path)
    path = _samples(folder)
    path.write_bytes(path.read_bytes()[:-700])
    out = tmp_path / "bundle"
    proc = _cli("lm-eval", str(folder / f"results_{STAMP}.json"), "--out", str(out))
    assert proc.returncode == EXIT_INPUT
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert f"{path}:20" in lines[0] and "truncated JSON" in lines[0]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qwen"]


def test_cli_imports_and_reports_notes(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    proc = _cli("lm-eval", str(REAL / "lm-eval" / "pr3936" / f"results_{STAMP}.json"),
                "--out", str(out), "--task", "negotiationtom_intention")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    assert "micro_f1: per-sample values are not numbers" in proc.stderr
    proc = _cli("promptfoo", str(REAL / "promptfoo" / "run2"), "--out", str(tmp_path / "p"))
    assert proc.returncode == EXIT_INPUT
    assert proc.stderr.count("\n") == 1 and "--provider" in proc.stderr
