"""Inspect AI: the real eval-set (.eval ZIPs) and a JSON log import with per-sample scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_importers import REAL, do_import, scores, traces, tree_bytes

from gatekeeper.errors import ImporterError
from gatekeeper.importers import ImportOptions, get_importer
from gatekeeper.inputs.bundle import load_bundle

SET = REAL / "inspect_ai" / "pr2488-set"
JSON_LOG = REAL / "inspect_ai" / "main" / "2025-05-12T20-28-13-04-00_popularity.json"
EXPECTED = {
    "openai/gpt-5": 0.52,
    "anthropic/claude-sonnet-4-20250514": 0.57,
    "google/gemini-2.5-pro": 0.66,
}


def test_eval_set_to_one_bundle_per_model(tmp_path: Path) -> None:
    out = get_importer("inspect").import_(SET, tmp_path / "{model}", options=ImportOptions())
    assert out == tmp_path
    folders = sorted(p for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert [p.name for p in folders] == [
        "anthropic_claude-sonnet-4-20250514", "google_gemini-2.5-pro", "openai_gpt-5"]
    ids = None
    for folder in folders:
        bundle = load_bundle(folder)
        match = scores(bundle, "match")
        assert len(match) == 100
        ids = ids or set(match)
        assert set(match) == ids  # paired: the same 100 sample ids for every model
        assert sum(match.values()) / 100 == pytest.approx(EXPECTED[bundle.run.model])
        assert bundle.run.metrics["match/accuracy"].value == pytest.approx(
            EXPECTED[bundle.run.model])
        assert len(traces(bundle)) == 100
    assert ids == {str(i) for i in range(1, 101)}


def test_choose_one_model(tmp_path: Path) -> None:
    bundle = do_import("inspect", SET, tmp_path / "b", model="gemini-2.5-pro")
    run = bundle.run
    assert run.model == "google/gemini-2.5-pro"
    assert run.code is not None and run.code.commit == "02fdf720f"
    assert run.environment is not None and run.environment.packages is not None
    assert run.environment.packages["inspect_ai"].startswith("0.3.128")
    assert run.params["epochs"] == 1
    assert run.seeds is None  # no seed in the generate config: left missing
    assert run.llm is not None and run.llm.model is not None
    assert (run.llm.model.provider, run.llm.model.name) == ("google", "gemini-2.5-pro")
    assert run.llm.usage is not None and run.llm.usage.input_tokens == 5249
    assert [d.name for d in run.data] == ["popularity"] and run.data[0].sha256 is None


def test_several_logs_without_a_choice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImporterError, match=r"\{model\}"):
        get_importer("inspect").import_(SET, tmp_path / "b", options=ImportOptions())
    assert not (tmp_path / "b").exists()
    with pytest.raises(ImporterError, match="available: anthropic/claude"):
        get_importer("inspect").read(SET, ImportOptions(model="nobody"))


def test_json_log(tmp_path: Path) -> None:
    bundle = do_import("inspect", JSON_LOG, tmp_path / "b")
    match = scores(bundle, "match")
    assert match == {"1": 1.0, "2": 1.0, "3": 0.0}
    assert bundle.run.tags["inspect.status"] == "cancelled"
    assert bundle.run.llm is not None and bundle.run.llm.model is not None
    assert bundle.run.llm.model.revision == "gpt-4o-mini-2024-07-18"


def test_epochs_are_averaged_per_sample(tmp_path: Path) -> None:
    import json

    log = json.loads(JSON_LOG.read_text())
    extra = []
    for sample in log["samples"]:
        again = json.loads(json.dumps(sample))
        again["epoch"] = 2
        again["scores"]["match"]["value"] = "C" if sample["id"] == 3 else "P"
        extra.append(again)
    log["samples"] += extra
    source = tmp_path / "two-epochs.json"
    source.write_text(json.dumps(log))
    bundle = do_import("inspect", source, tmp_path / "b")
    assert scores(bundle, "match") == {"1": 0.75, "2": 0.75, "3": 0.5}
    assert bundle.run.params["epochs"] == 2
    assert len(traces(bundle)) == 6


def test_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        do_import("inspect", SET, tmp_path / name, model="openai/gpt-5")
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def _graded_log(tmp_path: Path, params: dict[str, object]) -> Path:
    """The real JSON log, its scorer recorded as a model-graded one with these arguments."""
    import json

    log = json.loads(JSON_LOG.read_text())
    for sample in log["samples"]:
        sample["scores"]["model_graded_qa"] = sample["scores"].pop("match")
    [score] = log["results"]["scores"]
    score.update(name="model_graded_qa", scorer="model_graded_qa", params=params)
    source = tmp_path / "graded.json"
    source.write_text(json.dumps(log))
    return source


def test_a_model_graded_scorer_records_its_grader(tmp_path: Path) -> None:
    import hashlib

    template = "Grade the answer {answer} to {question}."
    source = _graded_log(tmp_path, {"model": "openai/gpt-4o-2024-08-06", "template": template})
    run = do_import("inspect", source, tmp_path / "b").run
    for metric in ("model_graded_qa", "model_graded_qa/accuracy"):
        judge = run.metrics[metric].judge
        assert judge is not None and judge.model == "openai/gpt-4o-2024-08-06"
        assert judge.prompt_sha256 == hashlib.sha256(template.encode()).hexdigest()
        assert judge.library == "inspect_ai" and judge.library_version is not None


def test_a_scorer_without_a_recorded_grader_has_no_judge(tmp_path: Path) -> None:
    run = do_import("inspect", _graded_log(tmp_path, {}), tmp_path / "b").run
    assert run.metrics["model_graded_qa"].judge is None
    assert "judge" not in run.metrics["model_graded_qa"].model_fields_set
    plain = do_import("inspect", JSON_LOG, tmp_path / "c").run  # `match`: no judge either
    assert plain.metrics["match"].judge is None
