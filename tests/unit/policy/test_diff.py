"""Every way a PR can loosen the policy that gates it is named; tightening is not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from gatekeeper.models.policy import Policy
from gatekeeper.policy.diff import MULTIPLICITY_STRICTNESS, loosenings

Data = dict[str, Any]

BASE: Data = {
    "apiVersion": "gatekeeper/v1",
    "kind": "Policy",
    "metadata": {"name": "release", "version": 3},
    "baseline": {"registry": "file:.gatekeeper/registry", "model": "clf", "alias": "production",
                 "max_age_days": 30, "on_missing": "block", "on_registry_error": "block"},
    "envelope": {"required": ["code.commit", "seeds"], "min_seeds": 5,
                 "require_clean_code": True, "on_missing": "block"},
    "metrics": [
        {"metric": "accuracy", "min": 0.85, "max": 0.999, "on_fail": "block",
         "on_inconclusive": "block", "range": [0, 1],
         "vs_baseline": {"confidence": 0.99, "margin": 0.005, "require": "superior",
                         "min_gain": 0.001, "require_full_overlap": True}},
        {"metric": "f1", "vs_baseline": {"margin_rel": 0.01, "aggregate": "f1"}},
    ],
    "budgets": [
        {"name": "latency_p95_ms", "max": 300, "on_exceed": "block",
         "vs_baseline": {"max_ratio": 1.1, "confidence": 0.95}},
        {"name": "error_rate", "min": 0.0, "max": 0.05, "on_exceed": "block"},
    ],
    "judge": {"pin": {"model": "gpt-4o-2024-08-06"}, "on_mismatch": "block"},
    "llm": {"one_change_at_a_time": True, "on_violation": "block"},
    "multiplicity": {"method": "none"},
    "stats": {"seed": 0, "resamples": 10_000},
    "branches": {"release/*": {"envelope": {"min_seeds": 10}}},
    "waivers": [{"check": "budget:error_rate", "reason": "flaky", "approved_by": "alice",
                 "ticket": "OPS-1", "expires": "2026-12-31"}],
}


def _policy(data: Data) -> Policy:
    return Policy.model_validate(data)


def _changed(change: Callable[[Data], None]) -> Policy:
    data = copy.deepcopy(BASE)
    change(data)
    return _policy(data)


def _set(*path: str | int, value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _drop(*path: str | int) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return change


LOOSENINGS: list[tuple[str, Callable[[Data], None], str]] = [
    # examples the candidate lacks, and the metric's range
    ("missing dropped", _set("metrics", 0, "vs_baseline", "missing", value="drop"),
     "accuracy: missing examples dropped instead of scored as failures"),
    ("range changed", _set("metrics", 0, "range", value=[0, 2]),
     "accuracy: range changed from [0.0, 1.0] to [0.0, 2.0]"),
    # baseline
    ("baseline removed", _drop("baseline"), "baseline section removed"),
    ("registry", _set("baseline", "registry", value="file:/tmp/mine"),
     "baseline registry changed from file:.gatekeeper/registry to file:/tmp/mine"),
    ("model", _set("baseline", "model", value="other"), "baseline model changed from clf to other"),
    ("alias", _set("baseline", "alias", value="staging"),
     "baseline alias changed from production to staging"),
    ("version pin", _set("baseline", "version", value="1"),
     "baseline version pin changed from none to 1"),
    ("baseline on_missing", _set("baseline", "on_missing", value="warn"),
     "baseline on_missing weakened from block to warn"),
    ("max_age_days raised", _set("baseline", "max_age_days", value=365),
     "baseline max_age_days raised from 30 to 365"),
    ("max_age_days removed", _drop("baseline", "max_age_days"),
     "baseline max_age_days raised from 30 to none"),
    ("on_registry_error", _set("baseline", "on_registry_error", value="error"),
     "baseline on_registry_error weakened from block to error"),
    # envelope
    ("required field", _set("envelope", "required", value=["code.commit"]),
     "envelope field seeds is no longer required"),
    ("min_seeds", _set("envelope", "min_seeds", value=3), "min_seeds lowered from 5 to 3"),
    ("min_seeds removed", _drop("envelope", "min_seeds"), "min_seeds lowered from 5 to none"),
    ("clean code", _set("envelope", "require_clean_code", value=False),
     "clean code is no longer required"),
    ("envelope on_missing", _set("envelope", "on_missing", value="pass"),
     "envelope on_missing weakened from block to pass"),
    # metrics
    ("metric removed", _set("metrics", value=[BASE["metrics"][1]]),
     "metric rule accuracy removed"),
    ("direction", _set("metrics", 0, "higher_is_better", value=False),
     "accuracy: direction changed (higher_is_better False)"),
    ("floor", _set("metrics", 0, "min", value=0.5), "accuracy: floor lowered from 0.85 to 0.5"),
    ("ceiling", _drop("metrics", 0, "max"), "accuracy: ceiling raised from 0.999 to None"),
    ("on_fail", _set("metrics", 0, "on_fail", value="warn"),
     "accuracy: on_fail weakened from block to warn"),
    ("on_inconclusive", _set("metrics", 0, "on_inconclusive", value="pass"),
     "accuracy: on_inconclusive weakened from block to pass"),
    ("comparison removed", _drop("metrics", 0, "vs_baseline"),
     "accuracy: baseline comparison removed"),
    ("margin", _set("metrics", 0, "vs_baseline", "margin", value=0.05),
     "accuracy: non-inferiority margin widened"),
    ("margin_rel", _set("metrics", 1, "vs_baseline", "margin_rel", value=0.1),
     "f1: non-inferiority margin widened"),
    ("confidence", _set("metrics", 0, "vs_baseline", "confidence", value=0.9),
     "accuracy: confidence lowered from 0.99 to 0.9"),
    ("superior", _set("metrics", 0, "vs_baseline", "require", value="non_inferior"),
     "accuracy: improvement no longer required"),
    ("min_gain", _drop("metrics", 0, "vs_baseline", "min_gain"),
     "accuracy: required gain lowered"),
    ("full overlap", _set("metrics", 0, "vs_baseline", "require_full_overlap", value=False),
     "accuracy: require_full_overlap switched off"),
    ("method", _set("metrics", 0, "vs_baseline", "method", value="wald"),
     "accuracy: comparison method changed from none to wald"),
    ("aggregate", _drop("metrics", 1, "vs_baseline", "aggregate"),
     "f1: comparison aggregate changed from f1 to none"),
    # budgets
    ("budget removed", _set("budgets", value=[BASE["budgets"][1]]),
     "budget latency_p95_ms removed"),
    ("budget max", _set("budgets", 0, "max", value=900),
     "budget latency_p95_ms: max raised from 300.0 to 900.0"),
    ("budget min", _drop("budgets", 1, "min"), "budget error_rate: min lowered from 0.0 to None"),
    ("on_exceed", _set("budgets", 0, "on_exceed", value="warn"),
     "budget latency_p95_ms: on_exceed weakened"),
    ("max_ratio raised", _set("budgets", 0, "vs_baseline", "max_ratio", value=2.0),
     "budget latency_p95_ms: max_ratio raised from 1.1 to 2.0"),
    ("max_ratio removed", _drop("budgets", 0, "vs_baseline"),
     "budget latency_p95_ms: baseline ratio limit removed"),
    ("budget confidence", _set("budgets", 0, "vs_baseline", "confidence", value=0.8),
     "budget latency_p95_ms: confidence lowered from 0.95 to 0.8"),
    # judge and llm
    ("judge pin removed", _drop("judge", "pin"), "judge pin removed"),
    ("judge pin changed", _set("judge", "pin", "model", value="gpt-4o-mini"), "judge pin changed"),
    ("on_mismatch", _set("judge", "on_mismatch", value="warn"),
     "judge on_mismatch weakened from block to warn"),
    ("one change", _set("llm", "one_change_at_a_time", value=False),
     "one_change_at_a_time switched off"),
    ("llm removed", _drop("llm"), "one_change_at_a_time switched off"),
    ("on_violation", _set("llm", "on_violation", value="warn"),
     "llm on_violation weakened from block to warn"),
    # statistics
    ("multiplicity", _set("multiplicity", "method", value="holm"),
     "multiplicity method changed from none to holm (fewer blocks)"),
    ("resamples", _set("stats", "resamples", value=200),
     "stats.resamples lowered from 10000 to 200"),
    ("seed", _set("stats", "seed", value=7), "stats.seed changed from 0 to 7"),
    # branch overrides and waivers
    ("override changed", _set("branches", "release/*", "envelope", "min_seeds", value=2),
     "branch overrides changed: release/*"),
    ("override removed", _set("branches", value={}), "branch overrides changed: release/*"),
    ("override added", _set("branches", "hotfix/*", value={"metrics": []}),
     "branch overrides changed: hotfix/*"),
    ("waiver", _set("waivers", 0, "approved_by", value="mallory"),
     "waiver added for budget:error_rate (approved by mallory until 2026-12-31)"),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in LOOSENINGS],
                         ids=[name for name, _, _ in LOOSENINGS])
def test_each_loosening_is_named(change: Callable[[Data], None], expected: str) -> None:
    found = loosenings(_policy(BASE), _changed(change))
    assert expected in found


def test_an_unchanged_policy_loosens_nothing() -> None:
    assert loosenings(_policy(BASE), _policy(copy.deepcopy(BASE))) == []


def _tighten(data: Data) -> None:
    data["baseline"]["max_age_days"] = 7
    data["envelope"]["required"].append("environment.lockfile.sha256")
    data["envelope"]["min_seeds"] = 10
    data["metrics"][0]["min"] = 0.9
    data["metrics"][0]["vs_baseline"]["confidence"] = 0.995
    data["budgets"][0]["max"] = 250
    data["budgets"][0]["vs_baseline"]["max_ratio"] = 1.05
    data["stats"]["resamples"] = 20_000
    data["metrics"].append({"metric": "recall", "min": 0.5})


def test_tightening_is_not_a_loosening() -> None:
    assert loosenings(_policy(BASE), _changed(_tighten)) == []


def test_on_registry_error_error_to_block_tightens() -> None:
    base = _changed(_set("baseline", "on_registry_error", value="error"))
    assert loosenings(base, _policy(BASE)) == []


def test_a_missing_judge_section_still_blocks_a_mismatch() -> None:
    """No judge section means on_mismatch block, so adding one with warn loosens."""
    base = _changed(_drop("judge"))
    head = _changed(_set("judge", "on_mismatch", value="warn"))
    assert loosenings(base, head) == ["judge on_mismatch weakened from block to warn"]
    assert loosenings(base, _policy(BASE)) == []


@pytest.mark.parametrize(("old", "new", "loose"), [
    ("none", "bh", True), ("bh", "holm", True), ("holm", "bonferroni", True),
    ("none", "bonferroni", True), ("bonferroni", "holm", False), ("holm", "bh", False),
    ("bh", "none", False), ("holm", "holm", False),
])
def test_multiplicity_ranks_by_how_often_it_blocks(old: str, new: str, loose: bool) -> None:
    base = _changed(_set("multiplicity", "method", value=old))
    head = _changed(_set("multiplicity", "method", value=new))
    assert bool(loosenings(base, head)) is loose
    assert set(MULTIPLICITY_STRICTNESS) == {"none", "bh", "holm", "bonferroni"}


def test_multiplicity_ranking_matches_the_adjustments() -> None:
    """The ranking is what the adjustments do: BH <= Holm <= Bonferroni, pointwise."""
    from gatekeeper.stats.multiplicity import adjust

    p = [0.004, 0.01, 0.012, 0.02, 0.03, 0.2]
    bh, holm, bonferroni = (list(adjust(p, m)) for m in ("bh", "holm", "bonferroni"))
    tol = 1e-12  # step-up/step-down products round differently in the last bit
    assert all(a <= b + tol and b <= c + tol for a, b, c in zip(bh, holm, bonferroni, strict=True))
    rejected = {m: sum(v <= 0.025 for v in adj) for m, adj in
                (("none", p), ("bh", bh), ("holm", holm), ("bonferroni", bonferroni))}
    ranked = sorted(MULTIPLICITY_STRICTNESS, key=MULTIPLICITY_STRICTNESS.__getitem__)
    assert [rejected[m] for m in ranked] == sorted(rejected[m] for m in ranked)
    assert rejected["none"] > rejected["bonferroni"]


def test_unlisting_a_judged_metric_loosens() -> None:
    def pol(metrics: str) -> Policy:
        return Policy.model_validate({
            "apiVersion": "gatekeeper/v1", "kind": "Policy",
            "metadata": {"name": "p", "version": 1},
            "judge": {"pin": {"model": "gpt-4o-2024-08-06"}, "metrics": metrics.split()}})

    assert loosenings(pol("helpfulness tone"), pol("tone")) == [
        "helpfulness is no longer listed as judged (its judge is not checked)"]
    assert loosenings(pol("tone"), pol("helpfulness tone")) == []
