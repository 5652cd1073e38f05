"""A bundle carrying `paired_cluster_sums` (the two queries `gatekeeper sql --kind mean
--cluster-column C` prints, run by a real DuckDB) gets the cluster-robust verdict its rows get;
clusters the baseline bundle's rows contradict, and a clusters file that does not add up, are
refused (exit 2, one line)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gatekeeper.inputs.bundle import load_bundle
from tests.acceptance.test_sql_moments import KEYS, Case, N, _bundle, _comparison, _refused
from tests.conftest import Result


def _clustered_pair(seed: int, effect: float, docs: int = 60) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """Scores whose differences share a per-document shift: the clusters matter."""
    rng = np.random.default_rng(seed)
    doc = np.arange(N) % docs
    base = np.clip(rng.beta(5, 3, N), 0, 1)
    shift = rng.normal(effect, 0.02, docs)[doc]
    cand = np.clip(base + shift + rng.normal(0, 0.01, N), 0, 1)
    return cand, base, doc


def _queries(case: Case, cli: Callable[..., Result]) -> tuple[dict[str, Any],
                                                               list[tuple[Any, ...]]]:
    [summary], clusters = case.query(cli, "--kind", "mean", "--cluster-column", "doc")
    return summary, [tuple(r.values()) for r in clusters]


def _sums_bundle(case: Case, cli: Callable[..., Result], rows_edit: Callable[
        [list[tuple[Any, ...]]], list[tuple[Any, ...]]] | None = None, **change: Any) -> Path:
    summary, clusters = _queries(case, cli)
    if rows_edit is not None:
        clusters = rows_edit(clusters)
    stats = {k: (int(v) if isinstance(v, int) else float(v)) for k, v in summary.items()}
    stats = {"baseline_run_id": "run-base", **stats, "clusters": "stats/rouge_clusters.csv",
             **change, "inputs": [{"name": p.name,
                                   "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                                  for p in (case.cand_csv, case.base_csv)]}
    bundle = _bundle(case.root / "sums", "run-cand",
                     {"paired_cluster_sums": stats, "range": [0, 1]})
    (bundle / "stats").mkdir(exist_ok=True)
    lines = ["cluster_id,n,sum_difference,sum_candidate,sum_baseline"]
    lines += [",".join(repr(v) if isinstance(v, float) else str(v) for v in r) for r in clusters]
    (bundle / "stats" / "rouge_clusters.csv").write_text("\n".join(lines) + "\n")
    return bundle


@pytest.mark.parametrize(("seed", "effect", "status"),
                         [(1, 0.0, "pass"), (2, -0.009, "warn"), (3, -0.05, "block")],
                         ids=["non-inferior", "inconclusive", "worse"])
def test_cluster_sums_get_the_verdict_of_their_rows(tmp_path: Path, cli: Callable[..., Result],
                                                    seed: int, effect: float,
                                                    status: str) -> None:
    cand, base, doc = _clustered_pair(seed, effect)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    want = _comparison(case.check(cli, case.rows))
    got = _comparison(case.check(cli, _sums_bundle(case, cli)))
    assert want["method"] == "cluster-t" and want["status"] == status
    for key in KEYS:
        if key in ("delta", "p_value", "mde", "baseline", "observed", "threshold", "ci"):
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), key
        else:
            assert got[key] == want[key], key
    assert any("paired_cluster_sums" in note for note in got["notes"])


def test_one_cluster_gives_no_verdict_as_from_rows(tmp_path: Path,
                                                    cli: Callable[..., Result]) -> None:
    cand, base, _doc = _clustered_pair(4, 0.0)
    doc = np.zeros(N, dtype=int)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    want = _comparison(case.check(cli, case.rows))
    got = _comparison(case.check(cli, _sums_bundle(case, cli)))
    assert want["status"] == got["status"] != "pass"
    assert got["n"] == want["n"] == [1, 1]


def test_a_finer_grouping_than_the_baselines_is_refused(tmp_path: Path,
                                                        cli: Callable[..., Result]) -> None:
    # Splitting each document's examples in two doubles the clusters and narrows the interval;
    # the baseline bundle's own cluster labels give it away.
    cand, base, doc = _clustered_pair(5, -0.009)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc * 2 + np.arange(N) % 2)
    _refused(case.check(cli, _sums_bundle(case, cli)),
             "are not the baseline bundle's 60 clusters of its 1,500 examples")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda rows: rows[1:], "the clusters hold"),
    (lambda rows: [rows[0], *rows], "is listed twice"),
    (lambda rows: [(r[0], r[1], r[2] + 0.5, r[3], r[4]) if i == 0 else r
                   for i, r in enumerate(rows)], "add up to"),
    (lambda rows: [(r[0], 0, *r[2:]) if i == 0 else r for i, r in enumerate(rows)],
     "a cluster holds at least one example"),
    (lambda rows: [(r[0], r[1], float("nan"), *r[3:]) if i == 0 else r
                   for i, r in enumerate(rows)], "is not a finite number"),
    (lambda rows: [(r[0], r[1], 1e6, *r[3:]) if i == 0 else r for i, r in enumerate(rows)],
     "within ±2·max_abs_score"),
], ids=["a cluster left out", "a cluster twice", "sums that do not add up", "an empty cluster",
        "NaN", "a sum no scores allow"])
def test_a_clusters_file_that_does_not_add_up_is_an_input_error(
        tmp_path: Path, cli: Callable[..., Result],
        edit: Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]], message: str) -> None:
    cand, base, doc = _clustered_pair(6, 0.0)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    _refused(case.check(cli, _sums_bundle(case, cli, rows_edit=edit)), message)


def test_a_clusters_file_outside_the_bundle_is_refused(tmp_path: Path,
                                                      cli: Callable[..., Result]) -> None:
    cand, base, doc = _clustered_pair(7, 0.0)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    _refused(case.check(cli, _sums_bundle(case, cli, clusters="../c/rouge.csv")), "clusters")


def test_binary_counts_with_clusters_point_to_the_mean_query(cli: Callable[..., Result]
                                                             ) -> None:
    res = cli("sql", "--metric", "em", "--cluster-column", "doc")
    assert res.code == 2 and "use --kind mean" in res.err and res.out == ""


def test_cluster_sums_against_a_baseline_without_examples_are_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # As for counts and moments: a baseline giving the metric as one value has no examples to
    # pair with, and nothing to hold the claimed mean_baseline against.
    cand, base, doc = _clustered_pair(8, 0.0)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    bundle = _sums_bundle(case, cli)
    version = case.registry / "summarizer" / "versions" / "1"
    run = yaml.safe_load((version / "run.yaml").read_text())
    run["metrics"]["rouge"] = {"value": 0.5}
    (version / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    shutil.rmtree(version / "scores")
    index_path = case.registry / "summarizer" / "index.json"
    index = json.loads(index_path.read_text())
    index["versions"][0]["bundle_sha256"] = load_bundle(version).sha256()
    index_path.write_text(json.dumps(index))
    _refused(case.check(cli, bundle), "not per-example scores")


def test_a_clusters_file_over_the_file_limit_is_refused_before_it_is_read(
        tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    cand, base, doc = _clustered_pair(9, 0.0)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    bundle = _sums_bundle(case, cli)
    monkeypatch.setenv("GATEKEEPER_MAX_FILE_BYTES", "200")
    res = case.check(cli, bundle)
    _refused(res, "GATEKEEPER_MAX_FILE_BYTES")
    assert "stats/rouge_clusters.csv" in res.err


def test_a_clusters_file_linked_from_outside_the_bundle_is_refused(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # A symlink in the bundle to sums kept elsewhere (another run's, say) is not read.
    cand, base, doc = _clustered_pair(10, 0.0)
    case = Case(tmp_path, cand, base, base_docs=doc, cand_docs=doc)
    bundle = _sums_bundle(case, cli)
    target = bundle / "stats" / "rouge_clusters.csv"
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(outside)
    res = case.check(cli, bundle)
    assert res.code == 2 and res.err.count("\n") == 1, res.err
    assert "rouge_clusters.csv" in res.err and "Traceback" not in res.err
