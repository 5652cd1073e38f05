"""Waivers: what a pattern may cover, and how a waived check shows in the verdict's counts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from gatekeeper.checks.waivers import apply_waivers
from gatekeeper.errors import PolicyError
from gatekeeper.gate import build_verdict
from gatekeeper.models.policy import Waiver, can_match_prefix
from gatekeeper.models.verdict import (
    CandidateRef,
    Check,
    Counts,
    GateInfo,
    PolicyRef,
    Verdict,
    verdict_json,
)
from gatekeeper.policy.loader import load_policy
from gatekeeper.report import get_reporter
from gatekeeper.report.context import ReportContext

LATER = date(2027, 1, 1)
TODAY = date(2026, 6, 1)


def waiver(pattern: str) -> Waiver:
    return Waiver(check=pattern, reason="known", approved_by="alice", expires=LATER)


@pytest.mark.parametrize("pattern", ["*", "**", "*:*", "?", " * "])
def test_a_blanket_pattern_is_rejected(pattern: str) -> None:
    with pytest.raises(ValidationError, match="only wildcards: it would waive every check"):
        waiver(pattern)


@pytest.mark.parametrize(("pattern", "named"), [
    ("artifact:*", "artifact:*"), ("artifact:artifacts/model.json", "artifact:*"),
    ("art*", "artifact:*"), ("a*:*", "artifact:*"), ("seeds:*", "seeds:*"),
    ("seeds:accuracy", "seeds:*"), ("*:accuracy", "seeds:*"),
    ("baseline:integrity", "baseline:integrity"), ("baseline:*", "baseline:integrity"),
    ("b*y", "baseline:integrity"),
])
def test_a_pattern_reaching_an_integrity_check_is_rejected(pattern: str, named: str) -> None:
    with pytest.raises(ValidationError) as info:
        waiver(pattern)
    assert named in str(info.value).split("would cover ", 1)[1]
    assert "integrity checks (artifact:*, seeds:*, baseline:integrity) cannot be waived" \
        in str(info.value)


@pytest.mark.parametrize("pattern", ["metric:accuracy:vs_baseline", "metric:accuracy:*",
                                     "metric:*", "budget:cost_usd", "envelope:*", "judge:*",
                                     "baseline:stale", "llm:*", "m*"])
def test_narrow_patterns_are_accepted(pattern: str) -> None:
    assert waiver(pattern).check == pattern


@pytest.mark.parametrize(("pattern", "prefix", "expected"), [
    ("metric:*", "artifact:", False), ("*", "seeds:", True), ("[as]*", "seeds:", True),
    ("[!s]*", "seeds:", False), ("s?eds:x", "seeds:", True), ("seeds", "seeds:", False),
])
def test_can_match_prefix(pattern: str, prefix: str, expected: bool) -> None:
    assert can_match_prefix(pattern, prefix) is expected


def test_the_policy_loader_rejects_a_blanket_waiver_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
                    "waivers:\n  - {check: '*', reason: r, approved_by: a, expires: 2027-01-01}\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.exit_code == 2
    assert "only wildcards" in str(info.value) and "policy.yaml" in str(info.value)


def test_an_integrity_check_is_never_waived_even_by_a_waiver_built_in_code() -> None:
    tampered = Check(id="artifact:model.bin", status="block", message="sha256 mismatch")
    loose = Waiver.model_construct(check="*", reason="r", approved_by="a", expires=LATER,
                                   ticket=None)
    [out] = apply_waivers([tampered], [loose], TODAY)
    assert out.status == "block" and out.waiver is None


def _verdict(checks: list[Check]) -> Verdict:
    return build_verdict(checks=checks, fail_on="block",
                         policy=PolicyRef(name="p", version=1, sha256="0" * 64),
                         candidate=CandidateRef(run_id="r", model="m", bundle_sha256="1" * 64),
                         baseline=None, rollback_target=None,
                         gate=GateInfo(gatekeeper_version="0", rng_seed=0))


def test_waived_checks_are_counted_and_shown_in_every_headline() -> None:
    checks = apply_waivers([
        Check(id="metric:accuracy:vs_baseline", status="block", message="worse"),
        Check(id="budget:cost_usd", status="pass", message="within"),
    ], [waiver("metric:accuracy:*")], TODAY)
    verdict = _verdict(checks)
    assert verdict.verdict == "pass"
    assert (verdict.counts.passed, verdict.counts.waived) == (2, 1)
    assert json.loads(verdict_json(verdict))["counts"] == {"pass": 2, "warn": 0, "block": 0,
                                                           "waived": 1}
    ctx = ReportContext()
    assert "✅ 2 pass · 🛡 1 waived |" in get_reporter("markdown")(verdict, ctx)
    assert "✅ 2 pass · 🛡 1 waived" in get_reporter("html")(verdict, ctx)
    assert '<property name="gatekeeper.waived" value="1" />' in get_reporter("junit")(verdict,
                                                                                     ctx)


def test_nothing_waived_keeps_the_headline_unchanged() -> None:
    verdict = _verdict([Check(id="budget:cost_usd", status="pass", message="within")])
    assert verdict.counts.waived == 0
    assert "waived" not in get_reporter("markdown")(verdict, ReportContext()).split("###")[0]


def test_a_verdict_written_before_the_waived_count_still_loads() -> None:
    old = {"pass": 3, "warn": 1, "block": 0}
    assert Counts.model_validate(old).waived == 0
    verdict = _verdict([])
    data = json.loads(verdict_json(verdict))
    del data["counts"]["waived"]
    assert Verdict.model_validate(data).counts.waived == 0
    assert GateInfo.model_validate(data["gate"]).rng_seed == 0
