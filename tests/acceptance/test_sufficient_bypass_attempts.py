"""Hostile review of sufficient statistics (`paired_moments`, `paired_counts`): each test is one
attempt by a pull request's author to get a better verdict from statistics than the same rows
would get, or to crash the gate with odd numbers. The gate must answer as the rows would, or
refuse the statistics with exit 2 and one line naming the field — never a traceback.

The documented limitation (the gate cannot tell that the numbers come from the rows: a smaller
M2 narrows the interval) is not attempted here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml

from tests.acceptance.test_sql_moments import (
    Case,
    N,
    _bundle,
    _comparison,
    _gamma_pair,
    _refused,
    _registry,
)
from tests.conftest import Result


def _worse_case(tmp_path: Path) -> Case:
    # From rows: worse than the margin, so on_fail (block).
    cand, base = _gamma_pair(2.0, 0.02, 0.05, 3)
    return Case(tmp_path, cand, base)


def test_a_max_abs_score_past_float_squares_is_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # (2 * 1e200) ** 2 raised OverflowError inside the run.yaml validator: exit 3.
    case = _worse_case(tmp_path)
    _refused(case.check(cli, case.moments(cli, max_abs_score=1e200)), "max_abs_score")


def test_an_m2_whose_cube_root_underflows_is_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # (M2/n) ** 1.5 underflows to 0.0 for M2 = 1e-300: the skewness divided by zero (exit 3).
    case = _worse_case(tmp_path)
    _refused(case.check(cli, case.moments(cli, m2_difference=1e-300, m3_difference=1e-300)),
             "cannot carry its third moment")


def test_an_m2_whose_cube_root_overflows_is_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # (M2/n) ** 1.5 raised OverflowError for M2 = 1e300 (allowed by max_abs_score = 1e160).
    case = _worse_case(tmp_path)
    res = case.check(cli, case.moments(cli, m2_difference=1e300, m3_difference=1.0,
                                       max_abs_score=1e160))
    _refused(res, "max_abs_score")


def _ranged_policy(case: Case, rng: str) -> Path:
    # The case's policy with a range on the rule.
    text = case.policy.read_text().replace("    higher_is_better: true\n",
                                          f"    higher_is_better: true\n    range: {rng}\n")
    path = case.root / "policy-ranged.yaml"
    path.write_text(text)
    return path


def test_a_max_abs_score_beyond_the_metrics_range_is_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Scores in [0, 1] cannot have |score| = 5e7. An inflated max_abs_score widened the
    # mean-consistency tolerance (1e-9 of it) to 0.05, enough for a mean_difference 0.04 above
    # mean_candidate - mean_baseline: a pass where the rows block.
    case = _worse_case(tmp_path)
    assert _comparison(case.check(cli, case.rows))["status"] == "block"
    row = case.sql_row(cli)
    bundle = case.moments(cli, max_abs_score=5e7,
                          mean_difference=row["mean_difference"] + 0.04)
    _refused(case.check(cli, bundle), "max_abs_score")


def test_a_max_abs_score_beyond_the_rules_range_is_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The same with the range declared only by the policy's rule (the bundle says nothing).
    case = _worse_case(tmp_path)
    row = case.sql_row(cli)
    bundle = case.moments(cli, max_abs_score=5e7,
                          mean_difference=row["mean_difference"] + 0.04)
    _without_range(bundle)
    _refused(case.check(cli, bundle, _ranged_policy(case, "[0, 1]")), "max_abs_score")


def test_an_inflated_max_abs_score_cannot_turn_a_block_into_no_information(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # max_abs_score sets the rounding-noise floor of the spread (1e-12 of it): 1e12 makes any
    # spread "no variance information" (warn) where the rows block.
    case = _worse_case(tmp_path)
    _refused(case.check(cli, case.moments(cli, max_abs_score=1e12)), "max_abs_score")


def _without_range(bundle: Path) -> Path:
    spec_path = bundle / "run.yaml"
    spec_path.write_text(spec_path.read_text().replace("    range:\n    - 0\n    - 1\n", ""))
    assert "range" not in spec_path.read_text()
    return bundle


def test_a_mean_difference_off_the_means_by_an_inflated_tolerance_gets_the_rows_verdict(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # With no range to bound it, max_abs_score = 1e8 widened the mean-consistency tolerance to
    # 0.1 and mean_difference (Δ) moved 0.06 towards the candidate while the two means (shown
    # as observed and baseline) stayed honest: a pass where the rows block. Δ is now the
    # difference of the means.
    case = _worse_case(tmp_path)
    want = _comparison(case.check(cli, case.rows))
    row = case.sql_row(cli)
    bundle = _without_range(case.moments(cli, max_abs_score=1e8,
                                         mean_difference=row["mean_difference"] + 0.06))
    got = _comparison(case.check(cli, bundle))
    assert want["status"] == got["status"] == "block"
    assert got["delta"] == pytest.approx(want["delta"], abs=1e-12)
    assert got["delta"] == pytest.approx(got["observed"] - got["baseline"], abs=1e-12)


def _stats_baseline(case: Case, cli: Callable[..., Result], flattered: float = 0.0) -> Path:
    """A registry whose baseline (run-base) is itself given as paired_moments, honest about its
    own side: the baseline's rows became its candidate side, against an older run (run-old)."""
    row = case.sql_row(cli)
    # The baseline's own statistics: its candidate side is the baseline table.
    own = {**row, "n_candidate": row["n_baseline"], "n_baseline": row["n_candidate"],
           "mean_candidate": row["mean_baseline"], "mean_baseline": row["mean_candidate"],
           "mean_difference": -row["mean_difference"], "m3_difference": -row["m3_difference"],
           "baseline_run_id": "run-old",
           "inputs": [{"name": "old.parquet", "sha256": "0" * 64},
                      {"name": "base.parquet", "sha256": "1" * 64}]}
    base = _bundle(case.root / "base-stats", "run-base", {"paired_moments": own,
                                                         "range": [0, 1]})
    return _registry(base, case.root / "registry-stats")


def _policy_for(case: Case, registry: Path) -> Path:
    path = case.root / "policy-stats.yaml"
    path.write_text(case.policy.read_text().replace(str(case.registry), str(registry)))
    return path


def test_a_flattered_baseline_mean_is_refused_when_the_baseline_is_statistics_too(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The baseline bundle holds no rows, only its own statistics: they still state its mean over
    # every example, so a candidate claiming a lower baseline mean (0.02 lower, the difference
    # raised with it) contradicts them. Unchecked, this turned the rows' block into a pass.
    case = _worse_case(tmp_path)
    policy = _policy_for(case, _stats_baseline(case, cli))
    row = case.sql_row(cli)
    honest = _comparison(case.check(cli, case.moments(cli), policy))
    assert honest["status"] == "block"
    shift = 0.06
    bundle = case.moments(cli, mean_baseline=row["mean_baseline"] - shift,
                          mean_difference=row["mean_difference"] + shift)
    _refused(case.check(cli, bundle, policy), "mean_baseline")


def test_a_baseline_count_that_differs_from_the_baseline_statistics_is_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    case = _worse_case(tmp_path)
    policy = _policy_for(case, _stats_baseline(case, cli))
    _refused(case.check(cli, case.moments(cli, n_baseline=N - 1, n_paired=N - 1), policy),
             "n_baseline")


def test_rows_against_a_baseline_given_as_statistics_are_an_input_error(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Rows cannot be paired with a baseline that has none: exit 2 naming the rule, no crash.
    case = _worse_case(tmp_path)
    res = case.check(cli, case.rows, _policy_for(case, _stats_baseline(case, cli)))
    assert res.code == 2, res.out
    assert res.err.count("\n") == 1 and "rouge" in res.err


def _counts_row(case: Case, cli: Callable[..., Result]) -> dict[str, int]:
    [[row]] = case.query(cli)
    counts = {k: int(v) for k, v in row.items()}
    counts.pop("n_paired")
    return counts


def _inputs() -> list[dict[str, str]]:
    return [{"name": "c.parquet", "sha256": "2" * 64}, {"name": "b.parquet", "sha256": "3" * 64}]


def test_flattered_counts_are_refused_when_the_baseline_is_counts_too(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # 0/1 scores: the baseline bundle is its own paired_counts (its correct = n11 + n10). The
    # candidate moves 40 baseline-only wins into "neither" (n01 -> n00): the baseline looks
    # 40 correct worse, the candidate no worse; consistent counts, a lie the baseline states.
    rng = np.random.default_rng(21)
    base = (rng.random(N) < 0.8).astype(float)
    cand = np.where(rng.random(N) < 0.06, 0.0, base)  # 6% of the baseline's wins lost
    case = Case(tmp_path, cand, base)
    assert _comparison(case.check(cli, case.rows))["status"] == "block"
    row = _counts_row(case, cli)
    own = {**row, "n10": row["n01"], "n01": row["n10"], "n_candidate": row["n_baseline"],
           "n_baseline": row["n_candidate"], "baseline_run_id": "run-old", "inputs": _inputs()}
    registry = _registry(_bundle(tmp_path / "base-counts", "run-base", {"paired_counts": own}),
                         tmp_path / "registry-counts")
    policy = _policy_for(case, registry)
    honest = _bundle(tmp_path / "counts", "run-cand", {"paired_counts": {
        **row, "baseline_run_id": "run-base", "inputs": _inputs()}})
    assert _comparison(case.check(cli, honest, policy))["status"] == "block"
    moved = min(row["n01"], 80)
    lie = _bundle(tmp_path / "counts-lie", "run-cand", {"paired_counts": {
        **row, "n01": row["n01"] - moved, "n00": row["n00"] + moved,
        "baseline_run_id": "run-base", "inputs": _inputs()}})
    _refused(case.check(cli, lie, policy), "(n11 + n01) / n")


def _same_verdict(want: dict[str, Any], got: dict[str, Any]) -> None:
    for key in ("status", "outcome", "method", "n"):
        assert got[key] == want[key], key
    for key in ("delta", "p_value", "mde", "observed", "baseline"):
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), key


def test_two_pairs_with_any_m3_get_the_verdict_of_their_rows(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Below 3 values the skewness is 0 whatever M3 says: a huge M3 at n = 2 neither trips the
    # skewness bound nor changes the interval; the rows' verdict stands.
    case = Case(tmp_path, np.array([0.9, 0.2]), np.array([0.5, 0.5]))
    want = _comparison(case.check(cli, case.rows))
    got = _comparison(case.check(cli, case.moments(cli, m3_difference=1e40)))
    assert want["status"] != "pass"
    _same_verdict(want, got)


def test_equal_differences_give_no_information_from_moments_as_from_rows(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Every difference +0.25: no spread, so no interval — never a pass, from rows or moments,
    # however DuckDB rounds M2 near zero.
    rng = np.random.default_rng(22)
    base = np.round(rng.random(N) * 0.5, 3)
    case = Case(tmp_path, base + 0.25, base)
    want = _comparison(case.check(cli, case.rows))
    got = _comparison(case.check(cli, case.moments(cli)))
    assert want["outcome"] == "no_information" and want["status"] == "warn"
    _same_verdict(want, got)


def test_zero_one_scores_given_as_moments_are_refused(tmp_path: Path,
                                                      cli: Callable[..., Result]) -> None:
    # 0/1 scores get Tango's interval from rows; the paired t the moments get is narrower near
    # the boundary: 5 wins, 1 loss in 100 pairs is inconclusive by Tango (warn) but
    # non-inferior by t (pass). Moments of a metric whose baseline rows are all 0 or 1 are
    # refused: the four counts (paired_counts) carry that comparison.
    base = np.zeros(100)
    base[:47] = 1.0
    cand = base.copy()
    cand[47:52] = 1.0  # 5 candidate-only wins
    cand[0] = 0.0  # 1 baseline-only win
    case = Case(tmp_path, cand, base)
    want = _comparison(case.check(cli, case.rows))
    assert (want["method"], want["status"]) == ("tango", "warn")
    _refused(case.check(cli, case.moments(cli)), "paired_counts")


def test_zero_scores_with_a_negative_zero_max_abs_score_are_refused_as_zero_one(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # -0.0 passes `ge=0`; all-zero scores are 0/1 scores (Tango from rows: a pass), so the
    # moments are refused like any 0/1 moments, not compared by t.
    case = Case(tmp_path, np.zeros(N), np.zeros(N))
    assert _comparison(case.check(cli, case.rows))["method"] == "tango"
    _refused(case.check(cli, case.moments(
        cli, max_abs_score=-0.0, mean_candidate=-0.0, mean_difference=-0.0)), "paired_counts")


def test_moments_with_a_cluster_column_on_the_candidate_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    case = _worse_case(tmp_path)
    bundle = case.moments(cli)
    run = bundle / "run.yaml"
    run.write_text(run.read_text().replace("    range:\n", "    cluster_column: doc\n    range:\n"))
    _refused(case.check(cli, bundle), "cluster_column in the candidate bundle")


def test_a_series_reduce_rule_cannot_take_moments(tmp_path: Path,
                                                  cli: Callable[..., Result]) -> None:
    case = _worse_case(tmp_path)
    policy = case.root / "policy-reduce.yaml"
    policy.write_text(case.policy.read_text().replace(
        "    higher_is_better: true\n", "    higher_is_better: true\n    reduce: final\n"))
    _refused(case.check(cli, case.moments(cli), policy), "reduce: final")


def test_the_largest_scores_the_gate_takes_are_no_crash(tmp_path: Path,
                                                        cli: Callable[..., Result]) -> None:
    # max_abs_score at the 1e50 cap, means and M2 at their bounds: a verdict or an input error,
    # never an overflow.
    case = _worse_case(tmp_path)
    for change in ({"max_abs_score": 1e50, "mean_candidate": 1e50, "mean_baseline": -1e50,
                    "mean_difference": 2e50, "m2_difference": N * 4e100, "m3_difference": 0.0},
                   {"max_abs_score": 1e50, "m2_difference": N * 4e100,
                    "m3_difference": -N * 8e150 * 0.9}):
        res = case.check(cli, _without_range(case.moments(cli, **change)))
        assert res.code in (0, 1, 2), res.err
        assert "Traceback" not in res.err and "unexpected" not in res.err
        if res.code != 2:
            assert _comparison(res)["status"] != "pass"


def test_counts_against_a_baseline_that_is_not_zero_one_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The baseline's rows are ROUGE scores; counts claiming not_binary = 0 would get Tango's
    # interval where the rows get the paired t. The baseline's sum agrees (750 = n11 + n01), so
    # only the shape gives them away.
    base = np.full(N, 0.5)
    cand = np.full(N, 0.5)
    case = Case(tmp_path, cand, base)
    bundle = _bundle(tmp_path / "counts", "run-cand", {"paired_counts": {
        "n11": 750, "n10": 0, "n01": 0, "n00": 750, "n_candidate": N, "n_baseline": N,
        "repeated_ids_candidate": 0, "repeated_ids_baseline": 0, "bad_rows_candidate": 0,
        "bad_rows_baseline": 0, "not_binary": 0, "baseline_run_id": "run-base",
        "inputs": _inputs()}})
    _refused(case.check(cli, bundle), "not all 0 or 1")


def _with_data(bundle: Path, rows: int) -> Path:
    run = bundle / "run.yaml"
    spec = yaml.safe_load(run.read_text())
    spec["data"] = [{"name": "test", "split": "test", "rows": rows}]
    run.write_text(yaml.safe_dump(spec, sort_keys=False))
    return bundle


def test_moments_of_fewer_examples_than_the_eval_set_declares_block(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The run names an eval set of N + 500 rows; a score file of N rows blocks
    # (data:rouge:rows). Statistics over N rows of it are the same evidence left out: with a
    # non-inferior comparison the data check was the only block, and statistics skipped it.
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 1)
    case = Case(tmp_path, cand, base)
    assert _comparison(case.check(cli, case.moments(cli)))["status"] == "pass"
    rows_res = case.check(cli, _with_data(case.rows, N + 500))
    rows_checks = {c["id"]: c for c in json.loads(rows_res.out)["checks"]}
    assert rows_checks["data:rouge:rows"]["status"] == "block"
    res = case.check(cli, _with_data(case.moments(cli), N + 500))
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    assert res.code == 1 and rows_res.code == 1
    assert checks["data:rouge:rows"]["status"] == "block"
    ok = case.check(cli, _with_data(case.moments(cli), N))
    assert {c["id"]: c for c in json.loads(ok.out)["checks"]}["data:rouge:rows"][
        "status"] == "pass"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "junit", "model-card"])
def test_every_report_renders_a_moments_comparison_as_its_rows_verdict(
        tmp_path: Path, cli: Callable[..., Result], fmt: str) -> None:
    # A verdict from moments must read as that verdict in every report, and a reviewer reading
    # only the comment or the HTML must see that it came from statistics, not rows: a pass
    # from statistics said so only in text output and verdict.json.
    for seed, scale_b, code in ((1, 0.02, 0), (3, 0.05, 1)):
        cand, base = _gamma_pair(2.0, 0.02, scale_b, seed)
        case = Case(tmp_path / str(seed), cand, base)
        res = cli("check", str(case.moments(cli)), "--policy", str(case.policy), "--format",
                  fmt, "--as-of", "2026-11-26")
        assert res.code == code, res.err
        assert "Traceback" not in res.err and "rouge" in res.out
        # JUnit shows messages of failures only; the model card shows no check messages.
        if fmt != "model-card" and not (fmt == "junit" and code == 0):
            assert "from paired_moments, not rows" in res.out.replace("\\_", "_")


def test_lower_is_better_moments_get_the_verdict_of_their_rows(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The orientation (which side is a loss, the sign of the skewness guard) is the rows'.
    cand, base = _gamma_pair(2.0, 0.05, 0.02, 3)  # the candidate's scores are higher: worse
    case = Case(tmp_path, cand, base)
    policy = case.root / "policy-lower.yaml"
    policy.write_text(case.policy.read_text().replace("higher_is_better: true",
                                                      "higher_is_better: false"))
    want = _comparison(case.check(cli, case.rows, policy))
    got = _comparison(case.check(cli, case.moments(cli), policy))
    assert want["status"] == "block"
    _same_verdict(want, got)


def test_the_mean_query_with_schema_qualified_names_gives_every_field_a_bundle_needs(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Dotted names and other column names run in a real DuckDB; the row holds exactly the
    # fields of paired_moments the engine computes (the rest are the producer's: the baseline
    # run id, the inputs' hashes, the query's).
    from gatekeeper.models.run import PairedMoments

    res = cli("sql", "--metric", "rouge", "--kind", "mean", "--candidate", "evals.cand_v2",
              "--baseline", "evals.base_v1", "--id-column", "example_id", "--score-column",
              "rouge_l")
    assert res.code == 0, res.err
    con = duckdb.connect()
    con.execute("CREATE SCHEMA evals")
    for table, shift in (("cand_v2", 0.01), ("base_v1", 0.0)):
        con.execute(f"CREATE TABLE evals.{table} AS SELECT i AS example_id, "
                    f"(i % 7) / 7.0 + {shift} AS rouge_l FROM range(100) t(i)")
    cur = con.execute(res.out)
    [row] = cur.fetchall()
    got = dict(zip([d[0] for d in cur.description], row, strict=True))
    producer = {"baseline_run_id", "inputs", "query_sha256"}
    assert set(got) == set(PairedMoments.model_fields) - producer
    pm = PairedMoments(**got, baseline_run_id="run-base", inputs=_inputs())
    assert pm.n_paired == 100 and pm.mean_difference == pytest.approx(0.01)
    assert pm.m2_difference == pytest.approx(0.0, abs=1e-20)


def test_odd_names_for_the_query_are_refused_in_one_line(cli: Callable[..., Result]) -> None:
    res = cli("sql", "--metric", "rouge", "--kind", "mean", "--candidate",
              "cand; DROP TABLE base")
    assert res.code == 2 and res.out == ""
    assert res.err.count("\n") == 1 and "--candidate" in res.err


@pytest.mark.parametrize(("seed", "scale_b"), [(1, 0.02), (3, 0.05)], ids=["pass", "block"])
def test_the_ladder_releases_moments_as_it_releases_rows(
        tmp_path: Path, cli: Callable[..., Result], seed: int, scale_b: float) -> None:
    # Under release: ladder, a comparison from moments gets the rows' verdict and releases no
    # more than the rows' (nothing exact: Δ, interval and values withheld or on the step).
    cand, base = _gamma_pair(2.0, 0.02, scale_b, seed)
    case = Case(tmp_path, cand, base)
    policy = case.root / "policy-ladder.yaml"
    policy.write_text(case.policy.read_text()
                      + "leaderboard: {release: ladder, ladder_step: 0.01}\n")
    released = []
    for bundle in (case.rows, case.moments(cli)):
        res = case.check(cli, _with_data(bundle, N), policy)
        assert res.code in (0, 1), res.err
        released.append({c["id"]: c for c in json.loads(res.out)["checks"]}[
            "metric:rouge:vs_baseline"])
    want, got = released
    assert got["status"] == want["status"]
    for key in ("delta", "observed", "baseline", "p_value", "ci", "mde"):
        assert got[key] == want[key], key
    assert got["p_value"] is None and got["message"] == want["message"]
    assert not any("paired_moments" in n for n in got["notes"])


@pytest.mark.parametrize("shape", [{"value": 0.3}, {"replicates": [0.3, 0.31, 0.29]}],
                         ids=["value", "replicates"])
def test_moments_against_a_baseline_without_paired_examples_are_refused(
        tmp_path: Path, cli: Callable[..., Result], shape: dict[str, Any]) -> None:
    # A baseline that gives the metric as one value (or replicates) has no examples to pair
    # with: rows cannot be paired with it (exit 2), and moments claiming a mean_baseline of
    # their own choosing (0.3, far below the truth) must not be either.
    case = _worse_case(tmp_path)
    base = _bundle(tmp_path / "base-value", "run-base", {**shape, "range": [0, 1]})
    policy = _policy_for(case, _registry(base, tmp_path / "registry-value"))
    rows = case.check(cli, case.rows, policy)
    assert rows.code == 2, rows.out
    row = case.sql_row(cli)
    lie = case.moments(cli, mean_baseline=0.3,
                       mean_difference=row["mean_candidate"] - 0.3)
    _refused(case.check(cli, lie, policy), "rouge")


def test_one_unpaired_baseline_example_does_not_free_mean_baseline(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Under missing: drop, the baseline's mean was checked only when every baseline example was
    # paired: claiming one unpaired let mean_baseline drop by 0.06 (a pass where the rows
    # block). Whichever example is left out, the mean of the other N - 1 lies within the bounds
    # the baseline rows give (the sum without the largest, without the smallest score).
    case = Case(tmp_path, *_gamma_pair(2.0, 0.02, 0.05, 3), rule=", missing: drop")
    assert _comparison(case.check(cli, case.rows))["status"] == "block"
    row = case.sql_row(cli)
    lie = case.moments(cli, n_paired=N - 1, n_candidate=N - 1,
                       mean_baseline=row["mean_baseline"] - 0.06,
                       mean_difference=row["mean_difference"] + 0.06)
    _refused(case.check(cli, lie), "mean_baseline")
    honest = case.moments(cli, n_paired=N - 1, n_candidate=N - 1)
    assert _comparison(case.check(cli, honest))["status"] == "block"


def test_one_unpaired_baseline_example_does_not_free_the_baseline_counts(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The same with 0/1 scores: with one baseline example unpaired, the baseline's correct
    # among the pairs (n11 + n01) is its bundle's correct, or one fewer.
    rng = np.random.default_rng(21)
    base = (rng.random(N) < 0.8).astype(float)
    cand = np.where(rng.random(N) < 0.06, 0.0, base)
    case = Case(tmp_path, cand, base, rule=", missing: drop")
    row = _counts_row(case, cli)
    moved = min(row["n01"], 80)
    lie = _bundle(tmp_path / "counts-lie", "run-cand", {"paired_counts": {
        **row, "n01": row["n01"] - moved, "n00": row["n00"] + moved - 1,
        "n_candidate": N - 1, "baseline_run_id": "run-base", "inputs": _inputs()}})
    _refused(case.check(cli, lie), "correct")


def test_one_unpaired_example_does_not_free_mean_baseline_against_baseline_statistics(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The same step around the check when the baseline is itself statistics: its mean over all
    # N examples and its max_abs_score bound the mean of any N - 1 of them.
    case = Case(tmp_path, *_gamma_pair(2.0, 0.02, 0.05, 3), rule=", missing: drop")
    policy = _policy_for(case, _stats_baseline(case, cli))
    row = case.sql_row(cli)
    lie = case.moments(cli, n_paired=N - 1, n_candidate=N - 1,
                       mean_baseline=row["mean_baseline"] - 0.06,
                       mean_difference=row["mean_difference"] + 0.06)
    _refused(case.check(cli, lie, policy), "mean_baseline")
    honest = case.moments(cli, n_paired=N - 1, n_candidate=N - 1)
    assert _comparison(case.check(cli, honest, policy))["status"] == "block"


@pytest.mark.parametrize("n", [10**400, 2**63 - 1], ids=["401 digits", "int64 max"])
def test_counts_past_any_eval_set_are_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result], n: int) -> None:
    # A 401-digit n_paired would overflow int-to-float in the skewness (exit 3): the YAML
    # reader refuses integers past int64 first. At int64's largest the model holds, and the
    # baseline bundle's row count refuses it.
    case = _worse_case(tmp_path)
    bundle = case.moments(cli, n_paired=n, n_candidate=n, n_baseline=n)
    _refused(case.check(cli, bundle), "" if n > 2**63 else "n_baseline")


def test_moments_against_baseline_statistics_that_declare_clusters_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The baseline's own statistics say its examples come in clusters (cluster_column): the
    # rows would get the wider cluster-robust interval, so plain moments cannot stand in.
    case = _worse_case(tmp_path)
    registry = _stats_baseline(case, cli)
    run = registry / "summarizer" / "versions" / "1" / "run.yaml"
    run.write_text(run.read_text().replace("    range:\n", "    cluster_column: doc\n    range:\n"))
    base = _registry(registry / "summarizer" / "versions" / "1", tmp_path / "registry-clustered")
    _refused(case.check(cli, case.moments(cli), _policy_for(case, base)),
             "cluster_column in the baseline bundle")


@pytest.mark.parametrize("order", ["moments-vs-rows", "rows-vs-moments", "moments-vs-moments"])
def test_compare_with_moments_is_a_comparison_or_one_line_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result], order: str) -> None:
    # `gatekeeper compare A B` (no registry, informational, exit 0) takes no statistics: each
    # order says the metric is not comparable, in the JSON, never a traceback or a number.
    case = _worse_case(tmp_path)
    base = case.root / "base"
    moments = case.moments(cli)
    a, b = {"moments-vs-rows": (moments, base), "rows-vs-moments": (case.rows, moments),
            "moments-vs-moments": (moments, moments)}[order]
    res = cli("compare", str(a), str(b), "--format", "json")
    assert res.code == 0 and res.err == ""
    [metric] = json.loads(res.out)["metrics"]
    assert metric["metric"] == "rouge" and "paired_moments" in metric["error"]
    assert "delta" not in metric


def _rekeyed_worst(tmp_path: Path) -> tuple[Case, float]:
    """The candidate's worst 2% (30 zeros) re-keyed to ids the baseline lacks, and a floor
    between the mean of all its examples (0.588) and the mean over the pairs (0.600)."""
    rng = np.random.default_rng(30)
    base = np.round(rng.uniform(0.4, 0.8, N), 3)
    cand = base.copy()
    cand[N - 30:] = 0.0
    case = Case(tmp_path, cand, base, rule=", missing: drop")
    text = case.cand_csv.read_text().splitlines()
    rekeyed = [text[0]] + [(f"{int(line.split(',')[0]) + 10**6},{line.split(',')[1]}"
                            if int(line.split(",")[0]) >= N - 30 else line)
                           for line in text[1:]]
    case.cand_csv.write_text("\n".join(rekeyed) + "\n")
    (case.rows / "scores" / "rouge.csv").write_text("\n".join(rekeyed) + "\n")
    return case, round(float(cand.mean()) + 0.007, 3)


def test_a_floor_counts_the_candidates_unpaired_examples_from_moments_as_from_rows(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # A floor judges the mean of every candidate example; moments give the mean over the pairs
    # only. Re-keying the worst 2% of the candidate's examples so they find no partner kept
    # them out of the floor: rows block, moments passed. With examples unpaired, the floor
    # now judges the worst mean they allow.
    case, floor = _rekeyed_worst(tmp_path)
    policy = case.root / "policy-floor.yaml"
    policy.write_text(case.policy.read_text().replace(
        "    higher_is_better: true\n", f"    higher_is_better: true\n    min: {floor}\n"))
    checks = {c["id"]: c for c in json.loads(case.check(cli, case.rows, policy).out)["checks"]}
    assert checks["metric:rouge:min"]["status"] == "block"
    row = case.sql_row(cli)
    assert row["n_candidate"] - row["n_paired"] == 30 and row["mean_candidate"] > floor
    res = case.check(cli, case.moments(cli), policy)
    got = {c["id"]: c for c in json.loads(res.out)["checks"]}
    assert got["metric:rouge:min"]["status"] == "block"


def test_a_budget_on_the_metric_counts_the_unpaired_examples_too(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The same step around a budget that names the metric (budgets: [{name: rouge, min: ...}]).
    case, floor = _rekeyed_worst(tmp_path)
    policy = case.root / "policy-budget.yaml"
    policy.write_text(case.policy.read_text() + f"budgets:\n  - {{name: rouge, min: {floor}}}\n")
    checks = {c["id"]: c for c in json.loads(case.check(cli, case.rows, policy).out)["checks"]}
    assert checks["budget:rouge"]["status"] == "block"
    res = case.check(cli, case.moments(cli), policy)
    got = {c["id"]: c for c in json.loads(res.out)["checks"]}
    assert got["budget:rouge"]["status"] == "block"


def test_a_shrunk_max_abs_score_is_refused_with_baseline_examples_unpaired(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # max_abs_score sets the rounding-noise floor of the spread; it was held against the
    # baseline rows only when all were paired. With k unpaired, the pairs still hold the
    # baseline's (k+1)-th largest |score| at least.
    case = Case(tmp_path, *_gamma_pair(2.0, 0.02, 0.02, 9), rule=", missing: drop")
    row = case.sql_row(cli)
    shrunk = max(abs(row["mean_candidate"]), abs(row["mean_baseline"])) * 1.000001
    bundle = case.moments(cli, n_paired=N - 1, n_candidate=N - 1, max_abs_score=shrunk)
    _refused(case.check(cli, bundle), "max_abs_score")


def test_scores_at_1e_117_get_a_verdict_from_rows_and_moments_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Differences of 1e-117: (M2/n)^1.5 underflows to 0 and the rows' skewness divided by
    # zero (exit 3). The rows now get their verdict (the skewness taken in units of the
    # spread: the guard holds); moments cannot carry that skewness (an engine's sum of cubed
    # deviations underflows to 0, which would step around the guard), so they are refused.
    # (The baseline is not all 0/1: that would call for counts.)
    cand = np.zeros(50)
    base = np.zeros(50)
    base[::7] = 1.8251993849683944e-117
    case = Case(tmp_path, cand, base)
    want = _comparison(case.check(cli, case.rows))
    assert want["status"] == "warn" and any("skewed" in n for n in want["notes"])
    _refused(case.check(cli, case.moments(cli)), "cannot carry its third moment")
