"""Rows per second reading per-example scores: Parquet next to an .npy pair, same rows, same run.

    python bench/bench_parquet.py [--n 10000000] [--repeat 3]

Both files hold n integer ids (shuffled) and n float64 0/1 scores; each figure is the median
wall time of ``load_metric`` (read, validate: limits, NaN, ids, duplicates) over ``--repeat``
runs in this process, after one warm-up read of each (page cache warm). Parquet is written the
way pipelines usually write it (snappy, one row group per 1M rows) and also uncompressed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric

ROOT = Path(__file__).resolve().parent.parent


def make_bundle(root: Path, per_example: str) -> Path:
    root.mkdir(parents=True)
    (root / "scores").mkdir()
    (root / "run.yaml").write_text(
        "schema: gatekeeper.run/v1\nrun_id: bench\nmodel: big\nseeds: [0]\n"
        "code: {commit: 0123456789abcdef0123456789abcdef01234567}\n"
        f"metrics:\n  exact_match: {{per_example: {per_example}}}\n")
    return root


def timed_load(bundle: Path, repeat: int) -> float:
    load_metric(load_bundle(bundle), "exact_match")  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        load_metric(load_bundle(bundle), "exact_match")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(2)
    ids = rng.permutation(n).astype(np.int64)
    scores = (rng.random(n) < 0.8).astype(np.float64)
    tmp = Path(tempfile.mkdtemp(prefix="gk-parquet-"))
    try:
        npy = make_bundle(tmp / "npy", "scores/em.scores.npy")
        np.save(npy / "scores" / "em.ids.npy", ids)
        np.save(npy / "scores" / "em.scores.npy", scores)
        table = pa.table({"id": ids, "score": scores})
        snappy = make_bundle(tmp / "snappy", "scores/em.parquet")
        pq.write_table(table, snappy / "scores" / "em.parquet", row_group_size=1 << 20)
        plain = make_bundle(tmp / "plain", "scores/em.parquet")
        pq.write_table(table, plain / "scores" / "em.parquet", row_group_size=1 << 20,
                       compression="none")
        floor = timed_load(npy, args.repeat)
        print(f"n = {n:,} rows (int64 ids, float64 scores), pyarrow {pa.__version__}; median "
              f"of {args.repeat} loads after a warm-up")
        print(f"{'format':34} {'size MB':>8} {'load s':>7} {'Mrows/s':>8} {'vs .npy':>8}")
        for label, bundle, files in (
                (".npy pair (the floor)", npy, ["em.ids.npy", "em.scores.npy"]),
                (".parquet, snappy", snappy, ["em.parquet"]),
                (".parquet, uncompressed", plain, ["em.parquet"])):
            seconds = floor if bundle is npy else timed_load(bundle, args.repeat)
            size = sum((bundle / "scores" / f).stat().st_size for f in files) / 1e6
            print(f"{label:34} {size:8.1f} {seconds:7.3f} {n / seconds / 1e6:8.1f} "
                  f"{seconds / floor:7.2f}x")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
