"""`gatekeeper check` end to end on bundles that try to look better than their evidence.

Each case starts from a demo bundle and changes one thing: a self-reported latency, a single
value for five seeds, score files that do not cover the same examples, a waiver that would
cover everything.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import AS_OF, EXAMPLES, ROOT, Result

POLICY = "policies/default.yaml"


def _edit_run(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = bundle / "run.yaml"
    run = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(run)
    path.write_text(yaml.safe_dump(run, sort_keys=False), encoding="utf-8")


def _checks(res: Result) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads(res.out)["checks"]}


def test_a_self_reported_p95_does_not_replace_the_traces(cli: Callable[..., Result],
                                                         tmp_path: Path) -> None:
    bundle = tmp_path / "over-budget"
    shutil.copytree(EXAMPLES / "llm" / "bundles" / "over-budget", bundle)
    _edit_run(bundle, lambda r: r["metrics"].update({"latency_p95_ms": {"value": 100}}))
    res = cli("check", str(bundle), "--policy", "policies/llm-app.yaml", "--format", "json",
              "--as-of", AS_OF)
    assert res.code == 1, res.err
    lat = _checks(res)["budget:latency_p95_ms"]
    assert lat["status"] == "block"
    assert "the run reports latency_p95_ms = 100 as a metric" in lat["message"]
    assert "it is 2852" in lat["message"]  # the traces' Harrell-Davis p95
    assert lat["observed"] > 2500


def test_one_value_for_five_seeds_is_not_a_clean_pass(cli: Callable[..., Result],
                                                      demo_copy: Callable[[str], Path]) -> None:
    bundle = demo_copy("pass")
    _edit_run(bundle, lambda r: r["metrics"].update({"accuracy": {"value": 0.93}}))
    res = cli("check", str(bundle), "--policy", POLICY, "--format", "json", "--as-of", AS_OF)
    assert res.code == 0, res.err
    assert json.loads(res.out)["verdict"] == "warn"
    seeds = _checks(res)["replicates:accuracy"]
    assert seeds["status"] == "warn" and "one value of accuracy for 5 seeds" in seeds["message"]


def _rewrite_scores(bundle: Path, keep: Callable[[str, str], str | None]) -> None:
    path = bundle / "scores" / "exact_match.csv"
    head, *rows = path.read_text(encoding="utf-8").splitlines()
    out = [head]
    for row in rows:
        ident, score = row.split(",")
        new = keep(ident, score)
        if new is not None:
            out.append(f"{new},{score}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_scores_on_a_different_eval_set_are_an_input_error(
        cli: Callable[..., Result], demo_copy: Callable[[str], Path]) -> None:
    bundle = demo_copy("pass")
    _rewrite_scores(bundle, lambda ident, _score: "other-" + ident)
    res = cli("check", str(bundle), "--policy", POLICY, "--as-of", AS_OF)
    assert res.code == 2
    assert "metric 'exact_match': no example ids in common" in res.err
    assert "pass/scores/exact_match.csv" in res.err and "scores/exact_match.csv)" in res.err


def test_dropping_the_failed_examples_does_not_pass(cli: Callable[..., Result],
                                                    demo_copy: Callable[[str], Path]) -> None:
    """Every example the candidate failed is dropped: each counts as a failure again, so the
    comparison is exactly the one of the full score file."""
    honest = demo_copy("pass")
    honest = honest.rename(honest.parent / "honest")
    bundle = demo_copy("pass")
    _rewrite_scores(bundle, lambda ident, score: ident if score == "1" else None)
    before, after = (_checks(cli("check", str(b), "--policy", POLICY, "--format", "json",
                                 "--as-of", AS_OF))["metric:exact_match:vs_baseline"]
                     for b in (honest, bundle))
    assert (after["delta"], after["ci"], after["status"]) == (
        before["delta"], before["ci"], before["status"])
    assert after["notes"][0].endswith("is scored as a failure (0, the worst value of the "
                                      "metric) — missing: fail")


def test_removing_40_failed_rows_no_longer_turns_a_warn_into_a_pass(
        cli: Callable[..., Result], demo_copy: Callable[[str], Path]) -> None:
    """The reproduction from the issue: 40 of 2,000 rows the candidate failed removed from the
    warn demo turned Δ 0 (inconclusive) into a pass with Δ +0.0204. Now the comparison is the
    one of the full file, and the score file no longer matches the eval set's declared rows."""
    whole = demo_copy("warn")
    whole = whole.rename(whole.parent / "whole")
    full = cli("check", str(whole), "--policy", POLICY, "--format", "json", "--as-of", AS_OF)
    bundle = demo_copy("warn")
    left = [40]

    def drop_forty(ident: str, score: str) -> str | None:
        if score == "0" and left[0] > 0:
            left[0] -= 1
            return None
        return ident

    _rewrite_scores(bundle, drop_forty)
    assert left[0] == 0
    dropped = cli("check", str(bundle), "--policy", POLICY, "--format", "json", "--as-of", AS_OF)
    before, after = (_checks(r)["metric:exact_match:vs_baseline"] for r in (full, dropped))
    assert json.loads(full.out)["verdict"] == "warn"
    assert json.loads(dropped.out)["verdict"] == "block"
    rows = _checks(dropped)["data:exact_match:rows"]
    assert rows["status"] == "block" and "1,960 examples" in rows["message"]
    assert "declares rows: 2,000 (fewer)" in rows["message"]
    assert after["delta"] == before["delta"] == 0.0
    assert after["ci"] == before["ci"] and after["status"] == "warn"
    assert after["notes"][0].startswith("40 of 2,000 baseline examples have no candidate score")


def _policy_with_waiver(tmp_path: Path, pattern: str) -> Path:
    policy = yaml.safe_load((ROOT / POLICY).read_text(encoding="utf-8"))
    policy["baseline"]["registry"] = f"file:{EXAMPLES / 'registry'}"
    policy["waivers"] = [{"check": pattern, "reason": "known flake", "approved_by": "alice",
                          "ticket": "ML-1", "expires": "2026-12-31"}]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return path


def test_blanket_and_integrity_waivers_are_rejected(cli: Callable[..., Result],
                                                    demo_copy: Callable[[str], Path],
                                                    tmp_path: Path) -> None:
    bundle = demo_copy("pass")
    model = bundle / "artifacts" / "model.json"
    model.write_text(model.read_text().replace("bias", "bia5"))
    for pattern, words in (("*", "only wildcards"), ("artifact:*", "cannot be waived")):
        res = cli("check", str(bundle), "--policy", str(_policy_with_waiver(tmp_path, pattern)),
                  "--as-of", AS_OF)
        assert res.code == 2, res.out
        assert words in res.err and "waivers[0]" in res.err


def test_a_waived_check_shows_in_the_headline(cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    policy = str(_policy_with_waiver(tmp_path, "metric:exact_match:vs_baseline"))
    res = cli("check", "examples/bundles/warn", "--policy", policy, "--format", "json",
              "--as-of", AS_OF)
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["verdict"] == "pass" and data["counts"]["waived"] == 1
    res = cli("check", "examples/bundles/warn", "--policy", policy, "--format", "markdown",
              "--as-of", AS_OF)
    assert "· 🛡 1 waived |" in res.out
