"""A team that wants a false "improved", or more answers from the eval set than the reuse
budget allows, through the CLI with a policy that has a ``leaderboard:`` section. Each attempt
is kept as a test: what it tried, and what the gate answered."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.acceptance.test_leaderboard import (
    _exact_values,
    _forms,
    bundle_copy,
    by_id,
    check_json,
    edit_run,
    setup,
)
from tests.conftest import AS_OF, Result

BUDGET = {"max_decisions": 1, "on_exceed": "block"}
LADDER = {"release": "ladder", "ladder_step": 0.01}


def _spend(cli: Callable[..., Result], policy: Path) -> None:
    """One earlier decision on the demo eval set: the budget of one is spent."""
    check_json(cli, "examples/bundles/warn", policy)


def _reuse(cli: Callable[..., Result], bundle: Path | str, policy: Path,
           *extra: str) -> dict[str, Any]:
    return by_id(check_json(cli, bundle, policy, *extra))["leaderboard:reuse"]


def _secrets(cli: Callable[..., Result], tmp_path: Path, bundle: Path | str,
             extra: dict[str, Any] | None = None) -> list[float]:
    """The exact values the Ladder must not release (those finer than its step)."""
    exact = check_json(cli, bundle, setup(tmp_path / "exact", None, extra))
    return [v for v in _exact_values(exact) if abs(v * 100 - round(v * 100)) > 1e-6]


def _leaks(text: str, secrets: list[float]) -> list[str]:
    return [form for value in secrets for form in _forms(value) if form in text]


# --- dodging the budget ----------------------------------------------------------------------

def test_a_new_bundle_sha_each_time_spends_the_budget(cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r["params"].update(nonce=1))
    assert _reuse(cli, bundle, policy)["status"] == "block"


def test_another_model_name_is_the_same_eval_set(cli: Callable[..., Result],
                                                 tmp_path: Path) -> None:
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r.update(model="sentiment-clf-2"))
    res = cli("check", str(bundle), "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF)
    reuse = by_id(json.loads(res.out))["leaderboard:reuse"]
    assert reuse["status"] == "block" and reuse["observed"] == 1
    assert res.code == 1


def test_a_second_test_entry_does_not_start_a_fresh_count(cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    """Adding a dummy test file changes the set's sha256, but the spent file is still in it."""
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r["data"].append(
        {"name": "extra", "uri": "s3://x/extra.parquet", "sha256": "e" * 64, "split": "test"}))
    reuse = _reuse(cli, bundle, policy)
    assert reuse["status"] == "block" and reuse["observed"] == 1, reuse["message"]


def test_an_odd_spelling_of_the_split_is_still_the_eval_set(cli: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    for i, split in enumerate(("TEST", " test", "Test ")):
        bundle = bundle_copy(tmp_path, "pass", f"b{i}")
        edit_run(bundle, lambda r, s=split: r["data"][1].update(split=s))
        assert _reuse(cli, bundle, policy)["status"] == "block", split


def test_an_odd_split_under_another_model_name_is_still_the_eval_set(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    """No baseline to recognise the sha256 by: the split's spelling alone must do."""
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: (r.update(model="renamed"), r["data"][1].update(split=" Test")))
    reuse = _reuse(cli, bundle, policy)
    assert reuse["status"] == "block" and reuse["observed"] == 1, reuse["message"]


def test_naming_no_eval_set_cannot_pass_the_budget(cli: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    policy = setup(tmp_path, {**BUDGET, **LADDER})
    _spend(cli, policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r.update(data=[e for e in r["data"] if e["name"] != "eval"]))
    res = cli("check", str(bundle), "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF)
    checks = by_id(json.loads(res.out))
    assert checks["leaderboard:reuse"]["status"] == "block"
    assert "cannot be counted" in checks["leaderboard:reuse"]["message"]
    assert res.code == 1


def test_naming_no_eval_set_under_warn_releases_only_verdicts(cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    """A decision that cannot be counted answers like one over the budget: verdicts only,
    or dropping the entry would buy unlimited Ladder answers for a warning."""
    policy = setup(tmp_path, {"max_decisions": 1, "on_exceed": "warn", **LADDER})
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r.update(data=[e for e in r["data"] if e["name"] != "eval"]))
    checks = by_id(check_json(cli, bundle, policy))
    assert checks["leaderboard:reuse"]["status"] == "warn"
    c = checks["metric:exact_match:vs_baseline"]
    assert c["delta"] is None and c["outcome"] is None, c["message"]
    assert "only the verdict is released" in c["message"]


def test_a_future_created_at_does_not_leave_the_window(cli: Callable[..., Result],
                                                       tmp_path: Path) -> None:
    """The window is judged on the time the ledger stamps, never on what run.yaml says."""
    policy = setup(tmp_path, {**BUDGET, "window_days": 30})
    _spend(cli, policy)
    bundle = bundle_copy(tmp_path, "pass")
    edit_run(bundle, lambda r: r.update(created_at="2099-12-31T00:00:00Z"))
    assert _reuse(cli, bundle, policy)["status"] == "block"


def test_an_as_of_in_the_past_still_counts_later_decisions(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    policy = setup(tmp_path, {**BUDGET, "window_days": 1})
    _spend(cli, policy)
    assert _reuse(cli, "examples/bundles/pass", policy, "--as-of", "2000-01-01")[
        "status"] == "block"


def test_an_empty_registry_loses_the_baseline_too(cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    """``--registry`` at an empty folder empties the default ledger, and with it the
    baseline: the comparison has nothing to compare with and the gate does not pass."""
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    empty = tmp_path / "empty"
    empty.mkdir()
    res = cli("check", "examples/bundles/pass", "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF, "--registry", f"file:{empty}")
    verdict = json.loads(res.out)
    assert verdict["verdict"] != "pass"
    assert by_id(verdict)["metric:exact_match:vs_baseline"]["outcome"] != "improved"


def test_a_named_ledger_ignores_the_registry_flag(cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    policy = setup(tmp_path, {**BUDGET, "ledger": f"file:{ledger}"})
    _spend(cli, policy)
    empty = tmp_path / "empty"
    empty.mkdir()
    res = cli("check", "examples/bundles/pass", "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF, "--registry", f"file:{tmp_path / 'registry'}")
    assert by_id(json.loads(res.out))["leaderboard:reuse"]["status"] == "block"


def test_omitting_parent_run_id_does_not_hide_a_claimed_sweep(cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    policy = setup(tmp_path, {})
    winner = bundle_copy(tmp_path, "pass", "winner")
    edit_run(winner, lambda r: (r.pop("parent_run_id", None), r.update(sweep={"trials": 40})))
    c = by_id(check_json(cli, winner, policy))["metric:exact_match:vs_baseline"]
    assert any("k = 40" in n for n in c["notes"]), c["notes"]
    assert c["confidence"] > 0.998


# --- leaking exact values under release: ladder -----------------------------------------------

def test_no_leak_through_registry_eval_usage(cli: Callable[..., Result],
                                             tmp_path: Path) -> None:
    secrets = _secrets(cli, tmp_path, "examples/bundles/pass")
    policy = setup(tmp_path, LADDER)
    check_json(cli, "examples/bundles/pass", policy)
    for fmt in ("text", "json"):
        res = cli("registry", "eval-usage", "--registry", f"file:{tmp_path / 'registry'}",
                  "--format", fmt)
        assert res.code == 0 and not _leaks(res.out, secrets), fmt
    ledger = "".join(p.read_text() for p in (tmp_path / "registry" / ".ledger").iterdir())
    assert not _leaks(ledger, secrets)


def test_no_leak_through_a_waiver_or_a_budget_or_rows_check(cli: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    """A waived comparison, a latency budget and the data:rows check sit beside the metric:
    none of them may carry its exact value."""
    extra = {"waivers": [{"check": "metric:exact_match:vs_baseline", "reason": "flaky",
                          "approved_by": "lead", "ticket": "T-1", "expires": "2099-01-01"}],
             "budgets": [{"name": "exact_match", "max": 0.999, "on_exceed": "warn",
                          "vs_baseline": {"max_ratio": 1.5}},
                         {"name": "accuracy", "min": 0.5, "on_exceed": "warn"}]}
    secrets = _secrets(cli, tmp_path, "examples/bundles/block", extra)
    assert secrets
    policy = setup(tmp_path, LADDER, extra)
    for fmt in ("json", "text", "markdown", "junit", "html", "model-card"):
        res = cli("check", "examples/bundles/block", "--policy", str(policy), "--format", fmt,
                  "--as-of", AS_OF)
        assert res.code in (0, 1), res.err
        assert not _leaks(res.out, secrets), fmt
    checks = by_id(check_json(cli, "examples/bundles/block", policy))
    assert checks["budget:exact_match"]["message"] == (
        "exact_match: budget (release: ladder): passes (only the verdict is released)")
    assert checks["budget:exact_match:vs_baseline"]["delta"] is None
    assert checks["metric:exact_match:vs_baseline"]["waiver"] is not None


def test_no_leak_when_the_per_example_ids_do_not_match(cli: Callable[..., Result],
                                                       tmp_path: Path) -> None:
    """Missing and unmatched example ids would say which examples the pairing saw."""
    bundle = bundle_copy(tmp_path, "pass")
    scores = bundle / "scores" / "exact_match.csv"
    lines = scores.read_text().splitlines()
    scores.write_text("\n".join([*lines[:-40], *(f"zz-{i},1" for i in range(40))]) + "\n")
    secrets = _secrets(cli, tmp_path, bundle)
    exact = cli("check", str(bundle), "--policy", str(setup(tmp_path / "x", None)),
                "--format", "json", "--as-of", AS_OF)
    assert "zz-1" in exact.out  # released exactly, the pairing names the ids it left out
    policy = setup(tmp_path, LADDER)
    for fmt in ("json", "text", "markdown", "junit", "html"):
        res = cli("check", str(bundle), "--policy", str(policy), "--format", fmt,
                  "--as-of", AS_OF)
        assert res.code in (0, 1, 2), res.err
        assert not _leaks(res.out, secrets), fmt
        assert "zz-1" not in res.out, fmt


def test_a_ladder_release_is_never_a_false_improved_from_rounding(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    """The released Δ is a multiple of the step and the outcome improved only on a step."""
    rules = {"metrics": [{"metric": "exact_match", "higher_is_better": True,
                          "vs_baseline": {"require": "superior"}}]}
    policy = setup(tmp_path, {"release": "ladder", "ladder_step": 0.5}, rules)
    c = by_id(check_json(cli, "examples/bundles/pass", policy))[
        "metric:exact_match:vs_baseline"]
    assert c["outcome"] != "improved" and c["status"] != "pass"
    assert yaml.safe_dump(c).count("0.5") >= 1


def test_no_leak_through_the_github_summary_outputs_or_annotations(
        cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--github`` writes the step summary, the step outputs, annotations on stdout and the
    comment file: each is built from the released checks."""
    secrets = _secrets(cli, tmp_path, "examples/bundles/warn")
    assert secrets
    policy = setup(tmp_path, LADDER)
    for key in list(os.environ):
        if key.startswith(("GITHUB_", "GATEKEEPER_GITHUB")):
            monkeypatch.delenv(key)
    event = tmp_path / "event.json"
    event.write_text("{}")
    for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push",
                       "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "a/b",
                       "GITHUB_SHA": "1" * 40, "GITHUB_RUN_ID": "7",
                       "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
                       "GITHUB_OUTPUT": str(tmp_path / "output.txt")}.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    res = cli("check", "examples/bundles/warn", "--policy", str(policy), "--github",
              "--as-of", AS_OF, "--output-dir", str(out))
    assert res.code == 0, res.err
    texts = {"stdout": res.out, "stderr": res.err,
             "summary": (tmp_path / "summary.md").read_text(),
             "outputs": (tmp_path / "output.txt").read_text(),
             **{p.name: p.read_text() for p in out.iterdir()}}
    assert "exact_match" in texts["summary"] and "comment.md" in texts
    for name, text in texts.items():
        assert not _leaks(text, secrets), name


def test_a_curve_gated_only_by_a_budget_is_not_drawn(cli: Callable[..., Result],
                                                    tmp_path: Path) -> None:
    """A budget on a series metric gates it as a metric rule does: its curve (and the final
    value the curve prints) is withheld under the Ladder too."""
    bundle = bundle_copy(tmp_path, "pass")
    (bundle / "scores" / "eval_acc.csv").write_text(
        "step,value\n" + "".join(f"{s},{0.5 + s * 0.0012345:.7f}\n" for s in range(1, 40)))
    edit_run(bundle, lambda r: r["metrics"].update(eval_acc={"series": "scores/eval_acc.csv"}))
    rules = {"budgets": [{"name": "eval_acc", "min": 0.1, "on_exceed": "warn"}]}
    secret = f"{0.5 + 39 * 0.0012345:.4f}"
    shown = cli("check", str(bundle), "--policy", str(setup(tmp_path / "x", {}, rules)),
                "--format", "html", "--as-of", AS_OF)
    assert secret in shown.out
    laddered = setup(tmp_path, LADDER, rules)
    for fmt in ("html", "markdown", "json", "text", "model-card"):
        res = cli("check", str(bundle), "--policy", str(laddered), "--format", fmt,
                  "--as-of", AS_OF)
        assert res.code in (0, 1), res.err
        assert secret not in res.out, fmt


# --- shrinking the sweep ---------------------------------------------------------------------

SUPERIOR = {"metrics": [{"metric": "exact_match", "higher_is_better": True,
                         "vs_baseline": {"require": "superior"}}]}


def _gate_trials(cli: Callable[..., Result], tmp_path: Path, policy: Path, n: int,
                 change: Callable[[dict[str, Any], int], None]) -> None:
    for i in range(n):
        bundle = bundle_copy(tmp_path, "warn", f"trial{i}")
        edit_run(bundle, lambda r, i=i: (r["params"].update(trial=i), change(r, i)))
        check_json(cli, bundle, policy)


def test_one_run_id_for_every_trial_does_not_shrink_the_sweep(cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    """Trials are told apart by bundle too: reusing one run id for all of them hides none."""
    policy = setup(tmp_path, {}, SUPERIOR)
    _gate_trials(cli, tmp_path, policy, 12,
                 lambda r, i: r.update(run_id="trial", parent_run_id="sweep-7"))
    winner = bundle_copy(tmp_path, "pass", "winner")
    edit_run(winner, lambda r: r.update(run_id="trial", parent_run_id="sweep-7"))
    c = by_id(check_json(cli, winner, policy))["metric:exact_match:vs_baseline"]
    assert any("best of k = 13 trials" in n for n in c["notes"]), c["notes"]


def test_omitting_parent_run_id_leaves_the_trials_in_the_reuse_count(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    """The limitation, kept honest: without ``parent_run_id`` the gate cannot tell a sweep's
    winner from a lone run (k = 1). The trials it gated still spend the eval set's budget, and
    under the Ladder α is already spread over the whole budget, sweeps included."""
    policy = setup(tmp_path, {"max_decisions": 10, "on_exceed": "block", **LADDER}, SUPERIOR)
    _gate_trials(cli, tmp_path, policy, 10, lambda r, i: r.update(run_id=f"t{i}"))
    winner = bundle_copy(tmp_path, "pass", "winner")
    checks = by_id(check_json(cli, winner, policy))
    assert checks["leaderboard:reuse"]["status"] == "block"
    assert checks["leaderboard:reuse"]["observed"] == 10
    c = checks["metric:exact_match:vs_baseline"]
    assert c["outcome"] is None and "only the verdict is released" in c["message"]


def test_a_copied_registry_without_its_ledger_shows_which_ledger_counted(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    """``--registry`` at a copy of the registry without its ledger finds the baseline and an
    empty ledger: the count restarts (the ledger belongs off the PR's checkout, docs say),
    and the check names the ledger it read, so the reviewer sees the swap."""
    policy = setup(tmp_path, BUDGET)
    _spend(cli, policy)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "registry", copy, ignore=shutil.ignore_patterns(".ledger"))
    reuse = _reuse(cli, "examples/bundles/pass", policy, "--registry", f"file:{copy}")
    assert reuse["observed"] == 0
    assert f"in ledger file:{copy}" in reuse["message"]
    home = _reuse(cli, "examples/bundles/pass", policy)
    assert f"in ledger file:{tmp_path / 'registry'}" in home["message"]


def test_a_budget_on_a_sealed_metric_releases_only_its_verdict(cli: Callable[..., Result],
                                                               tmp_path: Path) -> None:
    policy = setup(tmp_path, {"sealed": ["eval"]},
                   {"budgets": [{"name": "exact_match", "max": 0.999, "on_exceed": "warn"}]})
    bundle = bundle_copy(tmp_path, "block")
    edit_run(bundle, lambda r: r["metrics"]["exact_match"].update(data="eval"))
    c = by_id(check_json(cli, bundle, policy))["budget:exact_match"]
    assert c["message"] == ("exact_match: budget on a sealed holdout: passes (only the verdict "
                            "is released)")
    assert c["observed"] is None and c["notes"] == []
