"""Wall time and memory of a 10^7-example paired comparison, next to scipy.stats.bootstrap.

    python bench/bench_compare.py [--n 10000000] [--resamples 10000] [--scipy-n 100000]

Measures, on one machine in one run: the analytic interval and the sufficient-statistic
bootstrap (B resamples) for binary and continuous paired scores and for G = 1,000 clusters;
then scipy.stats.bootstrap (paired, percentile, vectorized, B = 9,999) at a smaller n, its
linear extrapolation to the large n, and the ratio. Memory: tracemalloc's peak of numpy
allocations during each step (inputs excluded), and the process's max RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatekeeper.stats.binary import compare_paired_binary
from gatekeeper.stats.continuous import compare_paired_mean
from gatekeeper.stats.fast import bootstrap_mean_difference
from gatekeeper.stats.pairing import match_ids
from gatekeeper.stats.reference import bootstrap_paired_binary
from gatekeeper.stats.types import Hypothesis

MB = 1024.0 * 1024.0


def max_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(label: str, fn: Callable[[], Any]) -> float:
    """Run ``fn`` once for time, once under tracemalloc for peak memory; print one line."""
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<58} {seconds:8.3f} s  peak {peak / MB:8.1f} MB  maxRSS {max_rss_mb():7.0f} MB")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--scipy-n", type=int, default=100_000)
    parser.add_argument("--scipy-resamples", type=int, default=9_999)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n, b_res = args.n, args.resamples
    h = Hypothesis(confidence=0.95, margin=0.005)
    rng = np.random.default_rng(args.seed)

    print(f"numpy {np.__version__}, scipy {sys.modules['scipy'].__version__}, n = {n:,}, "
          f"B = {b_res:,}")
    print(f"inputs: binary int8 2 x {n:,}, continuous float64 2 x {n:,}, "
          f"int64 ids 2 x {n:,} (not counted in peaks)")
    bc = (rng.uniform(size=n) < 0.82).astype(np.int8)
    bb = np.where(rng.uniform(size=n) < 0.9, bc, 1 - bc).astype(np.int8)
    cc = rng.uniform(size=n)
    cb = np.clip(cc + rng.normal(0.0, 0.1, n), 0.0, 1.0)
    clusters = rng.integers(0, 1000, n)
    ids_c = rng.permutation(n)
    ids_b = rng.permutation(n)
    print(f"after inputs: maxRSS {max_rss_mb():.0f} MB")
    print()

    t_pair = measure(f"pair {n:,} int ids (match_ids, shuffled both sides)",
                     lambda: match_ids(ids_c, ids_b))
    t_bin = measure("binary: analytic Tango interval",
                    lambda: compare_paired_binary(bc, bb, h))
    t_bin_b = measure(f"binary: 4-cell multinomial bootstrap, B={b_res:,}",
                      lambda: bootstrap_paired_binary(bc, bb, resamples=b_res, seed=1))
    t_cont = measure("continuous: analytic paired t (two-pass moments)",
                     lambda: compare_paired_mean(cc, cb, h))
    d = cc - cb
    t_cont_b = measure(f"continuous: 256-bin bootstrap of mean d, B={b_res:,}",
                       lambda: bootstrap_mean_difference(d, resamples=b_res, seed=1))
    t_clu = measure("clusters G=1,000: analytic cluster-t",
                    lambda: compare_paired_mean(cc, cb, h, clusters=clusters))
    t_clu_b = measure(f"clusters G=1,000: Poisson(1) weights bootstrap, B={b_res:,}",
                      lambda: bootstrap_mean_difference(d, resamples=b_res, seed=1,
                                                        clusters=clusters))
    fast_rss = max_rss_mb()
    print()

    m = args.scipy_n
    sc, sb = cc[:m].copy(), cb[:m].copy()

    def mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(x - y, axis=axis)

    def scipy_boot() -> Any:
        return stats.bootstrap(
            (sc, sb), mean_diff, paired=True, vectorized=True, method="percentile",
            n_resamples=args.scipy_resamples, batch=500, random_state=np.random.default_rng(1),
        )

    t_scipy = measure(f"scipy.stats.bootstrap paired percentile n={m:,}, "
                      f"B={args.scipy_resamples:,}", scipy_boot)
    extrapolated = t_scipy * n / m
    print()
    print(f"scipy extrapolated linearly to n={n:,}: {extrapolated:,.0f} s "
          f"({extrapolated / 60:.1f} min)")
    total_bin = t_bin + t_bin_b
    total_cont = t_cont + t_cont_b
    print(f"binary {n:,} paired comparison (analytic + B={b_res:,}): {total_bin:.2f} s, "
          f"{extrapolated / total_bin:,.0f}x faster than scipy extrapolated")
    print(f"continuous {n:,} paired comparison (analytic + B={b_res:,}): {total_cont:.2f} s, "
          f"{extrapolated / total_cont:,.0f}x faster than scipy extrapolated")
    print(f"clustered {n:,} (analytic + B={b_res:,}): {t_clu + t_clu_b:.2f} s; "
          f"pairing {n:,} ids by value: {t_pair:.2f} s")
    print(f"max RSS after the fast paths: {fast_rss:.0f} MB; after scipy: {max_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
