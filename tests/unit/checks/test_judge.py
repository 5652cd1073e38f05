"""Judge pinning and judge identity per metric (checks/judge.py)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.checks import judge
from gatekeeper.checks import vs_baseline as baseline_checks
from gatekeeper.checks.evidence import Evidence
from gatekeeper.inputs.bundle import Bundle, load_bundle
from gatekeeper.models.verdict import Check
from gatekeeper.policy.loader import load_policy
from tests.conftest import EXAMPLES

DEMO = EXAMPLES / "llm" / "bundles"
PINNED = "gpt-4o-2024-08-06"
OTHER = "gpt-4o-mini-2024-07-18"
PROMPT = "bcef48abd3800d823e3b0b4e9fa3391cfd8f7bfcb22baaad25e17f72e94d24c4"


def bundle(tmp: Path, name: str, edit: Any = None, source: str = "pass") -> Bundle:
    dest = tmp / name
    shutil.copytree(DEMO / source, dest)
    if edit is not None:
        run = yaml.safe_load((dest / "run.yaml").read_text())
        edit(run)
        (dest / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    return load_bundle(dest)


def context(tmp: Path, policy_body: str, cand: Bundle, base: Bundle | None = None) -> Evidence:
    path = tmp / "policy.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: t, version: 1}\n"
                    + policy_body)
    return Evidence(policy=load_policy(path), bundle=cand, as_of=date(2026, 11, 26),
                   baseline=base)


def by_id(checks: list[Check] | judge.JudgeFindings) -> dict[str, Check]:
    found = checks.checks if isinstance(checks, judge.JudgeFindings) else checks
    return {c.id: c for c in found}


PIN = f"judge:\n  pin: {{model: {PINNED}, prompt_sha256: {PROMPT}, temperature: 0}}\n"
COMPARE = ("metrics:\n  - metric: helpfulness\n    vs_baseline: {margin: 0.02}\n"
           "  - metric: exact_match\n    vs_baseline: {margin: 0.02}\n")


def set_judge(model: str, **more: Any) -> Any:
    def edit(run: dict[str, Any]) -> None:
        run["llm"]["judge"].update({"model": model, **more})
    return edit


def test_pinned_judge_passes(tmp_path: Path) -> None:
    checks = by_id(judge.run(context(tmp_path, PIN, bundle(tmp_path, "c"))))
    assert checks["judge:pin:helpfulness"].status == "pass"
    assert "judge:pin:exact_match" not in checks  # `judge: null` opts out of the run's judge


def test_pin_mismatch_blocks_naming_both_judges(tmp_path: Path) -> None:
    cand = bundle(tmp_path, "c", source="judge-changed")
    checks = by_id(judge.run(context(tmp_path, PIN, cand)))
    c = checks["judge:pin:helpfulness"]
    assert c.status == "block"
    assert OTHER in c.message and PINNED in c.message
    assert "model differs" in c.message
    assert (c.observed, c.threshold) == (OTHER, PINNED)


@pytest.mark.parametrize(("change", "field"), [
    ({"prompt_sha256": "0" * 64}, "prompt_sha256"), ({"temperature": 0.7}, "temperature")])
def test_pin_covers_prompt_and_temperature(tmp_path: Path, change: dict[str, Any],
                                           field: str) -> None:
    cand = bundle(tmp_path, "c", set_judge(PINNED, **change))
    c = by_id(judge.run(context(tmp_path, PIN, cand)))["judge:pin:helpfulness"]
    assert c.status == "block" and f"({field} differs)" in c.message


def test_on_mismatch_warn_is_honoured(tmp_path: Path) -> None:
    cand = bundle(tmp_path, "c", source="judge-changed")
    body = PIN + "  on_mismatch: warn\n"
    assert by_id(judge.run(context(tmp_path, body, cand)))["judge:pin:helpfulness"].status \
        == "warn"


def test_baseline_judge_change_blocks_the_comparison_even_when_both_match_a_pin(
        tmp_path: Path) -> None:
    # The pin names only the model: both runs match it, but their judge prompts differ.
    base = bundle(tmp_path, "b", set_judge(PINNED, prompt_sha256="1" * 64))
    cand = bundle(tmp_path, "c", set_judge(PINNED, prompt_sha256="2" * 64))
    ctx = context(tmp_path, f"judge:\n  pin: {{model: {PINNED}}}\n" + COMPARE, cand, base)
    findings = judge.run(ctx)
    checks = by_id(findings)
    assert checks["judge:pin:helpfulness"].status == "pass"
    jb = checks["judge:baseline:helpfulness"]
    assert jb.status == "block"
    assert "Δ is not comparable: the judge changed from" in jb.message
    assert "prompt 111111111111" in jb.message and "prompt 222222222222" in jb.message
    # exact_match is not judged on either side: no judge check, its comparison is computed.
    assert "judge:baseline:exact_match" not in checks
    # The judge family hands its finding to the comparison family explicitly.
    assert set(findings.not_comparable) == {"helpfulness"}
    compared = by_id(baseline_checks.run(ctx, findings.not_comparable))
    vs = compared["metric:helpfulness:vs_baseline"]
    assert vs.status == "block" and vs.outcome == "not_comparable"
    assert "judge changed from" in vs.message and vs.ci is None
    assert compared["metric:exact_match:vs_baseline"].method == "tango"


def test_baseline_judge_model_change_names_both(tmp_path: Path) -> None:
    base = bundle(tmp_path, "b")
    cand = bundle(tmp_path, "c", source="judge-changed")
    checks = by_id(judge.run(context(tmp_path, COMPARE, cand, base)))
    jb = checks["judge:baseline:helpfulness"]
    assert jb.status == "block"  # no judge section in the policy: block by default
    assert jb.message.index(PINNED) < jb.message.index(OTHER)  # from X to Y
    assert (jb.observed, jb.baseline) == (OTHER, PINNED)


def test_dropping_the_judge_is_a_change(tmp_path: Path) -> None:
    def drop(run: dict[str, Any]) -> None:
        del run["llm"]["judge"]

    checks = by_id(judge.run(context(tmp_path, COMPARE, bundle(tmp_path, "c", drop),
                                     bundle(tmp_path, "b"))))
    assert checks["judge:baseline:helpfulness"].status == "block"
    assert "to no judge" in checks["judge:baseline:helpfulness"].message


def test_library_version_alone_is_a_note(tmp_path: Path) -> None:
    cand = bundle(tmp_path, "c", set_judge(PINNED, library_version="0.124.0"))
    checks = by_id(judge.run(context(tmp_path, COMPARE, cand, bundle(tmp_path, "b"))))
    jb = checks["judge:baseline:helpfulness"]
    assert jb.status == "pass"
    assert any("0.123.1 to promptfoo 0.124.0" in n for n in jb.notes)


def test_per_metric_judge_overrides_the_run_judge(tmp_path: Path) -> None:
    def per_metric(run: dict[str, Any]) -> None:
        del run["llm"]["judge"]
        run["metrics"]["helpfulness"]["judge"] = {"model": OTHER}
        run["metrics"]["exact_match"].pop("judge")

    cand = bundle(tmp_path, "c", per_metric)
    assert judge.judge_of(cand.run, "exact_match") is None  # no run judge to inherit
    assert judge.judged_metrics(cand.run).keys() == {"helpfulness"}
    checks = by_id(judge.run(context(tmp_path, PIN, cand)))
    assert checks["judge:pin:helpfulness"].status == "block"


def test_run_judge_applies_to_scores_not_latency(tmp_path: Path) -> None:
    def inherit(run: dict[str, Any]) -> None:
        run["metrics"]["exact_match"].pop("judge")

    run = bundle(tmp_path, "c", inherit).run
    assert set(judge.judged_metrics(run)) == {"exact_match", "helpfulness"}
    assert judge.judge_of(run, "latency_ms") is None


def _drop_judge(run: dict[str, Any]) -> None:
    del run["llm"]["judge"]


def test_pin_on_a_run_without_any_judge_warns(tmp_path: Path) -> None:
    checks = judge.run(context(tmp_path, PIN, bundle(tmp_path, "c", _drop_judge))).checks
    assert [(c.id, c.status) for c in checks] == [("judge:pin", "warn")]
    assert checks[0].message.endswith(
        "but the run records none: list the judged metrics under judge.metrics to enforce the pin")


LISTED = PIN + "  metrics: [helpfulness]\n"


def test_a_listed_metric_without_a_judge_takes_on_mismatch(tmp_path: Path) -> None:
    """Dropping llm.judge must not dodge the pin of a metric the policy says is judged."""
    cand = bundle(tmp_path, "c", _drop_judge)
    checks = judge.run(context(tmp_path, LISTED, cand)).checks
    assert [(c.id, c.status) for c in checks] == [("judge:pin:helpfulness", "block")]
    assert "helpfulness is listed as judged but the run records no judge" in checks[0].message
    assert checks[0].source is not None and checks[0].source.file.endswith("policy.yaml")
    warn = LISTED + "  on_mismatch: warn\n"
    assert [c.status for c in judge.run(context(tmp_path, warn, cand)).checks] == ["warn"]


def test_a_listed_metric_that_opts_out_of_the_judge_is_caught(tmp_path: Path) -> None:
    # exact_match writes `judge: null`; listing it as judged makes that a mismatch.
    body = PIN + "  metrics: [helpfulness, exact_match]\n"
    checks = by_id(judge.run(context(tmp_path, body, bundle(tmp_path, "c"))))
    assert checks["judge:pin:helpfulness"].status == "pass"
    assert checks["judge:pin:exact_match"].status == "block"
    message = checks["judge:pin:exact_match"].message
    assert "listed as judged but the run records no judge" in message


def test_a_listed_metric_with_the_wrong_judge_blocks(tmp_path: Path) -> None:
    cand = bundle(tmp_path, "c", source="judge-changed")
    checks = by_id(judge.run(context(tmp_path, LISTED, cand)))
    assert checks["judge:pin:helpfulness"].status == "block"
    assert "model differs" in checks["judge:pin:helpfulness"].message


def test_listed_metrics_without_a_pin_must_record_a_judge(tmp_path: Path) -> None:
    body = "judge:\n  metrics: [helpfulness]\n  on_mismatch: warn\n"
    checks = by_id(judge.run(context(tmp_path, body, bundle(tmp_path, "c"))))
    assert checks["judge:recorded:helpfulness"].status == "pass"
    dropped = by_id(judge.run(context(tmp_path, body, bundle(tmp_path, "d", _drop_judge))))
    assert dropped["judge:recorded:helpfulness"].status == "warn"


def test_judge_metrics_are_listed_once(tmp_path: Path) -> None:
    from gatekeeper.errors import PolicyError

    with pytest.raises(PolicyError, match="lists 'helpfulness' twice"):
        context(tmp_path, PIN + "  metrics: [helpfulness, helpfulness]\n", bundle(tmp_path, "c"))
