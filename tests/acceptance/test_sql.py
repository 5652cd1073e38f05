"""`gatekeeper sql`: the printed query, run by a real DuckDB, gives the sufficient statistics the
gate computes from the same rows (duckdb is the `duckdb` extra; the test extra installs it)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric
from gatekeeper.stats.binary import paired_table
from gatekeeper.stats.moments import moments, skewness
from gatekeeper.stats.pairing import match_ids
from tests.conftest import EXAMPLES, ROOT, Result

CANDIDATE = EXAMPLES / "bundles" / "warn"
BASELINE = EXAMPLES / "registry" / "sentiment-clf" / "versions" / "3"


def _sql(cli: Callable[..., Result], *args: str) -> str:
    res = cli("sql", *args)
    assert res.code == 0, res.err
    return res.out


def _rows(sql: str, con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    out = []
    for statement in (s for s in sql.split(";") if s.strip("\n -")):
        if not any(line and not line.startswith("--") for line in statement.splitlines()):
            continue
        cur = con.execute(statement)
        cols = [d[0] for d in cur.description]
        out += [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    return out


def _tables(cand: Path, base: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE candidate AS SELECT * FROM read_csv('{cand}', header=true)")
    con.execute(f"CREATE TABLE baseline AS SELECT * FROM read_csv('{base}', header=true)")
    return con


def test_binary_counts_match_the_gate_on_the_demo(cli: Callable[..., Result]) -> None:
    c = load_metric(load_bundle(CANDIDATE), "exact_match")
    b = load_metric(load_bundle(BASELINE), "exact_match")
    assert c.ids is not None and b.ids is not None
    m = match_ids(c.ids, b.ids)
    want = paired_table(c.values[m.idx_candidate], b.values[m.idx_baseline])
    con = _tables(CANDIDATE / "scores" / "exact_match.csv",
                  BASELINE / "scores" / "exact_match.csv")
    [row] = _rows(_sql(cli, "--metric", "exact_match"), con)
    assert (row["n11"], row["n10"], row["n01"], row["n00"]) == want
    assert row["n_paired"] == m.n_matched == row["n_candidate"] == row["n_baseline"]
    assert row["repeated_ids_candidate"] == row["bad_rows_candidate"] == row["not_binary"] == 0


def _write(path: Path, ids: np.ndarray, scores: np.ndarray, clusters: np.ndarray | None = None
           ) -> None:
    head = "id,score" + (",doc" if clusters is not None else "")
    lines = [head] + [f"{i},{float(s)!r}" + (f",{clusters[k]}" if clusters is not None else "")
                      for k, (i, s) in enumerate(zip(ids, scores, strict=True))]
    path.write_text("\n".join(lines) + "\n")


def test_mean_moments_and_cluster_sums_match_numpy(tmp_path: Path,
                                                   cli: Callable[..., Result]) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    ids = np.arange(n)
    sc, sb = rng.gamma(2.0, 1.0, n), rng.gamma(2.0, 1.1, n)
    docs = rng.integers(0, 40, n)
    pc, pb = rng.permutation(n), rng.permutation(n)
    _write(tmp_path / "c.csv", ids[pc], sc[pc], docs[pc])
    _write(tmp_path / "b.csv", ids[pb], sb[pb])
    con = _tables(tmp_path / "c.csv", tmp_path / "b.csv")
    [summary] = _rows(_sql(cli, "--metric", "rouge", "--kind", "mean"), con)
    rows = _rows(_sql(cli, "--metric", "rouge", "--kind", "mean", "--cluster-column", "doc"), con)
    first, clusters = rows[0], rows[1:]
    # With clusters the first row carries no M2 or M3 (paired_cluster_sums takes none).
    assert set(summary) - set(first) == {"m2_difference", "m3_difference"}
    # DuckDB sums in parallel: the same mean from two queries may differ in its last digit.
    assert first == {k: pytest.approx(v, rel=1e-12) for k, v in summary.items() if k in first}
    d = sc - sb
    mom = moments(d)
    assert summary["n_paired"] == n
    assert summary["mean_difference"] == pytest.approx(mom.mean, rel=1e-12)
    assert summary["m2_difference"] == pytest.approx(mom.m2, rel=1e-10)
    # M3 as the gate's skewness reads it: g1 = (M3/n) / (M2/n)^1.5.
    g1 = skewness(d, mom.mean, mom.m2)
    m3 = summary["m3_difference"]
    assert (m3 / n) / (summary["m2_difference"] / n) ** 1.5 == pytest.approx(g1, rel=1e-9)
    assert summary["mean_candidate"] == pytest.approx(sc.mean(), rel=1e-12)
    assert summary["max_abs_score"] == max(np.abs(sc).max(), np.abs(sb).max())
    assert [r["cluster_id"] for r in clusters] == sorted(set(docs.tolist()))
    for r in clusters:
        mask = docs == r["cluster_id"]
        assert r["n"] == int(mask.sum())
        assert r["sum_difference"] == pytest.approx(float(d[mask].sum()), rel=1e-10)


def test_what_a_bundle_would_refuse_is_counted(tmp_path: Path,
                                               cli: Callable[..., Result]) -> None:
    (tmp_path / "c.csv").write_text("id,score\n1,1\n2,0\n2,1\n3,nan\n4,1\n")
    (tmp_path / "b.csv").write_text("id,score\n1,1\n2,1\n3,0\n5,0.5\n")
    con = _tables(tmp_path / "c.csv", tmp_path / "b.csv")
    [row] = _rows(_sql(cli, "--metric", "em"), con)
    assert row["repeated_ids_candidate"] == 1 and row["repeated_ids_baseline"] == 0
    assert row["bad_rows_candidate"] == 1 and row["bad_rows_baseline"] == 0
    assert row["n_candidate"] == 5 and row["n_baseline"] == 4 and row["n_paired"] == 4


@pytest.mark.parametrize("args", [["--candidate", "t; DROP TABLE baseline"],
                                  ["--score-column", "score) FROM x --"],
                                  ["--metric", "em\n-- injected"]],
                         ids=["table", "column", "metric"])
def test_names_that_are_no_plain_identifiers_are_refused(args: list[str]) -> None:
    argv = [sys.executable, "-m", "gatekeeper", "sql", *(["--metric", "em"]
                                                         if "--metric" not in args else []),
            *args]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def _counts_bundle(tmp_path: Path, cli: Callable[..., Result], **change: object) -> Path:
    """The warn demo with exact_match given as the row DuckDB computes from its rows and the
    registry baseline's, instead of the rows themselves."""
    import hashlib
    import shutil

    cand_csv = CANDIDATE / "scores" / "exact_match.csv"
    base_csv = BASELINE / "scores" / "exact_match.csv"
    [row] = _rows(_sql(cli, "--metric", "exact_match"), _tables(cand_csv, base_csv))
    counts = {k: int(v) for k, v in row.items()}  # type: ignore[call-overload]
    dest = tmp_path / "counts"
    shutil.copytree(CANDIDATE, dest)
    run = yaml.safe_load((dest / "run.yaml").read_text())
    run["metrics"]["exact_match"] = {"paired_counts": {
        "baseline_run_id": "run-v3", **counts, **change,
        "inputs": [{"name": str(p.relative_to(ROOT)), "rows": 2000,
                    "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                   for p in (cand_csv, base_csv)]}}
    (dest / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    return dest


def test_a_bundle_of_paired_counts_gets_the_verdict_of_its_rows(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    import json

    args = ("--policy", "policies/default.yaml", "--format", "json", "--as-of", "2026-11-26")
    rows = json.loads(cli("check", str(CANDIDATE), *args).out)
    counts = json.loads(cli("check", str(_counts_bundle(tmp_path, cli)), *args).out)
    want = next(c for c in rows["checks"] if c["id"] == "metric:exact_match:vs_baseline")
    got = next(c for c in counts["checks"] if c["id"] == "metric:exact_match:vs_baseline")
    for key in ("status", "outcome", "method", "delta", "ci", "n", "p_value", "mde", "baseline",
                "observed", "threshold"):
        assert got[key] == want[key], key
    assert any("paired_counts" in note for note in got["notes"])
    assert counts["verdict"] == rows["verdict"]


@pytest.mark.parametrize(("change", "message"), [
    ({"baseline_run_id": "run-v2"}, "computed against run 'run-v2', but the baseline is run "
                                    "'run-v3'"),
    ({"repeated_ids_candidate": 3}, "rows a bundle would refuse: repeated_ids_candidate = 3"),
    ({"not_binary": 1}, "not_binary = 1"),
    ({"n_candidate": 10}, "more pairs than rows"),
    ({"n11": -1}, "n11"),
    ({"n_paired": 1999}, "n_paired = 1999 but n11 + n10 + n01 + n00 = 2000"),
], ids=["another baseline", "repeated ids", "not binary", "more pairs than rows", "negative",
        "pairs the cells do not hold"])
def test_counts_the_gate_cannot_trust_are_input_errors(
        tmp_path: Path, cli: Callable[..., Result], change: dict[str, object], message: str
) -> None:
    res = cli("check", str(_counts_bundle(tmp_path, cli, **change)), "--policy",
              "policies/default.yaml", "--as-of", "2026-11-26")
    assert res.code == 2, res.out
    assert message in res.err and res.err.count("\n") == 1


def _check_counts(tmp_path: Path, cli: Callable[..., Result], **change: object) -> Result:
    return cli("check", str(_counts_bundle(tmp_path, cli, **change)), "--policy",
               "policies/default.yaml", "--as-of", "2026-11-26")


def test_baseline_examples_left_out_of_the_counts_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # From rows, a baseline example the candidate lacks is scored as a failure; counts that
    # simply leave it out would flatter the candidate.
    res = _check_counts(tmp_path, cli, n_baseline=2001)
    assert res.code == 2 and "missing: fail scores them as failures" in res.err, res.err


def test_counts_whose_baseline_side_differs_from_its_bundle_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # Moving one pair from "only the baseline correct" to "neither" flatters the candidate
    # (Δ rises) and keeps every total; the baseline bundle's own rows give it away.
    counts = yaml.safe_load((_counts_bundle(tmp_path / "a", cli) / "run.yaml").read_text())
    pc = counts["metrics"]["exact_match"]["paired_counts"]
    res = _check_counts(tmp_path / "b", cli, n01=pc["n01"] - 1, n00=pc["n00"] + 1)
    assert res.code == 2
    assert (f"the counts give the baseline {pc['n11'] + pc['n01'] - 1:,} correct among the "
            "pairs, which the baseline bundle's own rows do not allow") in res.err, res.err
    # The baseline's own number correct is not released by the refusal (the Ladder's rule).
    assert f"{pc['n11'] + pc['n01']:,}" not in res.err and "not shown" in res.err


@pytest.mark.parametrize(("rule", "message"), [
    ("method: bootstrap", "counts give only the Tango interval"),
    ("require_full_overlap: true, missing: drop", "requires full overlap"),
], ids=["another method", "full overlap"])
def test_a_rule_counts_cannot_serve_is_refused(tmp_path: Path, cli: Callable[..., Result],
                                               rule: str, message: str) -> None:
    policy = tmp_path / "policy.yaml"
    text = (ROOT / "policies" / "default.yaml").read_text()
    old = "vs_baseline: {confidence: 0.95, margin: 0.005, require: non_inferior}"
    assert old in text
    text = text.replace("file:examples/registry", f"file:{ROOT / 'examples' / 'registry'}")
    policy.write_text(text.replace(old, old[:-1] + ", " + rule + "}"))
    bundle = _counts_bundle(tmp_path, cli, n_candidate=2001)
    res = cli("check", str(bundle), "--policy", str(policy), "--as-of", "2026-11-26")
    assert res.code == 2, res.out
    assert message in res.err, res.err
