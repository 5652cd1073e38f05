"""One process per seed: parts in OUT.parts/seed-K, merged into one bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

import gatekeeper
from gatekeeper.errors import InputError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GATEKEEPER_BUNDLE_DIR", "GATEKEEPER_SEEDS", "GATEKEEPER_COMMAND"):
        monkeypatch.delenv(name, raising=False)


def _part(seed: int, acc: float, *, fail: bool = False, scores: bool = False) -> None:
    try:
        with gatekeeper.Run("out", model="m", seeds=[0, 1, 2], params={"lr": 0.1},
                            command=["python", "t.py"]).seed(seed) as run:
            run.log_metric("accuracy", acc)
            run.log_trace({"latency_ms": 10.0 + seed})
            if scores:
                run.log_scores("em", ["a", "b"], [1, 0])
            if fail:
                raise RuntimeError("out of memory")
    except RuntimeError:
        pass


def test_parts_merge_into_replicates_in_seed_order(tmp_path: Path) -> None:
    for seed, acc in ((2, 0.82), (0, 0.80), (1, 0.81)):
        _part(seed, acc, scores=seed == 1)
    assert load_bundle(Path("out.parts/seed-2")).run.seeds == [2]
    out = gatekeeper.Run.merge("out")
    bundle = load_bundle(out)
    assert bundle.run.seeds == [0, 1, 2]
    assert bundle.run.metrics["accuracy"].replicates == [0.80, 0.81, 0.82]
    assert bundle.run.status == "complete"
    assert "gatekeeper.seeds" not in bundle.run.tags
    assert load_metric(bundle, "em").values.tolist() == [1.0, 0.0]
    assert bundle.run.llm is not None and len(bundle.run.llm.traces) == 3


def test_a_missing_part_is_named(tmp_path: Path) -> None:
    _part(0, 0.8)
    _part(2, 0.8)
    with pytest.raises(InputError, match=r"seed\(s\) 1"):
        gatekeeper.Run.merge("out")


def test_a_failed_part_fails_the_merged_run(tmp_path: Path) -> None:
    _part(0, 0.8)
    _part(1, 0.8, fail=True)
    _part(2, 0.8)
    r = load_bundle(gatekeeper.Run.merge("out")).run
    assert r.status == "failed" and r.failure is not None and "out of memory" in r.failure


def test_parts_with_different_params_do_not_merge(tmp_path: Path) -> None:
    _part(0, 0.8)
    _part(1, 0.8)
    with gatekeeper.Run("out", model="m", seeds=[0, 1, 2], params={"lr": 0.2},
                        command=["python", "t.py"]).seed(2) as run:
        run.log_metric("accuracy", 0.8)
    with pytest.raises(InputError, match="one run has one params"):
        gatekeeper.Run.merge("out")


def test_a_seed_outside_the_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not one of the run's seeds"):
        gatekeeper.Run("out", model="m", seeds=[0, 1]).seed(5)


def test_nothing_to_merge(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no parts"):
        gatekeeper.Run.merge("out")


def test_parts_and_merge_follow_the_bundle_dir_variable(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKEEPER_BUNDLE_DIR", str(tmp_path / "fresh"))
    for seed in (0, 1, 2):
        _part(seed, [0.8, 0.81, 0.82][seed])
    assert (tmp_path / "fresh.parts" / "seed-1").is_dir()
    out = gatekeeper.Run.merge("out")
    assert out == tmp_path / "fresh"
    assert load_bundle(out).run.metrics["accuracy"].replicates == [0.8, 0.81, 0.82]
