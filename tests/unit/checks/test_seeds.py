"""Seeds listed vs replicates given, and a single value standing in for several seeds."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.checks import seeds
from gatekeeper.checks.evidence import Evidence
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.models.verdict import Check
from gatekeeper.policy.loader import load_policy


def evaluate(tmp: Path, metrics: dict[str, Any], rules: str,
             run_seeds: list[int] | None = None) -> dict[str, Check]:
    root = tmp / "bundle"
    root.mkdir()
    run: dict[str, Any] = {"schema": "gatekeeper.run/v1", "run_id": "r", "model": "m",
                           "metrics": metrics}
    if run_seeds is not None:
        run["seeds"] = run_seeds
    (root / "run.yaml").write_text(yaml.safe_dump(run))
    policy = tmp / "policy.yaml"
    policy.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: t, version: 1}\n"
                      "metrics:\n" + rules)
    ctx = Evidence(policy=load_policy(policy), bundle=load_bundle(root), as_of=date(2026, 1, 1))
    return {c.id: c for c in seeds.run(ctx)}


@pytest.mark.parametrize("rule", ["{metric: accuracy, min: 0.8}",
                                  "{metric: accuracy, max: 0.99}",
                                  "{metric: accuracy, vs_baseline: {margin: 0.01}}"])
def test_one_value_for_several_seeds_warns(tmp_path: Path, rule: str) -> None:
    got = evaluate(tmp_path, {"accuracy": {"value": 0.9}}, f"  - {rule}\n", [0, 1, 2, 3, 4])
    c = got["replicates:accuracy"]
    assert c.status == "warn"
    assert "one value of accuracy for 5 seeds" in c.message
    assert "give one replicate per seed so the mean of 5 runs, not one run, is judged" \
        in c.message
    assert c.observed == 1.0 and c.threshold == 5.0
    assert c.source is not None and c.source.file.endswith("run.yaml")


@pytest.mark.parametrize(("metrics", "rules", "run_seeds"), [
    ({"accuracy": {"value": 0.9}}, "  - {metric: accuracy, min: 0.8}\n", [0]),  # one seed
    ({"accuracy": {"value": 0.9}}, "  - {metric: accuracy, min: 0.8}\n", None),  # no seeds
    ({"accuracy": {"value": 0.9}, "f1": {"value": 0.7}},  # f1 is not gated by the policy
     "  - {metric: accuracy, min: 0.8}\n", [0, 0]),  # a repeated seed is one seed
])
def test_no_warning_without_several_seeds_or_a_rule(
        tmp_path: Path, metrics: dict[str, Any], rules: str, run_seeds: list[int] | None
) -> None:
    got = evaluate(tmp_path, metrics, rules, run_seeds)
    assert "replicates:accuracy" not in got and "replicates:f1" not in got


def test_one_value_per_seed_still_passes(tmp_path: Path) -> None:
    got = evaluate(tmp_path, {"accuracy": {"replicates": [0.9, 0.91, 0.89]}},
                   "  - {metric: accuracy, min: 0.8}\n", [0, 1, 2])
    assert got["seeds:accuracy"].status == "pass"
