"""promptfoo: outputs written by the real CLI import with scores, traces and usage totals."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from helpers_importers import REAL, do_import, scores, traces, tree_bytes

from gatekeeper.errors import ImporterError
from gatekeeper.importers import ImportOptions, get_importer

PF = REAL / "promptfoo"


def test_run1_two_prompts_six_pass_two_fail(tmp_path: Path) -> None:
    bundle = do_import("promptfoo", PF / "run1", tmp_path / "b")
    success = scores(bundle, "success")
    assert len(success) == 8
    assert sum(success.values()) == 6
    # Two prompts for one provider: ids carry the prompt's config id.
    assert sorted(success) == sorted(f"reply-v{p}/test-{t}" for p in (1, 2) for t in range(4))
    run = bundle.run
    assert run.model == "echo"
    assert run.llm is not None and run.llm.usage is not None
    assert (run.llm.usage.requests, run.llm.usage.successes) == (8, 6)
    prompts = {p.id: p for p in run.llm.prompts}
    raw = "Customer asks: {{question}}. Answer briefly."
    assert prompts["reply-v1"].sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert run.source is not None and run.source.version == "0.123.1"


def test_run2_needs_a_provider_choice() -> None:
    with pytest.raises(ImporterError, match="--provider") as info:
        get_importer("promptfoo").read(PF / "run2", ImportOptions())
    assert "support-model-v12" in str(info.value) and "support-model-v13" in str(info.value)
    with pytest.raises(ImporterError, match="available: support-model-v12, support-model-v13"):
        get_importer("promptfoo").read(PF / "run2", ImportOptions(provider="nope"))


@pytest.mark.parametrize("label", ["support-model-v12", "support-model-v13"])
def test_run2_totals_equal_the_files_own(tmp_path: Path, label: str) -> None:
    data = json.loads((PF / "run2" / "output.json").read_text())
    own = next(p for p in data["results"]["prompts"] if p["provider"] == label)["metrics"]
    bundle = do_import("promptfoo", PF / "run2", tmp_path / label, provider=label)
    run = bundle.run
    assert run.model == label
    usage = run.llm.usage if run.llm else None
    assert usage is not None
    assert usage.requests == 40
    assert usage.successes == own["testPassCount"]
    assert usage.input_tokens == own["tokenUsage"]["prompt"]
    assert usage.output_tokens == own["tokenUsage"]["completion"]
    assert usage.cost_usd == pytest.approx(own["cost"], rel=1e-12)
    rows = traces(bundle)
    assert len(rows) == 40
    assert sum(r["latency_ms"] for r in rows) == own["totalLatencyMs"]
    assert sum(r["input_tokens"] for r in rows) == own["tokenUsage"]["prompt"]
    assert math.fsum(r["cost_usd"] for r in rows) == pytest.approx(own["cost"], rel=1e-12)
    assert {r["id"] for r in rows} == {f"test-{i}" for i in range(40)}
    assert set(scores(bundle, "score")) == set(scores(bundle, "success"))
    assert sum(scores(bundle, "success").values()) == own["testPassCount"]
    assert run.metrics["latency_ms"].samples == "traces/requests.jsonl"


def test_run2_providers_share_example_ids(tmp_path: Path) -> None:
    v12 = do_import("promptfoo", PF / "run2", tmp_path / "a", provider="support-model-v12")
    v13 = do_import("promptfoo", PF / "run2", tmp_path / "b", provider="support-model-v13")
    assert set(scores(v12, "score")) == set(scores(v13, "score"))
    assert v12.run.llm is not None and v13.run.llm is not None
    assert v12.run.llm.prompts == v13.run.llm.prompts  # same prompt: only the model changed


def test_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        do_import("promptfoo", PF / "run2", tmp_path / name, provider="support-model-v13")
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


GRADER = "openai:chat:gpt-4o-2024-08-06"


def _with_rubric(tmp_path: Path, provider: object = None, default: object = None,
                 first_provider: object = None) -> Path:
    """run1's real output with an llm-rubric added to every test, as promptfoo records it:
    in the test case's ``assert`` list and in the grading result's components."""
    data = json.loads((PF / "run1" / "output.json").read_text(encoding="utf-8"))
    if default is not None:
        data["config"]["defaultTest"] = {"options": {"provider": default}}
    for n, rec in enumerate(data["results"]["results"]):
        rubric: dict[str, object] = {"type": "llm-rubric", "value": "answers the question"}
        given = first_provider if n == 0 and first_provider is not None else provider
        if given is not None:
            rubric["provider"] = given
        rec["testCase"]["assert"].append(rubric)
        rec["gradingResult"]["componentResults"].append(
            {"pass": True, "score": 1, "reason": "ok", "assertion": rubric})
    out = tmp_path / "graded"
    out.mkdir(parents=True)
    (out / "output.json").write_text(json.dumps(data), encoding="utf-8")
    return out


def test_deterministic_assertions_record_no_judge(tmp_path: Path) -> None:
    bundle = do_import("promptfoo", PF / "run1", tmp_path / "b")
    assert bundle.run.llm is not None and bundle.run.llm.judge is None


def test_the_default_grader_of_the_config_is_the_judge(tmp_path: Path) -> None:
    source = _with_rubric(tmp_path, default={"id": GRADER, "config": {"temperature": 0}})
    run = do_import("promptfoo", source, tmp_path / "b").run
    assert run.llm is not None and run.llm.judge is not None
    judge = run.llm.judge
    assert (judge.model, judge.temperature) == (GRADER, 0.0)
    assert (judge.library, judge.library_version) == ("promptfoo", "0.123.1")


def test_the_assertions_provider_overrides_the_default(tmp_path: Path) -> None:
    source = _with_rubric(tmp_path, provider=GRADER, default="openai:gpt-4o-mini")
    run = do_import("promptfoo", source, tmp_path / "b").run
    assert run.llm is not None and run.llm.judge is not None
    assert run.llm.judge.model == GRADER and run.llm.judge.temperature is None


def test_an_unnamed_or_mixed_grader_is_not_guessed(tmp_path: Path) -> None:
    [draft] = get_importer("promptfoo").read(_with_rubric(tmp_path), ImportOptions())
    assert "judge" not in draft.run["llm"]
    assert any("promptfoo's default grader" in n for n in draft.notes)
    mixed = _with_rubric(tmp_path / "m", provider=GRADER, first_provider="anthropic:claude-x")
    [draft] = get_importer("promptfoo").read(mixed, ImportOptions())
    assert "judge" not in draft.run["llm"]
    assert any("several graders (anthropic:claude-x, " in n for n in draft.notes)
