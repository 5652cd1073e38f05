"""Bootstrap distributions from sufficient statistics, for 10^7 examples and B = 10^4.

A plain bootstrap (scipy.stats.bootstrap) costs O(B * n) time and memory: about 50 minutes at
n = 10^7. These paths resample a few sufficient statistics instead:

- paired binary: the 4 cells of the 2x2 table, ``rng.multinomial(n, cells / n, size=B)``
  (exact: it *is* the bootstrap distribution of the table; only the benches time it, so it is
  :func:`gatekeeper.stats.reference.bootstrap_paired_binary`);
- a mean of continuous differences d: 256 equal-width bins of (count, sum d, sum of squared
  deviations); a multinomial over the bins plus one within-bin normal term per resample. The
  between-bin part is exact, the within-bin part is its CLT limit (each bin holds many
  examples at large n), so the bootstrap variance is reproduced exactly in expectation;
- clusters: per-cluster sums with Poisson(1) weights, ``(W @ sums) / (W @ counts)``.

When they are used: the decision for a *mean* uses the analytic t interval (at n >= 10^4 the
bootstrap adds only Monte Carlo noise). These distributions serve the explicit
``method="bootstrap"`` override and are building blocks for resampling non-decomposable
metrics. All draws come from ``np.random.default_rng(seed)``: the same seed gives the same bytes.
"""

from __future__ import annotations

import numpy as np

from gatekeeper.stats.moments import CHUNK, as_float_array, cluster_sums

N_BINS = 256
# Rows of the B x G weight matrix generated at once: bounds memory to ~2^23 float64 values.
_WEIGHT_BLOCK = 1 << 23


def bootstrap_mean_difference(
    d: np.ndarray,
    *,
    resamples: int,
    seed: int,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """Bootstrap distribution (length ``resamples``) of mean(d).

    Without clusters: 256 bins with a multinomial over bins and a within-bin normal term.
    With clusters: Poisson(1) weights per cluster (B x G, generated in blocks).
    """
    arr = as_float_array(d, "differences")
    check_resamples(resamples)
    if arr.size == 0:
        raise ValueError("no differences to resample")
    rng = np.random.default_rng(seed)
    if clusters is not None:
        return _cluster_poisson(arr, np.asarray(clusters), resamples, rng)
    return _binned(arr, resamples, rng)


def check_resamples(resamples: int) -> None:
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")


def _binned(arr: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    n = int(arr.size)
    lo, hi = float(arr.min()), float(arr.max())
    if hi == lo:
        return np.full(resamples, lo)
    scale = N_BINS / (hi - lo)
    counts = np.zeros(N_BINS, dtype=np.int64)
    sums = np.zeros(N_BINS)
    # Pass 1: counts and sums per bin, chunked so temporaries stay small at n = 10^7.
    for start in range(0, n, CHUNK):
        x = arr[start : start + CHUNK]
        idx = np.minimum(((x - lo) * scale).astype(np.intp), N_BINS - 1)
        counts += np.bincount(idx, minlength=N_BINS)
        sums += np.bincount(idx, weights=x, minlength=N_BINS)
    means = np.divide(sums, counts, out=np.zeros(N_BINS), where=counts > 0)
    # Pass 2: within-bin squared deviations from the bin mean (two-pass, stable).
    m2 = np.zeros(N_BINS)
    for start in range(0, n, CHUNK):
        x = arr[start : start + CHUNK]
        idx = np.minimum(((x - lo) * scale).astype(np.intp), N_BINS - 1)
        dev = x - means[idx]
        m2 += np.bincount(idx, weights=dev * dev, minlength=N_BINS)
    # Population (ddof = 0) variance within each bin: what resampling from the bin reproduces.
    within = np.divide(m2, counts, out=np.zeros(N_BINS), where=counts > 0)
    draws = rng.multinomial(n, counts / n, size=resamples).astype(np.float64)
    noise = rng.standard_normal(resamples)
    total = draws @ means + np.sqrt(draws @ within) * noise
    return total / n


def _cluster_poisson(
    arr: np.ndarray, clusters: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    groups = cluster_sums(arr, clusters)
    g = groups.n_clusters
    out = np.empty(resamples)
    block = max(1, _WEIGHT_BLOCK // g)
    for start in range(0, resamples, block):
        rows = min(block, resamples - start)
        w = rng.poisson(1.0, size=(rows, g)).astype(np.float64)
        den = w @ groups.counts
        # A resample with every weight 0 (probability e^-G) is drawn again, from the same
        # generator, so the result stays a function of the seed alone.
        empty = np.flatnonzero(den == 0)
        while empty.size:
            w[empty] = rng.poisson(1.0, size=(empty.size, g))
            den[empty] = w[empty] @ groups.counts
            empty = empty[den[empty] == 0]
        out[start : start + rows] = (w @ groups.sums) / den
    return out


def percentile_interval(distribution: np.ndarray, confidence: float) -> tuple[float, float]:
    """Two-sided percentile interval of a bootstrap distribution."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(distribution, [tail, 1.0 - tail])
    return float(low), float(high)
