"""Past one machine's memory: the sufficient statistics of a 10^8-example paired comparison
computed by DuckDB with the SQL `gatekeeper sql` prints, then the gate's interval from them.

    python bench/bench_duckdb.py [--n 100000000] [--kind binary|mean] [--threads 2]
                                 [--memory-limit 4GB]

Writes a candidate and a baseline table of n rows (integer id and a score, the candidate's
rows in another order) as Parquet, the format pipelines hand over, then times in one run:
the floor, a bare DuckDB join that computes only what the interval needs (binary: the four
paired cell counts; mean: the count, mean and variance of the differences, in one pass);
`gatekeeper sql`'s query, which also counts what a bundle would refuse (repeated ids, null or
NaN scores, ids on one side only) and, for a mean, takes M2 and M3 in a second pass; the sha256
of the input files; and the interval from the statistics (Tango's; the paired t).
Needs the duckdb extra (and pyarrow for nothing: DuckDB writes the Parquet itself).
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatekeeper.commands.sql import render
from gatekeeper.stats.binary import tango_interval
from gatekeeper.stats.continuous import PairedSummary, compare_paired_moments
from gatekeeper.stats.types import Hypothesis

FLOOR = """
SELECT count(*) FILTER (WHERE c.score = 1 AND b.score = 1) AS n11,
       count(*) FILTER (WHERE c.score = 1 AND b.score = 0) AS n10,
       count(*) FILTER (WHERE c.score = 0 AND b.score = 1) AS n01,
       count(*) FILTER (WHERE c.score = 0 AND b.score = 0) AS n00
FROM candidate c JOIN baseline b ON c.id = b.id
"""

FLOOR_MEAN = """
SELECT count(*) AS n, avg(c.score - b.score) AS mean_difference,
       var_samp(c.score - b.score) AS variance_difference
FROM candidate c JOIN baseline b ON c.id = b.id
"""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    cur = con.execute(sql)
    row = cur.fetchone()
    seconds = time.perf_counter() - start
    assert row is not None
    return seconds, dict(zip([d[0] for d in cur.description], row, strict=True))


def write_tables(con: duckdb.DuckDBPyConnection, tmp: Path, n: int, kind: str
                 ) -> tuple[Path, Path]:
    base, cand = tmp / "baseline.parquet", tmp / "candidate.parquet"
    if kind == "binary":
        # 80% correct at baseline; the candidate fixes 2% of the misses and breaks 0.4% of the
        # hits.
        base_score = "CAST(hash(i) % 1000 < 800 AS TINYINT)"
        cand_score = ("CAST(CASE WHEN hash(i) % 1000 < 800 THEN hash(i * 7 + 1) % 1000 >= 4 "
                      "ELSE hash(i * 7 + 1) % 1000 < 20 END AS TINYINT)")
    else:
        # Scores in [0, 1] in steps of 0.001; the candidate moves each by up to ±0.01, a
        # little more often up.
        base_score = "CAST(hash(i) % 1001 AS DOUBLE) / 1000"
        cand_score = ("least(1.0, greatest(0.0, CAST(hash(i) % 1001 AS DOUBLE) / 1000 + "
                      "(CAST(hash(i * 7 + 1) % 21 AS DOUBLE) - 9.9) / 1000))")
    # The candidate's rows come in another order (by a hash of the id), so the join must match.
    con.execute(f"""
        COPY (SELECT i AS id, {base_score} AS score FROM range({n}) t(i))
        TO '{base}' (FORMAT parquet)""")
    con.execute(f"""
        COPY (SELECT i AS id, {cand_score} AS score
              FROM range({n}) t(i) ORDER BY hash(i + 12345))
        TO '{cand}' (FORMAT parquet)""")
    return cand, base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000_000)
    parser.add_argument("--kind", choices=("binary", "mean"), default="binary")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GB")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gk-duckdb-"))
    try:
        # Insertion order is never needed by an aggregate; keeping it costs memory.
        con = duckdb.connect(config={"threads": args.threads,
                                     "memory_limit": args.memory_limit,
                                     "preserve_insertion_order": False,
                                     "temp_directory": str(tmp / "spill")})
        start = time.perf_counter()
        cand, base = write_tables(con, tmp, args.n, args.kind)
        written = time.perf_counter() - start
        con.execute(f"CREATE VIEW candidate AS SELECT * FROM read_parquet('{cand}')")
        con.execute(f"CREATE VIEW baseline AS SELECT * FROM read_parquet('{base}')")
        floor_s, floor = timed(con, FLOOR if args.kind == "binary" else FLOOR_MEAN)
        query = render("m", args.kind, "candidate", "baseline", "id", "score", None)
        gate_sql_s, stats = timed(con, query.split(";")[0])
        start = time.perf_counter()
        digests = {p.name: sha256_file(p) for p in (cand, base)}
        hash_s = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in (cand, base)) / 1e6
        print(f"n = {args.n:,} rows per side as Parquet ({size_mb:,.0f} MB both, written in "
              f"{written:.1f} s), {args.kind} scores, duckdb {duckdb.__version__}, "
              f"{args.threads} threads, memory limit {args.memory_limit}")
        print(f"{'step':52} {'seconds':>8} {'vs floor':>9}")
        print(f"{'floor: bare join + what the interval needs':52} {floor_s:8.2f} {1.0:8.2f}x")
        print(f"{'gatekeeper sql (statistics + what a bundle refuses)':52} {gate_sql_s:8.2f} "
              f"{gate_sql_s / floor_s:8.2f}x")
        print(f"{'sha256 of the two input files':52} {hash_s:8.2f}")
        (_binary if args.kind == "binary" else _mean)(stats, floor)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (DuckDB inside): {rss_mb:,.0f} MB")
        print("inputs: " + ", ".join(f"{k} sha256:{v[:16]}…" for k, v in digests.items()))
    finally:
        shutil.rmtree(tmp)


def _refusals(stats: dict[str, Any], n: int) -> str:
    return (f"repeated ids {stats['repeated_ids_candidate']}/{stats['repeated_ids_baseline']}, "
            f"bad rows {stats['bad_rows_candidate']}/{stats['bad_rows_baseline']}, only one "
            f"side {int(stats['n_candidate']) - n}/{int(stats['n_baseline']) - n}")


def _binary(stats: dict[str, Any], floor: dict[str, Any]) -> None:
    counts = tuple(int(stats[k]) for k in ("n11", "n10", "n01", "n00"))
    assert counts == tuple(int(floor[k]) for k in ("n11", "n10", "n01", "n00"))
    n = sum(counts)
    start = time.perf_counter()
    ci = tango_interval(counts[1], counts[2], n, 0.95)
    print(f"{'Tango interval from the four counts':52} {time.perf_counter() - start:8.4f}")
    print(f"n11, n10, n01, n00 = {counts}; {_refusals(stats, n)}")
    print(f"Δ = {(counts[1] - counts[2]) / n:+.6f}, 95% Tango CI [{ci[0]:+.6f}, {ci[1]:+.6f}]")


def _mean(stats: dict[str, Any], floor: dict[str, Any]) -> None:
    n = int(stats["n_paired"])
    m2, m3 = float(stats["m2_difference"]), float(stats["m3_difference"])
    # The one-pass variance of the floor and the gate's two-pass M2 agree to rounding.
    assert abs(m2 / (n - 1) - float(floor["variance_difference"])) <= 1e-9 * m2 / (n - 1)
    # Once before timing: the first t quantile imports scipy.special (in `check` as here).
    compare_paired_moments(PairedSummary(3, 0.5, 0.4, 0.1, 0.02, 0.0, 1.0), Hypothesis())
    start = time.perf_counter()
    comp = compare_paired_moments(PairedSummary(
        n=n, mean_candidate=float(stats["mean_candidate"]),
        mean_baseline=float(stats["mean_baseline"]),
        mean_difference=float(stats["mean_difference"]), m2_difference=m2,
        skewness_difference=(m3 / n) / (m2 / n) ** 1.5,
        scale=float(stats["max_abs_score"])), Hypothesis(confidence=0.95))
    print(f"{'paired t from the moments':52} {time.perf_counter() - start:8.4f}")
    print(f"n = {n:,}; {_refusals(stats, n)}")
    print(f"Δ = {comp.delta:+.6f}, 95% {comp.method} CI [{comp.ci[0]:+.6f}, {comp.ci[1]:+.6f}]")


if __name__ == "__main__":
    main()
