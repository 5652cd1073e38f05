"""The leaderboard guard through the CLI: the usage ledger, the reuse budget, the Ladder
release in every output format, sealed holdouts, and the attempts of a PR author to get a
pass past them (each kept as a test)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import AS_OF, EXAMPLES, POLICIES, Result

FORMATS = ("text", "json", "markdown", "html", "junit", "model-card")


def setup(tmp_path: Path, leaderboard: dict[str, Any] | None,
          extra: dict[str, Any] | None = None) -> Path:
    """A private copy of the demo registry and the default policy naming it."""
    registry = tmp_path / "registry"
    if not registry.exists():
        shutil.copytree(EXAMPLES / "registry", registry)
    policy = yaml.safe_load((POLICIES / "default.yaml").read_text())
    policy["baseline"]["registry"] = f"file:{registry}"
    if leaderboard is not None:
        policy["leaderboard"] = leaderboard
    policy.update(extra or {})
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def bundle_copy(tmp_path: Path, name: str, dest: str | None = None) -> Path:
    out = tmp_path / (dest or name)
    shutil.copytree(EXAMPLES / "bundles" / name, out)
    return out


def edit_run(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    run = yaml.safe_load((bundle / "run.yaml").read_text())
    change(run)
    (bundle / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))


def check_json(cli: Callable[..., Result], bundle: Path | str, policy: Path,
               *extra: str) -> dict[str, Any]:
    res = cli("check", str(bundle), "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF, *extra)
    assert res.code in (0, 1), res.err
    data: dict[str, Any] = json.loads(res.out)
    return data


def by_id(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in verdict["checks"]}


def usage(cli: Callable[..., Result], policy_dir: Path, *extra: str) -> dict[str, Any]:
    res = cli("registry", "eval-usage", "--registry", f"file:{policy_dir / 'registry'}",
              "--format", "json", *extra)
    assert res.code == 0, res.err
    data: dict[str, Any] = json.loads(res.out)
    return data


# --- recording -------------------------------------------------------------------------------

def test_a_policy_without_the_section_records_nothing(cli: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    policy = setup(tmp_path, None)
    verdict = check_json(cli, "examples/bundles/warn", policy)
    assert not any(c["id"].startswith("leaderboard:") for c in verdict["checks"])
    assert not (tmp_path / "registry" / ".ledger").exists()
    assert usage(cli, tmp_path)["decisions"] == []


def test_each_decision_is_recorded_and_listed(cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    policy = setup(tmp_path, {"max_decisions": 10})
    for name in ("pass", "warn", "block"):
        check_json(cli, f"examples/bundles/{name}", policy)
    listed = usage(cli, tmp_path)
    decisions = listed["decisions"]
    assert [d["verdict"] for d in decisions] == ["pass", "warn", "block"]
    assert {d["model"] for d in decisions} == {"sentiment-clf"}
    eval_sha = yaml.safe_load((EXAMPLES / "bundles/pass/run.yaml").read_text())["data"][1][
        "sha256"]
    assert all(d["data"] == [eval_sha] and d["role"] == "public" for d in decisions)
    assert listed["eval_sets"] == {decisions[0]["eval_set"]: 3}
    # --data takes the eval set's sha256 or an entry's, or a prefix; --model filters.
    assert len(usage(cli, tmp_path, "--data", eval_sha[:10])["decisions"]) == 3
    assert len(usage(cli, tmp_path, "--data", decisions[0]["eval_set"])["decisions"]) == 3
    assert usage(cli, tmp_path, "--data", "0" * 12)["decisions"] == []
    assert usage(cli, tmp_path, "--model", "other")["decisions"] == []
    text = cli("registry", "eval-usage", "--registry", f"file:{tmp_path / 'registry'}")
    assert "run-cand-block\tblock" in text.out
    assert f"eval set {decisions[0]['eval_set'][:12]}: 3 decisions" in text.out


def test_a_bad_data_filter_is_an_input_error(cli: Callable[..., Result],
                                             tmp_path: Path) -> None:
    res = cli("registry", "eval-usage", "--registry", f"file:{tmp_path}", "--data", "xyz")
    assert res.code == 2
    assert "--data 'xyz'" in res.err


# --- the reuse budget ------------------------------------------------------------------------

@pytest.mark.parametrize(("on_exceed", "code"), [("warn", 0), ("block", 1)])
def test_over_budget_warns_or_blocks(cli: Callable[..., Result], tmp_path: Path,
                                     on_exceed: str, code: int) -> None:
    policy = setup(tmp_path, {"max_decisions": 2, "on_exceed": on_exceed})
    seen = []
    for i in range(3):
        bundle = bundle_copy(tmp_path, "pass", f"b{i}")
        edit_run(bundle, lambda r, i=i: r.update(run_id=f"try-{i}"))
        res = cli("check", str(bundle), "--policy", str(policy), "--format", "json",
                  "--as-of", AS_OF)
        seen.append((res.code, by_id(json.loads(res.out))["leaderboard:reuse"]))
    assert [s[1]["status"] for s in seen] == ["pass", "pass", on_exceed]
    assert seen[0][1]["observed"] == 0 and seen[2][1]["observed"] == 2
    assert "within the reuse budget of 2 (2 left)" in seen[0][1]["message"]
    assert "over the reuse budget of 2" in seen[2][1]["message"]
    assert "refresh the eval set or seal a holdout" in seen[2][1]["message"]
    assert seen[2][0] == code


def test_rerunning_one_bundle_does_not_spend_the_budget(cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    """The same bundle gets the same answer: it leaks nothing new, so it counts once."""
    policy = setup(tmp_path, {"max_decisions": 1, "on_exceed": "block"})
    for _ in range(3):
        verdict = check_json(cli, "examples/bundles/pass", policy)
        assert by_id(verdict)["leaderboard:reuse"]["status"] == "pass"
    assert len(usage(cli, tmp_path)["decisions"]) == 3


def test_the_window_forgets_old_decisions(cli: Callable[..., Result], tmp_path: Path) -> None:
    policy = setup(tmp_path, {"max_decisions": 1, "window_days": 30, "on_exceed": "block"})
    check_json(cli, "examples/bundles/warn", policy)
    later = cli("check", "examples/bundles/pass", "--policy", str(policy), "--format", "json",
                "--as-of", "2099-01-01")
    assert by_id(json.loads(later.out))["leaderboard:reuse"]["status"] == "pass"
    now = check_json(cli, "examples/bundles/pass", policy)
    assert by_id(now)["leaderboard:reuse"]["status"] == "block"


# --- the Ladder ------------------------------------------------------------------------------

LEAKY = ("delta", "observed", "baseline", "p_value", "mde")


def _forms(x: float) -> set[str]:
    """How a number may be printed by one of the reporters."""
    out = {f"{x:+.4f}", f"{x:.4f}", f"{x:.4g}", f"{x:+.4g}", f"{x:.3f}", f"{x:.3g}",
           json.dumps(x), f"{x * 100:.2f}%", f"{x * 100:.1f}%"}
    return {f for f in out if re.search(r"[1-9]", f)}


def _exact_values(verdict: dict[str, Any]) -> list[float]:
    values: list[float] = []
    for cid in ("metric:exact_match:vs_baseline", "metric:accuracy:min"):
        c = by_id(verdict)[cid]
        values += [c[k] for k in LEAKY if isinstance(c.get(k), float)]
        values += list(c.get("ci") or [])
    return values


def _outputs(cli: Callable[..., Result], bundle: str, policy: Path, tmp: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for fmt in FORMATS:
        res = cli("check", bundle, "--policy", str(policy), "--format", fmt, "--as-of", AS_OF)
        assert res.code in (0, 1), res.err
        out[fmt] = res.out
    files = tmp / "files"
    cli("check", bundle, "--policy", str(policy), "--output-dir", str(files), "--as-of", AS_OF)
    out.update({p.name: p.read_text() for p in sorted(files.iterdir()) if p.is_file()})
    return out


@pytest.mark.parametrize("bundle", ["pass", "warn", "block"])
def test_ladder_output_leaks_no_exact_value_in_any_format(
        cli: Callable[..., Result], tmp_path: Path, bundle: str) -> None:
    exact = check_json(cli, f"examples/bundles/{bundle}", setup(tmp_path / "x", None))
    policy = setup(tmp_path, {"release": "ladder", "ladder_step": 0.01})
    laddered = check_json(cli, f"examples/bundles/{bundle}", policy)
    released = by_id(laddered)["metric:exact_match:vs_baseline"]
    for key in ("delta", "observed", "baseline"):
        value = released[key]
        assert value is None or abs(value / 0.01 - round(value / 0.01)) < 1e-9, (key, value)
    assert released["p_value"] is None
    assert released["mde"] is None or abs(released["mde"] / 0.01
                                          - round(released["mde"] / 0.01)) < 1e-9
    shown = {round(v, 6) for c in laddered["checks"] for v in
             [*(c.get(k) for k in LEAKY), *(c.get("ci") or [])] if isinstance(v, float)}
    # Values finer than the step are what the Ladder must not release (a p-value of 1.0 or a
    # value on the step says nothing more than the step does).
    secrets = [v for v in _exact_values(exact)
               if round(v, 6) not in shown and abs(v * 100 - round(v * 100)) > 1e-6]
    assert secrets, "the exact run must have values to keep secret"
    outputs = _outputs(cli, f"examples/bundles/{bundle}", policy, tmp_path)
    assert set(outputs) >= {"text", "json", "markdown", "html", "junit", "model-card",
                            "verdict.json"}
    for fmt, text in outputs.items():
        for value in secrets:
            for form in _forms(value):
                assert form not in text, (fmt, value, form)


def test_ladder_reports_improved_only_on_a_full_step(cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    rules = {"metrics": [{"metric": "exact_match", "higher_is_better": True,
                          "vs_baseline": {"require": "superior"}}]}
    exact = by_id(check_json(cli, "examples/bundles/pass", setup(tmp_path / "x", None, rules)))
    assert exact["metric:exact_match:vs_baseline"]["outcome"] == "improved"
    lower = exact["metric:exact_match:vs_baseline"]["ci"][0]
    # A step above the interval's lower end: the same evidence is no longer an improvement.
    step = round(lower + 0.01, 2)
    laddered = by_id(check_json(cli, "examples/bundles/pass", setup(
        tmp_path, {"release": "ladder", "ladder_step": step}, rules)))
    c = laddered["metric:exact_match:vs_baseline"]
    assert c["outcome"] == "not_improved" and c["status"] == "warn"
    assert c["delta"] is None and c["ci"] is None
    assert "withheld (release: ladder" in c["message"]


# --- sealed holdouts -------------------------------------------------------------------------

def test_a_sealed_holdout_shows_the_verdict_only(cli: Callable[..., Result],
                                                 tmp_path: Path) -> None:
    policy = setup(tmp_path, {"sealed": ["eval"]})
    # The score file names the data entry it was scored on: that is what seals it.
    bundle = bundle_copy(tmp_path, "block")
    edit_run(bundle, lambda r: r["metrics"]["exact_match"].update(data="eval"))
    verdict = check_json(cli, bundle, policy)
    c = by_id(verdict)["metric:exact_match:vs_baseline"]
    assert c["status"] == "block"
    assert c["message"] == "exact_match: sealed holdout: blocks (only the verdict is released)"
    for key in ("delta", "ci", "observed", "baseline", "p_value", "mde", "outcome", "n"):
        assert c[key] is None, key
    assert c["notes"] == []
    sealed = by_id(verdict)["leaderboard:sealed"]
    assert "counted apart" in sealed["message"]
    assert by_id(verdict)["leaderboard:reuse"]["status"] == "pass"
    records = usage(cli, tmp_path)["decisions"]
    assert [r["role"] for r in records] == ["sealed"]
    card = cli("check", str(bundle), "--policy", str(policy), "--format",
               "model-card", "--as-of", AS_OF).out
    assert "## Eval-set usage" in card
    assert "`leaderboard:sealed`: sealed holdout" in card and "earlier decisions (counted apart" \
        in card


# --- attempts to get a pass ------------------------------------------------------------------

def test_renaming_the_eval_split_does_not_escape_the_count(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    policy = setup(tmp_path, {"max_decisions": 1, "on_exceed": "block"})
    check_json(cli, "examples/bundles/warn", policy)
    bundle = bundle_copy(tmp_path, "pass")

    def rename(run: dict[str, Any]) -> None:
        for entry in run["data"]:
            if entry["name"] == "eval":
                entry["split"] = "train"
        for spec in run["metrics"].values():
            spec.pop("data", None)
    edit_run(bundle, rename)
    verdict = check_json(cli, bundle, policy)
    reuse = by_id(verdict)["leaderboard:reuse"]
    # The baseline (from the registry, out of the PR's reach) records that sha256 as a test
    # split: it is the same eval set.
    assert reuse["status"] == "block" and reuse["observed"] == 1
    assert verdict["verdict"] == "block"


def test_a_sweep_claiming_one_trial_is_adjusted_for_the_siblings_the_registry_knows(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    rules = {"metrics": [{"metric": "exact_match", "higher_is_better": True,
                          "vs_baseline": {"require": "superior"}}]}
    policy = setup(tmp_path, {}, rules)
    # 40 trials of one sweep were gated on this eval set before (the ledger knows them).
    for i in range(40):
        bundle = bundle_copy(tmp_path, "warn", f"trial{i}")
        edit_run(bundle, lambda r, i=i: r.update(run_id=f"trial-{i}", parent_run_id="sweep-7"))
        check_json(cli, bundle, policy)
    winner = bundle_copy(tmp_path, "pass", "winner")
    edit_run(winner, lambda r: r.update(parent_run_id="sweep-7", sweep={"trials": 1}))
    c = by_id(check_json(cli, winner, policy))["metric:exact_match:vs_baseline"]
    assert any("best of k = 41 trials" in n and "run.yaml claims 1" in n for n in c["notes"])
    assert c["confidence"] > 0.998
    alone = bundle_copy(tmp_path, "pass", "alone")
    plain = by_id(check_json(cli, alone, policy))["metric:exact_match:vs_baseline"]
    assert plain["confidence"] == 0.95
    assert c["ci"][0] < plain["ci"][0]  # the winner's interval is wider: the selection counts


def test_a_sweep_claim_larger_than_the_registry_knows_wins(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    policy = setup(tmp_path, {})
    winner = bundle_copy(tmp_path, "pass", "winner")
    edit_run(winner, lambda r: r.update(sweep={"trials": 40}))
    c = by_id(check_json(cli, winner, policy))["metric:exact_match:vs_baseline"]
    assert any("best of k = 40 trials" in n and "sidak adjustment over k = 40" in n
               for n in c["notes"])


def test_a_trivially_edited_eval_file_starts_a_fresh_count_and_says_so(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    """The limitation, kept honest: a changed sha256 is a new eval set to the ledger. The
    check says that the baseline was scored on another eval set, so a reviewer sees it."""
    policy = setup(tmp_path, {"max_decisions": 1, "on_exceed": "block"})
    check_json(cli, "examples/bundles/warn", policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r["data"][1].update(sha256="f" * 64))
    reuse = by_id(check_json(cli, bundle, policy))["leaderboard:reuse"]
    assert reuse["status"] == "pass" and reuse["observed"] == 0
    assert "the baseline was scored on eval set" in reuse["message"]
    assert "starts a fresh count" in reuse["message"]


def test_a_typo_in_the_section_is_an_input_error_with_a_suggestion(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    policy = setup(tmp_path, {"max_decision": 5})
    res = cli("check", "examples/bundles/pass", "--policy", str(policy), "--as-of", AS_OF)
    assert res.code == 2
    assert "unknown field in leaderboard: 'max_decision' (did you mean 'max_decisions'?)" \
        in res.err
    assert "policy.yaml:" in res.err
    both = setup(tmp_path, {"max_decision": 5, "relase": "ladder"})
    res = cli("policy", "validate", str(both))
    assert res.code == 2
    assert ("unknown fields in leaderboard: 'max_decision' (did you mean 'max_decisions'?), "
            "'relase' (did you mean 'release'?)") in res.out
    assert "Traceback" not in res.err


def test_no_ledger_anywhere_is_an_input_error(cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    policy = setup(tmp_path, {"max_decisions": 5})
    data = yaml.safe_load(policy.read_text())
    del data["baseline"]
    data["metrics"] = [m for m in data["metrics"] if "vs_baseline" not in m]
    policy.write_text(yaml.safe_dump(data))
    res = cli("check", "examples/bundles/pass", "--policy", str(policy), "--as-of", AS_OF)
    assert res.code == 2
    assert "leaderboard" in res.err and "ledger" in res.err


def test_the_shipped_example_keeps_its_ledger_off_the_checkout(cli: Callable[..., Result]) -> None:
    res = cli("policy", "validate", "examples/policies/leaderboard.yaml")
    assert res.code == 0, res.out
    policy = yaml.safe_load((EXAMPLES / "policies" / "leaderboard.yaml").read_text())
    assert policy["leaderboard"]["ledger"].startswith("mlflow+https://")
    workflow = (EXAMPLES / "workflows" / "pr-gate.yml").read_text()
    assert "policy: policies/leaderboard.yaml" in workflow
    assert "MLFLOW_TRACKING_TOKEN: ${{ secrets.MLFLOW_TRACKING_TOKEN }}" in workflow


def test_past_the_budget_the_ladder_releases_only_verdicts(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    policy = setup(tmp_path, {"release": "ladder", "max_decisions": 1, "on_exceed": "warn"})
    check_json(cli, "examples/bundles/warn", policy)
    checks = by_id(check_json(cli, "examples/bundles/pass", policy))
    assert checks["leaderboard:reuse"]["status"] == "warn"
    for cid in ("metric:exact_match:vs_baseline", "metric:accuracy:min"):
        c = checks[cid]
        assert c["message"].endswith("over the reuse budget: passes (only the verdict is "
                                     "released)"), c["message"]
        assert c["delta"] is None and c["observed"] is None and c["outcome"] is None


def test_policy_unit_tests_record_nothing(cli: Callable[..., Result], tmp_path: Path) -> None:
    """A case of `gatekeeper test` is not a decision: it must not spend the budget."""
    (tmp_path / "pol").mkdir()
    policy = setup(tmp_path / "pol", {"max_decisions": 1, "on_exceed": "block"})
    cases = tmp_path / "pol" / "tests"
    cases.mkdir()
    for i in range(2):
        (cases / f"c{i}.yaml").write_text(yaml.safe_dump({
            "bundle": str(EXAMPLES / "bundles" / "pass"), "policy": str(policy),
            "as_of": AS_OF, "expect": {"verdict": "pass",
                                       "checks": {"leaderboard:reuse": "pass"}}}))
    res = cli("test", str(tmp_path / "pol"))
    assert res.code == 0, res.out + res.err
    assert "2 passed, 0 failed" in res.out
    assert not (tmp_path / "pol" / "registry" / ".ledger").exists()


def test_a_gated_curve_is_not_drawn_under_the_ladder(cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    bundle = bundle_copy(tmp_path, "pass")
    (bundle / "scores" / "eval_acc.csv").write_text(
        "step,value\n" + "".join(f"{s},{0.5 + s * 0.0012345:.7f}\n" for s in range(1, 40)))
    edit_run(bundle, lambda r: r["metrics"].update(
        eval_acc={"series": "scores/eval_acc.csv"}))
    rules = {"metrics": [{"metric": "eval_acc", "reduce": "final", "min": 0.1}]}
    secret = f"{0.5 + 39 * 0.0012345:.4f}"
    exact = setup(tmp_path / "x", {}, rules)
    shown = cli("check", str(bundle), "--policy", str(exact), "--format", "html",
                "--as-of", AS_OF)
    assert secret in shown.out  # the curve and its final value, when released exactly
    laddered = setup(tmp_path, {"release": "ladder"}, rules)
    for fmt in ("html", "markdown", "json", "text"):
        res = cli("check", str(bundle), "--policy", str(laddered), "--format", fmt,
                  "--as-of", AS_OF)
        assert res.code in (0, 1), res.err
        assert secret not in res.out, fmt
