"""lm-evaluation-harness: the real v0.3 write_out, 0.4.0 and 0.4.13 outputs import as bundles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers_importers import REAL, do_import, scores, tree_bytes

from gatekeeper.importers import ImportOptions, get_importer

LM = REAL / "lm-eval"
QWEN_RUNS = ("2026-07-08T16-04-34.219874", "2026-07-08T18-15-33.115417")


def _qwen(stamp: str) -> Path:
    return LM / "pr3936" / f"results_{stamp}.json"


def test_winogrande_pair_v03_write_out(tmp_path: Path) -> None:
    llama = do_import("lm-eval", LM / "pr1567" / "llama", tmp_path / "llama",
                      model_name="Llama-2-7b")
    mistral = do_import("lm-eval", LM / "pr1567" / "mistral", tmp_path / "mistral",
                        model_name="Mistral-7B-v0.1")
    a = scores(llama, "winogrande/acc")
    b = scores(mistral, "winogrande/acc")
    assert len(a) == len(b) == 1267
    assert set(a) == set(b)
    assert set(a.values()) == {0.0, 1.0}  # "True"/"False" strings became numbers
    assert round(sum(a.values()) / len(a), 3) == 0.738
    assert round(sum(b.values()) / len(b), 3) == 0.781
    assert llama.run.model == "Llama-2-7b"
    assert llama.run.source is not None and llama.run.source.tool == "lm-evaluation-harness"
    # v0.3 write_out records no environment, code or data hash: it must stay missing.
    assert llama.run.code is None
    assert llama.run.environment is None
    assert llama.run.seeds is None
    assert [d.sha256 for d in llama.run.data] == [None]
    assert llama.run.data[0].rows == 1267
    assert llama.run.metrics["winogrande/acc"].per_example == "scores/winogrande.acc.csv"


def test_v03_write_out_needs_a_model_name(tmp_path: Path) -> None:
    from gatekeeper.errors import ImporterError

    with pytest.raises(ImporterError, match="--model-name"):
        get_importer("lm-eval").read(LM / "pr1567" / "llama", ImportOptions())


def test_negotiationtom_two_runs_are_identical_per_sample(tmp_path: Path) -> None:
    first, second = (do_import("lm-eval", _qwen(s), tmp_path / s) for s in QWEN_RUNS)
    for task in ("negotiationtom_belief", "negotiationtom_desire"):
        a, b = scores(first, f"{task}/acc"), scores(second, f"{task}/acc")
        assert len(a) == 20
        assert a == b
    assert scores(first, "negotiationtom_intention/exact_match") == \
        scores(second, "negotiationtom_intention/exact_match")
    # The reported numbers survive: per-example means equal the results file's aggregates.
    belief = scores(first, "negotiationtom_belief/acc")
    assert sum(belief.values()) / 20 == pytest.approx(0.45)
    assert first.run.metrics["negotiationtom/acc"].value == pytest.approx(0.525)
    # micro_f1 per sample is a [gold, pred] pair: only the reported aggregate is kept.
    micro = first.run.metrics["negotiationtom_intention/micro_f1"]
    assert micro.per_example is None
    assert micro.value == pytest.approx(0.30188679245283023)
    assert first.run.run_id != second.run.run_id


def test_negotiationtom_envelope_has_what_the_tool_recorded(tmp_path: Path) -> None:
    run = do_import("lm-eval", _qwen(QWEN_RUNS[0]), tmp_path / "b").run
    assert run.model == "Qwen/Qwen3-8B"
    assert run.code is not None and run.code.commit == "eb02ba327fb7c76475b12c8cdcf88623ec013a24"
    assert run.seeds == [0]
    assert run.params["seeds"] == {"random_seed": 0, "numpy_seed": 1234, "torch_seed": 1234,
                                   "fewshot_seed": 1234}
    assert run.params["model_args"] == {"pretrained": "Qwen/Qwen3-8B", "dtype": "bfloat16",
                                        "enable_thinking": False}
    env = run.environment
    assert env is not None and env.packages is not None
    assert env.packages["transformers"] == "5.12.1"
    assert env.packages["lm_eval"] == "0.4.13.dev0"
    assert env.python == "3.13.13"
    assert env.hardware is not None and env.hardware.accelerator == "NVIDIA H100 80GB HBM3"
    hashes = {d.name: d.sha256 for d in run.data}
    assert hashes["negotiationtom_belief"] == \
        "c39025f3a090ab57d9914278941c54ab264f588f4047b4dbdf089b26f2b6dbd5"
    assert run.created_at is not None and run.created_at.year == 2026
    assert run.llm is not None and run.llm.model is not None
    assert run.llm.model.revision == "b968826d9c46dd6066d109eabc6255188de91218"


def test_folder_with_two_runs_asks_for_one(tmp_path: Path) -> None:
    from gatekeeper.errors import ImporterError

    with pytest.raises(ImporterError, match="several results files") as info:
        get_importer("lm-eval").read(LM / "pr3936", ImportOptions())
    assert QWEN_RUNS[0] in str(info.value) and QWEN_RUNS[1] in str(info.value)


def test_task_selection(tmp_path: Path) -> None:
    bundle = do_import("lm-eval", _qwen(QWEN_RUNS[0]), tmp_path / "b",
                       tasks=("negotiationtom_desire",))
    assert sorted(bundle.run.metrics) == ["negotiationtom_desire/acc"]
    group = do_import("lm-eval", _qwen(QWEN_RUNS[0]), tmp_path / "g", tasks=("negotiationtom",))
    assert "negotiationtom_belief/acc" in group.run.metrics  # a group brings its subtasks


def test_v040_layout_with_a_json_array_samples_file(tmp_path: Path) -> None:
    bundle = do_import("lm-eval", LM / "pr1668", tmp_path / "b")
    wmdp = scores(bundle, "wmdp_bio/exact_match")
    assert len(wmdp) == 100 and set(wmdp.values()) == {1.0}
    assert bundle.run.metrics["wmdp_chem/exact_match"].value == 1.0  # no samples: the aggregate
    assert bundle.run.model == "gpt-3.5-turbo-0125"  # from a model_args string
    assert bundle.run.code is not None and bundle.run.code.commit == "4a1e48ce"
    env = bundle.run.environment
    assert env is not None and env.hardware is not None and env.hardware.accelerator is None


def test_v03_results_file_values(tmp_path: Path) -> None:
    source = LM / "v0.3-results" / "llama-7B_common_sense_reasoning_0-shot.json"
    bundle = do_import("lm-eval", source, tmp_path / "b", model_name="llama-7B")
    assert bundle.run.metrics["winogrande/acc"].value == pytest.approx(0.6692975532754538)
    assert bundle.run.metrics["piqa/acc_norm"].value == pytest.approx(0.7742110990206746)
    assert not any(name.endswith("_stderr") for name in bundle.run.metrics)


def test_import_is_deterministic(tmp_path: Path) -> None:
    source = tmp_path / "copy"
    shutil.copytree(LM / "pr1567" / "llama", source)
    do_import("lm-eval", LM / "pr1567" / "llama", tmp_path / "a", model_name="m")
    do_import("lm-eval", source, tmp_path / "b", model_name="m")  # another path, same bytes
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
