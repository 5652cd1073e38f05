"""The replay verdict from two bundles: repeatable, reproducible within tolerance, not
reproducible, and the reasons it gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import gatekeeper
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.replay.compare import compare


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GATEKEEPER_BUNDLE_DIR", "GATEKEEPER_SEEDS", "GATEKEEPER_COMMAND"):
        monkeypatch.delenv(name, raising=False)


def _bundle(out: str, accs: list[float], scores: list[float] | None = None) -> Path:
    with gatekeeper.Run(out, model="m", seeds=[0, 1, 2], command=["python", "t.py"]) as run:
        for seed, acc in zip(run.seeds, accs, strict=True):
            run.log_metric("accuracy", acc, seed=seed)
        run.log_scores("em", ["a", "b", "c", "d"], scores or [1, 0, 1, 1])
        run.log_series("loss", [0, 1], [0.9, 0.4])
    return Path(out)


def _edit(bundle: Path, change: dict[str, Any]) -> None:
    doc = yaml.safe_load((bundle / "run.yaml").read_text())
    for dotted, value in change.items():
        *head, last = dotted.split(".")
        node = doc
        for key in head:
            node = node.setdefault(key, {})
        node[last] = value
    (bundle / "run.yaml").write_text(yaml.safe_dump(doc))


def zero(_name: str) -> float:
    return 0.0


def test_same_envelope_same_numbers_is_repeatable() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b = load_bundle(_bundle("b", [0.8, 0.81, 0.82]))
    report = compare(a, b, zero)
    assert report.result == "repeatable" and report.exit_code == 0
    assert report.render() == "replay: repeatable\n"


def test_a_moved_seed_is_named_with_how_far_it_moved() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b = load_bundle(_bundle("b", [0.8, 0.79, 0.82]))
    report = compare(a, b, zero)
    assert report.result == "not reproducible" and report.exit_code == 1
    (move,) = report.moves
    assert move.metric == "accuracy" and move.where == "seed 1"
    assert move.delta == pytest.approx(0.02)
    assert "metric accuracy (seed 1): 0.81 -> 0.79 (moved by -0.02; tolerance 0)" \
        in report.render()


def test_within_the_tolerance_is_reproducible_within_tolerance() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b = load_bundle(_bundle("b", [0.8, 0.805, 0.82]))
    report = compare(a, b, lambda name: 0.01 if name == "accuracy" else 0.0)
    assert report.result == "reproducible within tolerance" and report.exit_code == 0
    assert "beyond tolerance" not in report.render()


def test_per_example_scores_that_changed_are_counted() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b = load_bundle(_bundle("b", [0.8, 0.81, 0.82], scores=[1, 1, 1, 1]))
    report = compare(a, b, zero)
    assert report.result == "not reproducible"
    assert "metric em (1 of 4 example scores changed; the mean): 0.75 -> 1" in report.render()


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("environment.lockfile", {"path": "uv.lock", "sha256": "1" * 64}, "lockfile differs"),
    ("environment.hardware.accelerator", "NVIDIA A100", "hardware differs"),
    ("environment.hardware.cpu", "Some Other CPU", "hardware differs"),
    ("code.commit", "a" * 40, "code differs"),
    ("params", {"lr": 0.2}, "params differ"),
])
def test_an_envelope_difference_is_named(field: str, value: Any, reason: str) -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b_path = _bundle("b", [0.8, 0.81, 0.82])
    _edit(b_path, {field: value})
    report = compare(a, load_bundle(b_path), zero)
    assert report.result == "reproducible within tolerance"
    assert any(reason in r for r in report.reasons), report.reasons


def test_hardware_difference_is_a_reason_of_a_failed_replay_too() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b_path = _bundle("b", [0.8, 0.7, 0.82])
    _edit(b_path, {"environment.hardware.accelerator": "NVIDIA A100"})
    report = compare(a, load_bundle(b_path), zero)
    assert report.result == "not reproducible"
    assert any("hardware differs" in r for r in report.reasons)
    assert not any("script itself is not deterministic" in r for r in report.reasons)


def test_nondeterministic_kernels_are_named_when_the_run_allowed_them() -> None:
    a_path = _bundle("a", [0.8, 0.81, 0.82])
    _edit(a_path, {"environment.determinism": {"torch_deterministic_algorithms": False}})
    b_path = _bundle("b", [0.8, 0.7, 0.82])
    _edit(b_path, {"environment.determinism": {"torch_deterministic_algorithms": False}})
    report = compare(load_bundle(a_path), load_bundle(b_path), zero)
    assert report.result == "not reproducible"
    assert any("nondeterministic kernels" in r for r in report.reasons)


def test_a_metric_missing_from_the_replay_is_not_reproducible() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    with gatekeeper.Run("b", model="m", seeds=[0, 1, 2], command=["python", "t.py"]) as run:
        for seed in run.seeds:
            run.log_metric("accuracy", 0.8, seed=seed)
    report = compare(a, load_bundle(Path("b")), lambda _n: 1.0)
    assert report.result == "not reproducible"
    assert any("metric em: not in the replay's bundle" in r for r in report.reasons)


def test_several_seeds_that_moved_are_counted() -> None:
    a = load_bundle(_bundle("a", [0.8, 0.81, 0.82]))
    b = load_bundle(_bundle("b", [0.8, 0.79, 0.83]))
    (move,) = compare(a, b, zero).moves
    assert move.where == "2 of 3 seeds moved; the most, seed 1"
