"""Every way a PR can loosen the policy that gates it is named; tightening is not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
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


# --- The structured diff (`gatekeeper policy diff`) ----------------------------------------------

def _structured(base: Data, head: Data) -> list[tuple[str, str, str]]:
    from gatekeeper.policy.diff import structured_diff

    dump = lambda d: _policy(d).model_dump(mode="json", by_alias=True)  # noqa: E731
    return [(c.path, c.rule, c.direction)
            for c in structured_diff(dump(base), dump(head)).changes]


@pytest.mark.parametrize("change", [c for name, c, _ in LOOSENINGS if name != "override added"],
                         ids=[name for name, _, _ in LOOSENINGS if name != "override added"])
def test_every_loosening_is_a_loosened_change(change: Callable[[Data], None]) -> None:
    """The structured diff agrees with ``loosenings()``: each of its cases is loosened."""
    head = copy.deepcopy(BASE)
    change(head)
    found = _structured(BASE, head)
    assert found and {d for _, _, d in found} == {"loosened"}, found


def test_an_empty_override_added_is_neutral() -> None:
    head = _changed(_set("branches", "hotfix/*", value={"metrics": []}))
    found = _structured(BASE, head.model_dump(mode="json", by_alias=True))
    assert found == [("branches.hotfix/*", "branch override added", "neutral")]


def test_tightening_is_classified_tightened() -> None:
    head = copy.deepcopy(BASE)
    _tighten(head)
    found = _structured(BASE, head)
    assert len(found) == 9
    assert {d for _, _, d in found} == {"tightened"}, found


# The acceptance table: a parent policy and a child that extends it, edited one way at a time,
# in either file or in the child's branch override, each change judged on the effective policies.
PARENT: Data = {
    "apiVersion": "gatekeeper/v1", "kind": "Policy",
    "metadata": {"name": "parent", "version": 1},
    "baseline": {"registry": "file:reg", "alias": "production", "max_age_days": 30},
    "envelope": {"required": ["code.commit", "seeds"], "min_seeds": 5},
    "metrics": [
        {"metric": "accuracy", "min": 0.85, "range": [0, 1],
         "vs_baseline": {"confidence": 0.95, "margin": 0.01}},
        {"metric": "latency_ok", "max": 0.2},
    ],
}
CHILD: Data = {
    "apiVersion": "gatekeeper/v1", "kind": "Policy",
    "metadata": {"name": "child", "version": 4},
    "extends": "parent.yaml",
    "metrics": [{"metric": "accuracy", "on_inconclusive": "block"}],
    "budgets": [{"name": "cost_usd", "max": 10, "vs_baseline": {"max_ratio": 1.2}}],
    "waivers": [{"check": "budget:cost_usd", "reason": "r", "approved_by": "alice",
                 "ticket": "ML-1", "expires": "2026-12-31"}],
    "judge": {"pin": {"model": "judge-1"}, "metrics": ["accuracy"]},
    "llm": {"one_change_at_a_time": True},
    "multiplicity": {"method": "holm"},
    "branches": {"release/*": {"envelope": {"min_seeds": 10},
                               "metrics": [{"metric": "accuracy", "min": 0.9}]}},
}
def _append(*path: str, value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        node: Any = data
        for key in path:
            node = node[key]
        node.append(value)
    return change


L, T, N = "loosened", "tightened", "neutral"
OVR = " (branch override 'release/*')"

# (id, file edited, edit, target branch, path, rule, direction)
TABLE: list[tuple[str, str, Callable[[Data], None], str | None, str, str, str]] = [
    ("parent floor lowered", "parent", _set("metrics", 0, "min", value=0.8), None,
     "metrics.accuracy.min", "floor lowered", L),
    ("parent floor raised", "parent", _set("metrics", 0, "min", value=0.9), None,
     "metrics.accuracy.min", "floor raised", T),
    ("parent ceiling raised", "parent", _set("metrics", 1, "max", value=0.3), None,
     "metrics.latency_ok.max", "ceiling raised", L),
    ("parent margin widened", "parent", _set("metrics", 0, "vs_baseline", "margin", value=0.05),
     None, "metrics.accuracy.vs_baseline.margin", "margin widened", L),
    ("parent margin narrowed", "parent", _set("metrics", 0, "vs_baseline", "margin", value=0),
     None, "metrics.accuracy.vs_baseline.margin", "margin narrowed", T),
    ("parent confidence lowered", "parent",
     _set("metrics", 0, "vs_baseline", "confidence", value=0.9), None,
     "metrics.accuracy.vs_baseline.confidence", "confidence lowered", L),
    ("parent confidence raised", "parent",
     _set("metrics", 0, "vs_baseline", "confidence", value=0.99), None,
     "metrics.accuracy.vs_baseline.confidence", "confidence raised", T),
    ("parent required field removed", "parent", _set("envelope", "required", value=["seeds"]),
     None, "envelope.required.code.commit", "required field removed", L),
    ("parent required field added", "parent",
     _set("envelope", "required", value=["code.commit", "seeds", "data[*].sha256"]), None,
     "envelope.required.data[*].sha256", "required field added", T),
    ("parent min_seeds lowered", "parent", _set("envelope", "min_seeds", value=3), None,
     "envelope.min_seeds", "min_seeds lowered", L),
    ("parent rule removed", "parent", _set("metrics", value=[PARENT["metrics"][0]]), None,
     "metrics.latency_ok", "rule removed", L),
    ("parent missing drop", "parent", _set("metrics", 0, "vs_baseline", "missing", value="drop"),
     None, "metrics.accuracy.vs_baseline.missing", "missing examples softened", L),
    ("parent range changed", "parent", _set("metrics", 0, "range", value=[0, 100]), None,
     "metrics.accuracy.range", "range changed", L),
    ("parent baseline alias changed", "parent", _set("baseline", "alias", value="staging"), None,
     "baseline.alias", "baseline alias changed", L),
    ("parent max age raised", "parent", _set("baseline", "max_age_days", value=90), None,
     "baseline.max_age_days", "baseline max age raised", L),
    ("parent on_fail softened", "parent", _set("metrics", 0, "on_fail", value="warn"), None,
     "metrics.accuracy.on_fail", "on_fail softened", L),
    ("child on_inconclusive softened", "child",
     _set("metrics", 0, "on_inconclusive", value="warn"), None,
     "metrics.accuracy.on_inconclusive", "on_inconclusive softened", L),
    ("child rule added", "child", _append("metrics", value={"metric": "f1", "min": 0.5}), None,
     "metrics.f1", "rule added", T),
    ("child budget raised", "child", _set("budgets", 0, "max", value=20), None,
     "budgets.cost_usd.max", "budget raised", L),
    ("child budget lowered", "child", _set("budgets", 0, "max", value=5), None,
     "budgets.cost_usd.max", "budget lowered", T),
    ("child budget ratio raised", "child",
     _set("budgets", 0, "vs_baseline", "max_ratio", value=1.5), None,
     "budgets.cost_usd.vs_baseline.max_ratio", "budget ratio raised", L),
    ("child budget removed", "child", _set("budgets", value=[]), None,
     "budgets.cost_usd", "rule removed", L),
    ("child waiver added", "child",
     _append("waivers", value={"check": "metric:accuracy:min", "reason": "r",
                               "approved_by": "bob", "ticket": "ML-2",
                               "expires": "2026-12-01"}), None,
     "waivers.metric:accuracy:min", "waiver added", L),
    ("child waiver extended", "child", _set("waivers", 0, "expires", value="2027-06-30"), None,
     "waivers.budget:cost_usd.expires", "waiver extended", L),
    ("child waiver removed", "child", _set("waivers", value=[]), None,
     "waivers.budget:cost_usd", "waiver removed", T),
    ("child waiver approver changed", "child", _set("waivers", 0, "approved_by", value="eve"),
     None, "waivers.budget:cost_usd.approved_by", "waiver approver changed", L),
    ("child judge pin removed", "child", _drop("judge", "pin"), None,
     "judge.pin", "judge pin removed", L),
    ("child judged metric removed", "child", _set("judge", "metrics", value=[]), None,
     "judge.metrics.accuracy", "judged metric removed", L),
    ("child one change off", "child", _drop("llm"), None,
     "llm.one_change_at_a_time", "one change at a time dropped", L),
    # Larger adjusted p-values block less: bonferroni is the loosest for blocking.
    ("child multiplicity softened", "child",
     _set("multiplicity", "method", value="bonferroni"), None,
     "multiplicity.method", "multiplicity method softened", L),
    ("child multiplicity hardened", "child", _set("multiplicity", "method", value="bh"), None,
     "multiplicity.method", "multiplicity method hardened", T),
    ("child seed changed", "child", _set("stats", value={"seed": 3}), None,
     "stats.seed", "seed changed", L),
    ("child description", "child", _set("metadata", "description", value="x"), None,
     "metadata.description", "metadata changed", N),
    ("override floor lowered (raw)", "child",
     _set("branches", "release/*", "metrics", 0, "min", value=0.8), None,
     "branches.release/*.metrics.accuracy.min", "floor lowered" + OVR, L),
    ("override floor lowered (effective)", "child",
     _set("branches", "release/*", "metrics", 0, "min", value=0.8), "release/1",
     "metrics.accuracy.min", "floor lowered", L),
    ("override min_seeds raised", "child",
     _set("branches", "release/*", "envelope", "min_seeds", value=20), None,
     "branches.release/*.envelope.min_seeds", "min_seeds raised" + OVR, T),
    ("override removed", "child", _set("branches", value={}), None,
     "branches.release/*.envelope.min_seeds", "min_seeds lowered" + OVR, L),
    ("override added", "child",
     _set("branches", "hotfix/*", value={"metrics": [{"metric": "accuracy", "on_fail": "warn"}]}),
     None, "branches.hotfix/*.metrics.accuracy.on_fail", "on_fail softened (branch override "
     "'hotfix/*')", L),
    ("parent change masked by the override", "parent", _set("metrics", 0, "min", value=0.7),
     "release/1", "", "", N),
]


def _write(folder: Path, parent: Data, child: Data) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parent.yaml").write_text(yaml.safe_dump(parent, sort_keys=False))
    (folder / "child.yaml").write_text(yaml.safe_dump(child, sort_keys=False))
    return folder / "child.yaml"


def _loaded_diff(tmp_path: Path, which: str, edit: Callable[[Data], None],
                 branch: str | None) -> tuple[Any, Any]:
    from gatekeeper.policy.diff import structured_diff
    from gatekeeper.policy.loader import load_policy

    parent, child = copy.deepcopy(PARENT), copy.deepcopy(CHILD)
    edit(parent if which == "parent" else child)
    old = load_policy(_write(tmp_path / "old", PARENT, CHILD), target_branch=branch,
                      root=tmp_path)
    new = load_policy(_write(tmp_path / "new", parent, child), target_branch=branch,
                      root=tmp_path)

    def locator(loaded: Any) -> Any:
        return lambda p: (loaded.location(*p).file, loaded.location(*p).line)

    dump = lambda x: x.policy.model_dump(mode="json", by_alias=True)  # noqa: E731
    return structured_diff(dump(old), dump(new), locator(old), locator(new)), new


@pytest.mark.parametrize(("which", "edit", "branch", "path", "rule", "direction"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_acceptance_table(tmp_path: Path, which: str, edit: Callable[[Data], None],
                          branch: str | None, path: str, rule: str, direction: str) -> None:
    diff, _new = _loaded_diff(tmp_path, which, edit, branch)
    found = [(c.path, c.rule, c.direction) for c in diff.changes]
    if not path:  # the release override sets the floor: the parent's edit changes nothing
        assert found == []
        return
    assert (path, rule, direction) in found, found
    assert {c.direction for c in diff.changes} == {direction}, found
    assert diff.version_bumped is False
    assert diff.meaning_changed is (direction != N)
    change = next(c for c in diff.changes if c.path == path)
    if which == "parent" and change.after is not None and direction != L:
        assert change.file is not None and change.file.endswith("parent.yaml"), change


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) >= 30
    assert any(row[1] == "parent" for row in TABLE) and any(row[3] for row in TABLE)


@pytest.mark.parametrize(("old", "new", "grew"), [
    (1, 2, True), (2, 2, False), (3, 2, False), ("1.2", "1.10", True), ("1.2", "1.2", False),
    ("a", "b", True), (1, "1.0", False), (1, "v1", False), (1, "v2", True), (1, "a", False),
    ("a", 1, True), ("01", 1, False), (1, "1.²", False), (1, "1_0", False),
])
def test_version_growth(old: Any, new: Any, grew: bool) -> None:
    from gatekeeper.policy.diff import version_grew

    assert version_grew(old, new) is grew


def test_a_version_bump_is_seen(tmp_path: Path) -> None:
    def edit(data: Data) -> None:
        data["metadata"]["version"] = 5
        data["budgets"][0]["max"] = 20

    diff, _ = _loaded_diff(tmp_path, "child", edit, None)
    assert diff.version_bumped is True
    assert [c.path for c in diff.changes] == ["budgets.cost_usd.max"]
    assert diff.changes[0].file is not None and diff.changes[0].file.endswith("child.yaml")
    change = diff.changes[0]
    assert change.line is not None
    assert "max: 20" in Path(change.file).read_text().splitlines()[change.line - 1]


@pytest.mark.parametrize(("edit", "expected"), [
    (_set("metrics", 0, "enforcement", value="advisory"),
     [("metrics.accuracy.enforcement", "enforcement softened", "loosened")]),
    (_set("metrics", 0, "enforcement", value="hard"),
     [("metrics.accuracy.enforcement", "enforcement hardened", "tightened")]),
    (_set("budgets", 0, "enforcement", value="advisory"),
     [("budgets.latency_p95_ms.enforcement", "enforcement softened", "loosened")]),
    (_set("waiver_policy", value={"require_ticket": False}),
     [("waiver_policy.require_ticket", "waiver ticket dropped", "loosened")]),
    (_set("approvers", value=["alice", "bob", "mallory"]),
     [("approvers.mallory", "approver added", "loosened")]),
    (_set("approvers", value=["alice"]),
     [("approvers.bob", "approver removed", "tightened")]),
])
def test_the_rules_about_rules_are_classified(
        edit: Callable[[Data], None], expected: list[tuple[str, str, str]]) -> None:
    base = copy.deepcopy(BASE)
    base["approvers"] = ["alice", "bob"]
    head = copy.deepcopy(base)
    edit(head)
    assert _structured(base, head) == expected
