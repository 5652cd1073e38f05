"""Rules on a series metric: the floors, ceilings and baseline comparisons judge the value the
rule's ``reduce`` names (final or best), and nothing else."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.checks import thresholds, vs_baseline
from gatekeeper.checks.evidence import Evidence
from gatekeeper.errors import InputError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.models.verdict import Check
from gatekeeper.policy.loader import load_policy

CURVE = "step,value\n0,0.9\n10,0.2\n20,0.6\n"  # best (lowest) 0.2 at step 10, final 0.6


def make_bundle(root: Path, metrics: dict[str, Any], files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    run = {"schema": "gatekeeper.run/v1", "run_id": root.name, "model": "m", "metrics": metrics}
    (root / "run.yaml").write_text(yaml.safe_dump(run))
    return root


def series_bundle(root: Path, curve: str = CURVE) -> Path:
    return make_bundle(root, {"loss": {"series": "curves/loss.csv"}},
                       {"curves/loss.csv": curve})


def evidence(tmp: Path, rules: str, candidate: Path, baseline: Path | None = None) -> Evidence:
    policy = tmp / "policy.yaml"
    policy.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: t, version: 1}\n"
                      "metrics:\n" + rules)
    return Evidence(policy=load_policy(policy), bundle=load_bundle(candidate),
                    as_of=date(2026, 1, 1),
                    baseline=load_bundle(baseline) if baseline is not None else None)


def bounds(tmp: Path, rules: str, curve: str = CURVE) -> dict[str, Check]:
    ev = evidence(tmp, rules, series_bundle(tmp / "cand", curve))
    return {c.id: c for c in thresholds.run(ev)}


def test_a_ceiling_on_the_final_value(tmp_path: Path) -> None:
    got = bounds(tmp_path, "  - {metric: loss, higher_is_better: false, reduce: final, "
                           "max: 0.5}\n")["metric:loss:max"]
    assert got.status == "block"
    assert got.observed == 0.6 and got.threshold == 0.5
    assert got.message == "loss (final, step 20) = 0.6 (n=1) is above the ceiling 0.5"


def test_a_ceiling_on_the_best_value_where_lower_is_better(tmp_path: Path) -> None:
    got = bounds(tmp_path, "  - {metric: loss, higher_is_better: false, reduce: best, "
                           "max: 0.5}\n")["metric:loss:max"]
    assert got.status == "pass"
    assert got.observed == 0.2
    assert got.message == "loss (best, step 10) = 0.2 (n=1); ceiling <= 0.5"


def test_best_follows_the_rules_direction_not_the_flattering_one(tmp_path: Path) -> None:
    """A PR author who wants a pass on a loss ceiling cannot get the curve's minimum judged
    when the rule says higher is better: best is then the highest loss."""
    got = bounds(tmp_path, "  - {metric: loss, reduce: best, max: 0.5}\n")["metric:loss:max"]
    assert got.status == "block" and got.observed == 0.9
    assert got.message.startswith("loss (best, step 0) = 0.9")


def test_a_floor_on_the_final_value_of_a_rising_curve(tmp_path: Path) -> None:
    got = bounds(tmp_path, "  - {metric: loss, reduce: final, min: 0.3}\n",
                 curve="step,value\n1,0.1\n2,0.35\n")["metric:loss:min"]
    assert got.status == "pass" and got.observed == 0.35


def test_a_rule_on_a_series_must_say_which_value(tmp_path: Path) -> None:
    """Without reduce the gate would judge the mean of the curve, a number nobody chose."""
    with pytest.raises(InputError) as info:
        bounds(tmp_path, "  - {metric: loss, max: 0.5}\n")
    msg = str(info.value)
    assert "policy.yaml:5:5, field 'metrics[0]'" in msg
    assert msg.endswith("metric 'loss' is a series (a curve by step) in the candidate bundle: "
                        "say which of its values the rule gates, with reduce: final or "
                        "reduce: best")


def test_reduce_on_a_metric_that_is_not_a_series_is_refused(tmp_path: Path) -> None:
    """A candidate that records its final loss as a hand-written value instead of the curve
    does not slip past a rule written for the curve."""
    cand = make_bundle(tmp_path / "cand", {"loss": {"value": 0.1}}, {})
    ev = evidence(tmp_path, "  - {metric: loss, reduce: final, max: 0.5}\n", cand)
    with pytest.raises(InputError) as info:
        thresholds.run(ev)
    assert "field 'metrics[0].reduce'" in str(info.value)
    assert str(info.value).endswith(
        "the rule reduces a series (reduce: final) but the candidate bundle gives metric 'loss' "
        "as value, not a series: drop reduce, or record the curve")


def test_vs_baseline_compares_the_reduced_values(tmp_path: Path) -> None:
    cand = series_bundle(tmp_path / "cand")
    base = series_bundle(tmp_path / "base", "step,value\n0,1.0\n5,0.25\n10,0.3\n")
    ev = evidence(tmp_path, "  - {metric: loss, higher_is_better: false, reduce: best, "
                            "vs_baseline: {margin: 0.1}}\n", cand, base)
    (got,) = vs_baseline.run(ev, {})
    assert got.id == "metric:loss:vs_baseline"
    assert (got.observed, got.baseline) == (0.2, 0.25)
    assert got.delta == pytest.approx(-0.05)
    assert got.notes[0] == ("series reduced to its best value: candidate 0.2 at step 10, "
                            "baseline 0.25 at step 5")
    assert got.method == "none"  # two single values: no interval, as for any value metric


def test_vs_baseline_needs_the_baseline_to_record_the_curve_too(tmp_path: Path) -> None:
    cand = series_bundle(tmp_path / "cand")
    base = make_bundle(tmp_path / "base", {"loss": {"value": 0.3}}, {})
    ev = evidence(tmp_path, "  - {metric: loss, higher_is_better: false, reduce: final, "
                            "vs_baseline: {margin: 0.1}}\n", cand, base)
    with pytest.raises(InputError, match="the baseline bundle gives metric 'loss' as value"):
        vs_baseline.run(ev, {})


def test_a_candidate_without_the_curve_fails_the_rule(tmp_path: Path) -> None:
    """Leaving the curve out does not skip the rule on it."""
    cand = make_bundle(tmp_path / "cand", {"accuracy": {"value": 0.9}}, {})
    ev = evidence(tmp_path, "  - {metric: loss, higher_is_better: false, reduce: final, "
                            "max: 0.5}\n", cand)
    (got,) = thresholds.run(ev)
    assert got.id == "metric:loss:max" and got.status == "block"
    assert got.message == "metric 'loss' is not in the bundle, so its max cannot be checked"
