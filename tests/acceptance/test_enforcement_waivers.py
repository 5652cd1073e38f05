"""Enforcement levels and waivers through the CLI: the pass bundle against a floor it misses
(accuracy 0.9116 against 0.99)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF, Result

POLICY = """apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: levels, version: 1}
approvers: [alice]
metrics:
  - {metric: accuracy, min: 0.99, enforcement: LEVEL}
"""
LIVE = ("  - {check: 'metric:accuracy:min', reason: known gap, approved_by: alice, "
        "ticket: ML-7, expires: 2026-12-31}\n")


def policy(tmp_path: Path, level: str = "soft", waivers: str = "", extra: str = "") -> Path:
    path = tmp_path / "policy.yaml"
    text = POLICY.replace("LEVEL", level) + extra
    path.write_text(text + (f"waivers:\n{waivers}" if waivers else ""))
    return path


def run(cli: Callable[..., Result], path: Path, fmt: str = "json") -> Result:
    return cli("check", "examples/bundles/pass", "--policy", str(path), "--format", fmt,
               "--as-of", AS_OF)


def checks(res: Result) -> dict[str, Any]:
    return {c["id"]: c for c in json.loads(res.out)["checks"]}


@pytest.mark.parametrize(("level", "code", "status"), [
    ("advisory", 0, "warn"), ("soft", 1, "block"), ("hard", 1, "block")])
def test_enforcement_levels(cli: Callable[..., Result], tmp_path: Path, level: str, code: int,
                            status: str) -> None:
    res = run(cli, policy(tmp_path, level))
    assert res.code == code, res.err
    floor = checks(res)["metric:accuracy:min"]
    assert floor["status"] == status
    if level == "advisory":
        assert floor["original_status"] == "block"
        assert "advisory rule: a failure warns" in floor["notes"]


def test_a_valid_waiver_passes_and_the_text_shows_its_ticket(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    path = policy(tmp_path, waivers=LIVE)
    res = run(cli, path)
    assert res.code == 0, res.err
    floor = checks(res)["metric:accuracy:min"]
    assert floor["status"] == "pass" and floor["waiver"]["ticket"] == "ML-7"
    text = run(cli, path, "text").out
    assert "[waived by alice, ML-7 until 2026-12-31]" in text


def test_an_expired_waiver_covers_nothing(cli: Callable[..., Result], tmp_path: Path) -> None:
    res = run(cli, policy(tmp_path, waivers=LIVE.replace("2026-12-31", "2026-01-01")))
    assert res.code == 1
    found = checks(res)
    assert found["metric:accuracy:min"]["status"] == "block"
    assert found["waiver:0:metric:accuracy:min"]["status"] == "warn"
    assert "waiver:unused" not in found  # expired is said once, as expired


def test_an_unused_waiver_warns_naming_it(cli: Callable[..., Result], tmp_path: Path) -> None:
    unused = LIVE.replace("metric:accuracy:min", "metric:f1:min")
    res = run(cli, policy(tmp_path, waivers=LIVE + unused))
    assert res.code == 0, res.err
    warn = checks(res)["waiver:unused"]
    assert warn["status"] == "warn" and "'metric:f1:min'" in warn["message"]
    assert "ML-7" in warn["message"]


@pytest.mark.parametrize(("level", "waiver", "extra", "message"), [
    ("hard", LIVE, "", "names metric:accuracy:min, whose rule is hard"),
    ("soft", LIVE.replace("ticket: ML-7, ", ""), "", "has no ticket"),
    ("soft", LIVE.replace("alice", "mallory"), "",
     "approved by 'mallory', who is not in the policy's approvers (alice)"),
    # a misspelt family can never match: refused when the policy loads, not silently unused
    ("soft", LIVE.replace("metric:accuracy", "metrics:accuracy"), "",
     "can match no check: did you mean `metric:`?"),
])
def test_waivers_the_policy_refuses(cli: Callable[..., Result], tmp_path: Path, level: str,
                                    waiver: str, extra: str, message: str) -> None:
    res = run(cli, policy(tmp_path, level, waiver, extra))
    assert res.code == 2
    assert message in res.err
    assert "policy.yaml:8:" in res.err  # the waiver's own line, not the top of the file


def test_validate_reports_every_refused_waiver_at_its_line(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    waivers = (LIVE.replace("ticket: ML-7, ", "")
               + LIVE.replace("alice", "mallory").replace("metric:accuracy", "metrics:accuracy"))
    res = cli("policy", "validate", str(policy(tmp_path, "hard", waivers)))
    assert res.code == 2
    lines = res.err.strip().splitlines() or res.out.strip().splitlines()
    found = [(ln.split(": ", 1)[0].rsplit(":", 1)[-1], ln) for ln in lines]
    assert [n for n, _ in found] == ["8", "8", "9", "9"], lines
    for text in ("whose rule is hard", "has no ticket", "did you mean `metric:`",
                 "'mallory', who is not in the policy's approvers"):
        assert sum(text in ln for _, ln in found) == 1, (text, lines)


def test_tickets_can_be_made_optional(cli: Callable[..., Result], tmp_path: Path) -> None:
    res = run(cli, policy(tmp_path, waivers=LIVE.replace("ticket: ML-7, ", ""),
                          extra="waiver_policy: {require_ticket: false}\n"))
    assert res.code == 0, res.err
    assert checks(res)["metric:accuracy:min"]["waiver"]["ticket"] is None


def test_a_hard_budget_cannot_be_waived(cli: Callable[..., Result], tmp_path: Path) -> None:
    res = run(cli, policy(tmp_path, extra=(
        "budgets:\n  - {name: cost_usd, max: 1000, enforcement: hard}\n"), waivers=(
        "  - {check: 'budget:*', reason: r, approved_by: alice, ticket: T-1, "
        "expires: 2026-12-31}\n")))
    assert res.code == 2
    assert "budget:cost_usd, whose rule is hard" in res.err


def test_a_waiver_approver_is_matched_without_regard_to_case(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    res = run(cli, policy(tmp_path, waivers=LIVE.replace("approved_by: alice",
                                                         "approved_by: Alice")))
    assert res.code == 0, res.err  # GitHub logins are case-insensitive
    assert checks(res)["metric:accuracy:min"]["status"] == "pass"
