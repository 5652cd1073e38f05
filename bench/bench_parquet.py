"""Rows per second reading per-example scores: Parquet next to an .npy pair, same rows, same run.

    python bench/bench_parquet.py [--n 10000000] [--runs 7]

Both files hold n integer ids (shuffled) and n float64 0/1 scores. Parquet is written the way
pipelines usually write it (snappy, one row group per 1M rows) and also uncompressed.

Each sample is a fresh interpreter (as `gatekeeper check` runs), the formats taken in turn so
the machine's load falls on all of them alike. It imports what the format needs first (numpy;
pyarrow for Parquet: its import is a fixed cost per process, printed on its own line), parses
run.yaml, then times ``load_metric`` alone: wall time and CPU time (user + system of all the
process's threads: the Parquet reader decodes and checks its columns on two). The medians of
``--runs`` are printed, with the fastest wall time beside them and the load average before and
after: on a shared machine the median moves with the neighbours' work, the fastest run much
less.

What ``load_metric`` does on each side, so both figures count the same validation:

- ``.npy`` pair: read each header and check it (no pickle, rows and bytes within the limits,
  no more data than the file holds), read both arrays, 1-D and equal length, scores finite,
  ids integers or strings, no repeated id, scores within ±1e50 (and the declared range).
- ``.parquet``: read the footer and check it (the columns exist, rows and decoded bytes within
  the limits), memory-map the file and decode the two columns, no null, ids integers or
  strings, scores numbers and finite, no repeated id, scores within ±1e50 (and the range).

The ratio is Parquet's time over the ``.npy`` pair's: at most 1.0 is "as fast per row".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from pathlib import Path
t0 = time.process_time()
import numpy
if sys.argv[2] == "parquet":
    import pyarrow, pyarrow.parquet
imported = time.process_time() - t0
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric
bundle = load_bundle(Path(sys.argv[1]))
wall, cpu = time.perf_counter(), time.process_time()
loaded = load_metric(bundle, "exact_match")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
assert loaded.values.size == int(sys.argv[3])
print(json.dumps({"wall": wall, "cpu": cpu, "import": imported}))
"""


def make_bundle(root: Path, per_example: str) -> Path:
    root.mkdir(parents=True)
    (root / "scores").mkdir()
    (root / "run.yaml").write_text(
        "schema: gatekeeper.run/v1\nrun_id: bench\nmodel: big\nseeds: [0]\n"
        "code: {commit: 0123456789abcdef0123456789abcdef01234567}\n"
        f"metrics:\n  exact_match: {{per_example: {per_example}}}\n")
    return root


def sample(bundle: Path, kind: str, n: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(bundle), kind, str(n)], cwd=ROOT,
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} load failed: {proc.stderr[-2000:]}")
    out: dict[str, float] = json.loads(proc.stdout)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
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
        formats = [(".npy pair (the floor)", npy, "npy", ["em.ids.npy", "em.scores.npy"]),
                   (".parquet, uncompressed", plain, "parquet", ["em.parquet"]),
                   (".parquet, snappy", snappy, "parquet", ["em.parquet"])]
        samples: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in formats}
        for _label, bundle, kind, _files in formats:
            sample(bundle, kind, n)  # warm-up: page cache, byte-code
        load_before = os.getloadavg()[0]
        for _ in range(max(1, args.runs)):
            for label, bundle, kind, _files in formats:
                samples[label].append(sample(bundle, kind, n))
        print(f"n = {n:,} rows (int64 ids, float64 0/1 scores), numpy {np.__version__}, pyarrow "
              f"{pa.__version__}, {os.cpu_count()} cores; load_metric in fresh processes, "
              f"medians of {max(1, args.runs)}; load average {load_before:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after")
        print(f"{'format':26} {'size MB':>8} {'wall s':>7} {'cpu s':>7} {'Mrows/s':>8} "
              f"{'wall vs .npy':>13} {'cpu vs .npy':>12} {'fastest wall':>13} {'vs .npy':>8}")
        floor_wall = statistics.median(s["wall"] for s in samples[formats[0][0]])
        floor_cpu = statistics.median(s["cpu"] for s in samples[formats[0][0]])
        floor_best = min(s["wall"] for s in samples[formats[0][0]])
        for label, bundle, _kind, files in formats:
            wall = statistics.median(s["wall"] for s in samples[label])
            cpu = statistics.median(s["cpu"] for s in samples[label])
            best = min(s["wall"] for s in samples[label])
            size = sum((bundle / "scores" / f).stat().st_size for f in files) / 1e6
            print(f"{label:26} {size:8.1f} {wall:7.3f} {cpu:7.3f} {n / wall / 1e6:8.1f} "
                  f"{wall / floor_wall:12.2f}x {cpu / floor_cpu:11.2f}x {best:13.3f} "
                  f"{best / floor_best:7.2f}x")
        imports = statistics.median(s["import"] for s in samples[formats[1][0]])
        base = statistics.median(s["import"] for s in samples[formats[0][0]])
        print(f"import pyarrow, pyarrow.parquet (once per process): {imports - base:.3f} s CPU")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
