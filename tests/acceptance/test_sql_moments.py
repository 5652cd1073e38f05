"""A bundle carrying `paired_moments` (the row `gatekeeper sql --kind mean` computes, run here by
a real DuckDB) gets the verdict its rows get; statistics that could narrow the interval, or that
disagree with the baseline bundle the gate can read, are refused (exit 2, one line)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml

from gatekeeper.inputs.bundle import load_bundle
from tests.conftest import Result

AS_OF = "2026-11-26"
N = 1500
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _scores(path: Path, ids: np.ndarray, scores: np.ndarray, docs: np.ndarray | None = None
            ) -> None:
    head = "id,score" + (",doc" if docs is not None else "")
    rows = [f"{i},{float(s)!r}" + (f",{docs[k]}" if docs is not None else "")
            for k, (i, s) in enumerate(zip(ids, scores, strict=True))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([head, *rows]) + "\n")


def _bundle(root: Path, run_id: str, metric: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    run = {"schema": "gatekeeper.run/v1", "run_id": run_id, "model": "summarizer",
           "seeds": [0], "code": {"commit": COMMIT}, "metrics": {"rouge": metric}}
    (root / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    return root


def _registry(baseline: Path, root: Path) -> Path:
    version = root / "summarizer" / "versions" / "1"
    shutil.copytree(baseline, version)
    loaded = load_bundle(version)
    index = {"schema": "gatekeeper.registry/v1", "model": "summarizer", "revision": 1,
             "versions": [{"version": "1", "run_id": loaded.run.run_id,
                           "created_at": "2026-11-01T00:00:00Z", "verdict": "pass",
                           "archived": False, "tags": {}, "bundle_sha256": loaded.sha256()}],
             "aliases": {"production": "1"}, "alias_history": []}
    (root / "summarizer" / "index.json").write_text(json.dumps(index))
    return root


def _policy(path: Path, registry: Path, rule: str = "") -> Path:
    path.write_text(f"""apiVersion: gatekeeper/v1
kind: Policy
metadata: {{name: moments, version: 1}}
baseline: {{registry: "file:{registry}", model: summarizer, alias: production}}
metrics:
  - metric: rouge
    higher_is_better: true
    vs_baseline: {{confidence: 0.95, margin: 0.01, require: non_inferior{rule}}}
    on_fail: block
    on_inconclusive: warn
""")
    return path


class Case:
    """A candidate and a registry baseline scored on the same examples, as rows."""

    def __init__(self, root: Path, candidate: np.ndarray, baseline: np.ndarray,
                 base_docs: np.ndarray | None = None, rule: str = "",
                 cand_docs: np.ndarray | None = None) -> None:
        rng = np.random.default_rng(11)
        ids = np.arange(candidate.size)
        self.cand_csv, self.base_csv = root / "c" / "rouge.csv", root / "b" / "rouge.csv"
        perm = rng.permutation(ids.size)  # paired by id, not by row order
        _scores(self.cand_csv, ids[perm], candidate[perm],
                cand_docs[perm] if cand_docs is not None else None)
        _scores(self.base_csv, ids, baseline, base_docs)
        base_metric: dict[str, Any] = {"per_example": "scores/rouge.csv", "range": [0, 1]}
        if base_docs is not None:
            base_metric["cluster_column"] = "doc"
        base = _bundle(root / "base", "run-base", base_metric)
        (base / "scores").mkdir()
        shutil.copy(self.base_csv, base / "scores" / "rouge.csv")
        self.registry = _registry(base, root / "registry")
        self.rows = _bundle(root / "rows", "run-cand",
                            {"per_example": "scores/rouge.csv", "range": [0, 1],
                             **({"cluster_column": "doc"} if cand_docs is not None else {})})
        (self.rows / "scores").mkdir()
        shutil.copy(self.cand_csv, self.rows / "scores" / "rouge.csv")
        self.policy = _policy(root / "policy.yaml", self.registry, rule)
        self.root = root

    def query(self, cli: Callable[..., Result], *sql_args: str) -> list[list[dict[str, Any]]]:
        """`gatekeeper sql --metric rouge SQL_ARGS` run by DuckDB on the case's two CSVs: the
        rows of each statement it prints."""
        res = cli("sql", "--metric", "rouge", *sql_args)
        assert res.code == 0, res.err
        con = duckdb.connect()
        for name, csv in (("candidate", self.cand_csv), ("baseline", self.base_csv)):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{csv}', header=true)")
        out = []
        for statement in (q for q in res.out.split(";") if q.strip("\n -")):
            cur = con.execute(statement)
            names = [d[0] for d in cur.description]
            out.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
        return out

    def sql_row(self, cli: Callable[..., Result]) -> dict[str, Any]:
        [[row]] = self.query(cli, "--kind", "mean")
        return row

    def moments(self, cli: Callable[..., Result], **change: Any) -> Path:
        row = self.sql_row(cli)
        stats = {k: (int(v) if isinstance(v, int) else float(v)) for k, v in row.items()}
        stats = {"baseline_run_id": "run-base", **stats, **change,
                 "inputs": [{"name": p.name, "rows": N,
                             "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                            for p in (self.cand_csv, self.base_csv)]}
        return _bundle(self.root / "moments", "run-cand",
                       {"paired_moments": stats, "range": [0, 1]})

    def check(self, cli: Callable[..., Result], bundle: Path, policy: Path | None = None
              ) -> Result:
        return cli("check", str(bundle), "--policy", str(policy or self.policy), "--format",
                   "json", "--as-of", AS_OF)


def _comparison(res: Result) -> dict[str, Any]:
    assert res.code in (0, 1), res.err
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    found: dict[str, Any] = checks["metric:rouge:vs_baseline"]
    return found


KEYS = ("status", "outcome", "method", "delta", "ci", "n", "p_value", "mde", "baseline",
        "observed", "threshold")


def _gamma_pair(shape: float, scale_c: float, scale_b: float, seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = np.clip(rng.beta(5, 3, N), 0, 1)
    noise = rng.gamma(shape, scale_c, N) - rng.gamma(shape, scale_b, N)
    return np.clip(base + noise, 0, 1), base


@pytest.mark.parametrize(("seed", "scale_b", "status"),
                         [(1, 0.02, "pass"), (2, 0.025, "warn"), (3, 0.05, "block")],
                         ids=["non-inferior", "inconclusive", "worse"])
def test_moments_get_the_verdict_of_their_rows(tmp_path: Path, cli: Callable[..., Result],
                                                 seed: int, scale_b: float, status: str) -> None:
    cand, base = _gamma_pair(2.0, 0.02, scale_b, seed)
    case = Case(tmp_path, cand, base)
    want = _comparison(case.check(cli, case.rows))
    got = _comparison(case.check(cli, case.moments(cli)))
    assert want["status"] == status
    for key in KEYS:
        if isinstance(want[key], float):
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), key
        elif key == "ci":
            assert got[key] == pytest.approx(want[key], rel=1e-9), key
        else:
            assert got[key] == want[key], key
    assert any("paired_moments" in note for note in got["notes"])


def test_a_skew_towards_losses_gives_no_verdict_from_moments_as_from_rows(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Rare large losses: the skewness guard refuses a pass from rows; the moments carry the
    # same skewness (M3), so they cannot be used to step around it.
    rng = np.random.default_rng(5)
    base = np.full(N, 0.5)
    cand = base + 0.004
    losers = rng.choice(N, 3, replace=False)
    cand[losers] = 0.0
    case = Case(tmp_path, cand, base)
    want = _comparison(case.check(cli, case.rows))
    got = _comparison(case.check(cli, case.moments(cli)))
    assert want["status"] != "pass" and got["status"] == want["status"]
    assert got["method"] == want["method"] and got["outcome"] == want["outcome"]
    assert any("skewed" in note for note in got["notes"])


def _refused(res: Result, message: str) -> None:
    assert res.code == 2, res.out
    assert message in res.err, res.err
    assert res.err.count("\n") == 1 and "Traceback" not in res.err


@pytest.mark.parametrize(("change", "message"), [
    ({"baseline_run_id": "run-old"}, "computed against run 'run-old', but the baseline is run "
                                     "'run-base'"),
    ({"repeated_ids_candidate": 2}, "rows a bundle would refuse: repeated_ids_candidate = 2"),
    ({"m2_difference": -1.0}, "m2_difference"),
    ({"m2_difference": float("nan")}, "m2_difference"),
    ({"n_paired": 0}, "no paired examples"),
    ({"n_candidate": 10}, "more pairs than rows"),
    ({"mean_difference": 0.5}, "is not mean_candidate - mean_baseline"),
    ({"m3_difference": 1e9}, "beyond the"),
], ids=["another baseline", "repeated ids", "negative M2", "NaN", "no pairs", "too many pairs",
        "inconsistent means", "impossible skewness"])
def test_moments_the_gate_cannot_trust_are_input_errors(
        tmp_path: Path, cli: Callable[..., Result], change: dict[str, Any], message: str) -> None:
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 7)
    case = Case(tmp_path, cand, base)
    _refused(case.check(cli, case.moments(cli, **change)), message)


def test_a_flattered_baseline_mean_is_refused_by_the_baseline_bundle(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Lowering the baseline's mean (and the difference with it) makes the candidate look better
    # and keeps the statistics consistent; the baseline bundle's own rows give it away.
    cand, base = _gamma_pair(2.0, 0.02, 0.04, 8)
    case = Case(tmp_path, cand, base)
    row = case.sql_row(cli)
    shift = 0.02
    bundle = case.moments(cli, mean_baseline=row["mean_baseline"] - shift,
                          mean_difference=row["mean_difference"] + shift)
    res = case.check(cli, bundle)
    _refused(res, "is not the mean of the baseline bundle's 1,500 scores")
    # The baseline's own mean is not released by the refusal (the Ladder's rule).
    assert repr(row["mean_baseline"])[:8] not in res.err and "not shown" in res.err


def test_a_shrunk_max_abs_score_is_refused(tmp_path: Path, cli: Callable[..., Result]) -> None:
    # The largest |score| sets the rounding-noise floor of the spread; a smaller one than the
    # baseline rows hold is a number the rows contradict.
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 9)
    case = Case(tmp_path, cand, base)
    row = case.sql_row(cli)
    top = float(max(np.abs(base).max(), np.abs(cand).max()))
    bundle = case.moments(cli, max_abs_score=max(abs(row["mean_candidate"]),
                                                 abs(row["mean_baseline"])) * 1.000001)
    assert top > max(abs(row["mean_candidate"]), abs(row["mean_baseline"]))
    _refused(case.check(cli, bundle), "max_abs_score")


def test_moments_for_clustered_examples_are_refused(tmp_path: Path,
                                                    cli: Callable[..., Result]) -> None:
    # From rows, clustered examples get the cluster-robust interval, which is wider; moments
    # without the clusters would narrow it.
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 10)
    docs = np.arange(N) // 50
    case = Case(tmp_path, cand, base, base_docs=docs)
    assert _comparison(case.check(cli, case.rows))["method"] == "cluster-t"
    _refused(case.check(cli, case.moments(cli)),
             "the cluster-robust interval needs the rows with their clusters")


@pytest.mark.parametrize(("rule", "message"), [
    (", method: bootstrap", "give only the paired t interval"),
    (", require_full_overlap: true, missing: drop", "requires full overlap"),
], ids=["another method", "full overlap"])
def test_a_rule_moments_cannot_serve_is_refused(tmp_path: Path, cli: Callable[..., Result],
                                                rule: str, message: str) -> None:
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 12)
    case = Case(tmp_path, cand, base, rule=rule)
    bundle = case.moments(cli, n_candidate=N + 1)
    _refused(case.check(cli, bundle), message)


def test_baseline_examples_left_out_of_the_moments_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 13)
    case = Case(tmp_path, cand, base)
    _refused(case.check(cli, case.moments(cli, n_baseline=N + 1)),
             "missing: fail scores them as failures")


def test_counts_for_clustered_examples_are_refused_too(tmp_path: Path,
                                                       cli: Callable[..., Result]) -> None:
    # The same narrowing with 0/1 scores: rows with clusters get the cluster-robust interval,
    # the four counts only Tango's.
    rng = np.random.default_rng(14)
    base = (rng.random(N) < 0.7).astype(float)
    cand = (rng.random(N) < 0.7).astype(float)
    case = Case(tmp_path, cand, base, base_docs=np.arange(N) // 50)
    assert _comparison(case.check(cli, case.rows))["method"] == "cluster-t"
    [[row]] = case.query(cli)
    counts = {k: int(v) for k, v in row.items()}
    bundle = _bundle(tmp_path / "counts", "run-cand", {"paired_counts": {
        "baseline_run_id": "run-base", **counts,
        "inputs": [{"name": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                   for p in (case.cand_csv, case.base_csv)]}})
    _refused(case.check(cli, bundle), "the cluster-robust interval needs the rows")


def test_the_model_card_says_a_comparison_came_from_statistics(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # An auditor reading the model card must see that the gate did not read the rows.
    cand, base = _gamma_pair(2.0, 0.02, 0.02, 15)
    case = Case(tmp_path, cand, base)
    cards = {}
    for name, bundle in (("rows", case.rows), ("moments", case.moments(cli))):
        out = tmp_path / f"out-{name}"
        res = cli("check", str(bundle), "--policy", str(case.policy), "--as-of", AS_OF,
                  "--output-dir", str(out))
        assert res.code in (0, 1), res.err
        cards[name] = (out / "model_card.md").read_text()
    assert "not rows" not in cards["rows"]
    assert cards["moments"].count("paired_moments") >= 2  # the metrics table and the list
    assert "not rows" in cards["moments"]
