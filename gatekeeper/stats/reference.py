"""Reference implementations for the validation benches and their tests; the gate does not use
them.

They stay so that ``bench/`` can show what the gate's methods are measured against and why the
alternatives are rejected:

- ``wald_paired_interval``: the Wald interval for paired binary scores, too liberal with few
  discordant pairs (``bench/sim_binary.py`` reports it as "(not used)"); the gate uses Tango.
- ``mcnemar_asymptotic_p``, ``mcnemar_exact_p``, ``mcnemar_midp``: the textbook two-sided
  McNemar tests; the gate reports the one-sided mid-p of :mod:`gatekeeper.stats.binary`.
- ``clopper_pearson_interval``: the exact (conservative) single-proportion interval the
  simulation compares Wilson's with; the gate uses Wilson.
- ``cluster_robust_variance``: Miller (2024) eq. 8 (CR1), the value the gate's CR2 variance is
  checked against.
- ``bootstrap_paired_binary``: the 4-cell multinomial bootstrap of a paired table, timed by
  ``bench/bench_compare.py``; the gate's binary intervals are analytic.
"""

from __future__ import annotations

import math

import numpy as np

from gatekeeper.stats.binary import wald_se
from gatekeeper.stats.dist import beta_ppf, binom_cdf, binom_pmf, norm_sf
from gatekeeper.stats.fast import check_resamples
from gatekeeper.stats.moments import ClusterSums, moments
from gatekeeper.stats.proportion import check_confidence, check_counts, z_two_sided


def wald_paired_interval(n10: int, n01: int, n: int, confidence: float) -> tuple[float, float]:
    """Wald interval; too liberal with few discordant pairs, kept for comparison only."""
    z = z_two_sided(confidence)
    if n == 0:
        return (-1.0, 1.0)
    delta = (n10 - n01) / n
    half = z * wald_se(n10, n01, n)
    return (max(-1.0, delta - half), min(1.0, delta + half))


def mcnemar_asymptotic_p(n10: int, n01: int) -> float:
    """Two-sided McNemar test without continuity correction; 1 without discordant pairs."""
    discordant = n10 + n01
    if discordant == 0:
        return 1.0
    z = (n10 - n01) / math.sqrt(discordant)
    return float(min(1.0, 2.0 * norm_sf(abs(z))))


def mcnemar_exact_p(n10: int, n01: int) -> float:
    """Two-sided exact conditional McNemar test (doubled binomial tail)."""
    discordant = n10 + n01
    if discordant == 0:
        return 1.0
    tail = binom_cdf(min(n10, n01), discordant, 0.5)
    return float(min(1.0, 2.0 * tail))


def mcnemar_midp(n10: int, n01: int) -> float:
    """Two-sided McNemar mid-p: the exact p minus the probability of the observed table."""
    discordant = n10 + n01
    if discordant == 0:
        return 1.0
    k = min(n10, n01)
    tail = binom_cdf(k, discordant, 0.5) - 0.5 * binom_pmf(k, discordant, 0.5)
    return float(min(1.0, 2.0 * tail))


def clopper_pearson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact (conservative) interval from beta quantiles; (0, 1) when n == 0."""
    check_counts(k, n)
    check_confidence(confidence)
    if n == 0:
        return (0.0, 1.0)
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if k == 0 else float(beta_ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(beta_ppf(1.0 - tail, k + 1, n - k))
    return (low, high)


def cluster_robust_variance(
    values: np.ndarray, clusters: ClusterSums, center: float | None = None
) -> float:
    """Variance of the mean with clustering (Miller 2024, eq. 8).

    (1/n^2) * sum_c (sum_{i in c} (x_ic - mean))^2 * G/(G-1). The values are centred before
    they are summed per cluster, so no large common offset cancels inside the cluster sums.
    """
    arr = np.asarray(values, dtype=np.float64)
    n = arr.size
    g = clusters.n_clusters
    if n == 0 or g < 2:
        return 0.0
    mu = moments(arr).mean if center is None else center
    # Centre the values first so that the cluster sums carry no large common offset.
    centred = np.bincount(clusters.inverse, weights=arr - mu, minlength=g)
    return float(np.dot(centred, centred)) / (n * n) * g / (g - 1)


def bootstrap_paired_binary(
    candidate: np.ndarray, baseline: np.ndarray, *, resamples: int, seed: int
) -> np.ndarray:
    """Bootstrap distribution (length ``resamples``) of Δ = (n10 - n01) / n for 0/1 pairs."""
    c = np.asarray(candidate)
    b = np.asarray(baseline)
    if c.shape != b.shape or c.ndim != 1:
        raise ValueError("candidate and baseline must be 1-D arrays of equal length")
    if not (np.isin(c, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError("binary bootstrap needs 0/1 scores")
    check_resamples(resamples)
    n = int(c.size)
    if n == 0:
        raise ValueError("no paired examples to resample")
    cells = np.bincount(2 * c.astype(np.int64) + b.astype(np.int64), minlength=4)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, cells / n, size=resamples)
    # cell 2 = candidate right / baseline wrong (n10), cell 1 = the reverse (n01)
    return (draws[:, 2] - draws[:, 1]) / n
