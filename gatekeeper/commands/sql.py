"""`gatekeeper sql --metric NAME`: print the SQL that computes a comparison's sufficient
statistics where the data lives (DuckDB on one machine, Spark or BigQuery beyond it).

A paired comparison needs only a few numbers: for 0/1 scores the four paired cell counts
(n11, n10, n01, n00); for other scores the count, the means, and the sums of squared and cubed
deviations of the paired differences (a bundle's ``paired_counts`` and ``paired_moments``); with
clusters, each cluster's size and sum of differences. The query joins
a candidate and a baseline table on the example id and also counts what the gate refuses in a
bundle (repeated ids, null or NaN scores, ids on one side only), so the engine reports them
instead of hiding them. Dialect: DuckDB; the header comment says what Spark and BigQuery need.
"""

from __future__ import annotations

import argparse
import re
import sys

from gatekeeper.errors import InputError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_METRIC = re.compile(r"[A-Za-z0-9_.:/-]+")

HEADER = """\
-- gatekeeper sufficient statistics: metric {metric}, {what}, paired by {id}.
-- Dialect: DuckDB. Spark SQL: runs as written. BigQuery: name tables `project.dataset.table`,
-- write FLOAT64 for DOUBLE and IS_NAN(x) for isnan(x).
-- Save the first query's row as the bundle's metrics.{metric}.{shape}, with the baseline's run
-- id and the sha256 of the input files: the gate recomputes the verdict from these numbers
-- but cannot re-read the rows behind them (docs/formats.md, docs/performance.md).
"""

CLUSTER_HEADER = """\
-- Save the second query's rows as a CSV file in the bundle (cluster_id,n,sum_difference,...)
-- and name it in paired_cluster_sums.clusters.
"""

CHECKS = """\
WITH c AS (SELECT {id} AS id, CAST({score} AS DOUBLE) AS score{cluster_c} FROM {candidate}),
     b AS (SELECT {id} AS id, CAST({score} AS DOUBLE) AS score FROM {baseline}),
     p AS (SELECT c.score AS sc, b.score AS sb{cluster_p} FROM c JOIN b ON c.id = b.id),
"""

# One scan per side for what a bundle would refuse.
SIDES = """\
     sc AS (SELECT count(*) AS n, count(*) - count(DISTINCT id) AS repeated,
                   sum(CASE WHEN id IS NULL OR score IS NULL OR isnan(score) THEN 1 ELSE 0 END)
                     AS bad FROM c),
     sb AS (SELECT count(*) AS n, count(*) - count(DISTINCT id) AS repeated,
                   sum(CASE WHEN id IS NULL OR score IS NULL OR isnan(score) THEN 1 ELSE 0 END)
                     AS bad FROM b),
"""

SELECT = """\
SELECT sc.n AS n_candidate, sb.n AS n_baseline,
  sc.repeated AS repeated_ids_candidate, sb.repeated AS repeated_ids_baseline,
  sc.bad AS bad_rows_candidate, sb.bad AS bad_rows_baseline, pt.*
FROM sc, sb, pt;
"""

BINARY = """\
     pt AS (SELECT count(*) AS n_paired,
  sum(CASE WHEN sc = 1 AND sb = 1 THEN 1 ELSE 0 END) AS n11,
  sum(CASE WHEN sc = 1 AND sb = 0 THEN 1 ELSE 0 END) AS n10,
  sum(CASE WHEN sc = 0 AND sb = 1 THEN 1 ELSE 0 END) AS n01,
  sum(CASE WHEN sc = 0 AND sb = 0 THEN 1 ELSE 0 END) AS n00,
  sum(CASE WHEN sc NOT IN (0, 1) OR sb NOT IN (0, 1) THEN 1 ELSE 0 END) AS not_binary
FROM p)
"""

# Two passes, as the gate computes them from rows: the mean difference first, then the sums of
# squared and cubed deviations from it (a one-pass formula loses digits to cancellation).
MEAN = """\
     pm AS (SELECT count(*) AS n_paired, avg(sc) AS mean_candidate, avg(sb) AS mean_baseline,
  avg(sc - sb) AS mean_difference, greatest(max(abs(sc)), max(abs(sb))) AS max_abs_score
FROM p),
     pd AS (SELECT sum(power(sc - sb - (SELECT mean_difference FROM pm), 2)) AS m2_difference,
  sum(power(sc - sb - (SELECT mean_difference FROM pm), 3)) AS m3_difference
FROM p),
     pt AS (SELECT pm.*, pd.* FROM pm, pd)
"""

# With clusters, the first row needs no M2 or M3: the spread comes from the cluster sums.
MEAN_CLUSTERED = """\
     pm AS (SELECT count(*) AS n_paired, avg(sc) AS mean_candidate, avg(sb) AS mean_baseline,
  avg(sc - sb) AS mean_difference, greatest(max(abs(sc)), max(abs(sb))) AS max_abs_score
FROM p),
     pt AS (SELECT pm.* FROM pm)
"""

CLUSTERS = """\
-- Per-cluster sums for the cluster-robust interval: one row per cluster.
{checks}SELECT cluster_id, count(*) AS n, sum(sc - sb) AS sum_difference,
  sum(sc) AS sum_candidate, sum(sb) AS sum_baseline
FROM p GROUP BY cluster_id ORDER BY cluster_id;
"""


def _identifier(value: str, option: str) -> str:
    """A table or column name as SQL text: plain (dotted) identifiers only, so the printed
    query can be pasted without quoting surprises."""
    if not _NAME.fullmatch(value):
        raise InputError(f"{option} {value!r} is not a plain SQL name (letters, digits, _ and "
                         "dots between parts)")
    return value


def render(metric: str, kind: str, candidate: str, baseline: str, id_column: str,
           score_column: str, cluster_column: str | None) -> str:
    """The query text (and, with clusters, a second query for the per-cluster sums). No ';' in
    the comments: each statement ends at its own, for tools that split on them."""
    names = {
        "candidate": _identifier(candidate, "--candidate"),
        "baseline": _identifier(baseline, "--baseline"),
        "id": _identifier(id_column, "--id-column"),
        "score": _identifier(score_column, "--score-column"),
    }
    cluster = _identifier(cluster_column, "--cluster-column") if cluster_column else None
    what = "binary 0/1 scores" if kind == "binary" else "mean of per-example scores"
    if not _METRIC.fullmatch(metric):
        raise InputError(f"--metric {metric!r}: a metric name is letters, digits and _.:/-")
    if cluster and kind == "binary":
        # From rows, clustered 0/1 scores get the cluster-robust t, not Tango's interval.
        raise InputError("--cluster-column: clustered scores, 0/1 ones too, are compared by "
                         "the cluster-robust t: use --kind mean")
    shape = ("paired_counts" if kind == "binary" else
             "paired_cluster_sums" if cluster else "paired_moments")
    out = HEADER.format(metric=metric, what=what, id=names["id"], shape=shape)
    if cluster:
        out += CLUSTER_HEADER
    checks = CHECKS.format(**names, cluster_c="", cluster_p="")
    body = BINARY if kind == "binary" else MEAN_CLUSTERED if cluster else MEAN
    out += checks + SIDES + body + SELECT
    if cluster:
        with_clusters = CHECKS.format(**names, cluster_c=f", {cluster} AS cluster_id",
                                      cluster_p=", c.cluster_id AS cluster_id")
        # The per-cluster query ends its WITH at p: no comma before SELECT.
        out += "\n" + CLUSTERS.format(checks=with_clusters.rstrip(",\n") + "\n")
    return out


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sql", help="print the SQL computing a comparison's sufficient statistics")
    p.add_argument("--metric", required=True, help="the metric's name (labels the output)")
    p.add_argument("--kind", choices=("binary", "mean"), default="binary",
                   help="binary: paired cell counts of 0/1 scores; mean: moments of the "
                        "paired differences (default: binary)")
    p.add_argument("--candidate", default="candidate", help="candidate table (default: candidate)")
    p.add_argument("--baseline", default="baseline", help="baseline table (default: baseline)")
    p.add_argument("--id-column", default="id")
    p.add_argument("--score-column", default="score")
    p.add_argument("--cluster-column", default=None,
                   help="with --kind mean: adds the per-cluster query (sizes and sums of "
                        "differences) of a bundle's paired_cluster_sums")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(render(args.metric, args.kind, args.candidate, args.baseline,
                            args.id_column, args.score_column, args.cluster_column))
    return 0
