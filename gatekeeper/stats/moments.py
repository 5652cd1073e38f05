"""Numerically stable sufficient statistics for large float64 arrays.

Variances are computed in two passes (mean first, then squared deviations), never as
``sum_sq / n - mean**2``: at n = 10^7 with a large common offset that formula loses every
significant digit. Both passes run over fixed-size chunks so that the temporary arrays stay a
few megabytes even for 10^7 elements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# 2^20 float64 values = 8 MiB of temporaries per chunk.
CHUNK = 1 << 20


@dataclass(frozen=True)
class Moments:
    """Count, mean and the sum of squared deviations from the mean (M2)."""

    n: int
    mean: float
    m2: float

    @property
    def variance(self) -> float:
        """Sample variance (ddof = 1); 0.0 when n < 2."""
        return self.m2 / (self.n - 1) if self.n >= 2 else 0.0

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance)


def as_float_array(x: np.ndarray, name: str = "values") -> np.ndarray:
    """A 1-D float64 view of ``x``; raises ValueError on NaN or infinity."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name} contains a non-finite value at position {bad}")
    return arr


def mean(x: np.ndarray) -> float:
    """Chunked mean; np.sum's pairwise summation keeps it accurate to O(log n) ulps."""
    arr = np.asarray(x, dtype=np.float64)
    n = int(arr.size)
    if n == 0:
        return 0.0
    total = 0.0
    for start in range(0, n, CHUNK):
        total += float(np.sum(arr[start : start + CHUNK]))
    return total / n


def moments(x: np.ndarray) -> Moments:
    """Two-pass, chunked mean and M2 of a 1-D float64 array."""
    arr = np.asarray(x, dtype=np.float64)
    n = int(arr.size)
    if n == 0:
        return Moments(0, 0.0, 0.0)
    mean_ = mean(arr)
    m2 = 0.0
    correction = 0.0
    for start in range(0, n, CHUNK):
        dev = arr[start : start + CHUNK] - mean_
        m2 += float(np.dot(dev, dev))
        correction += float(np.sum(dev))
    # The compensated term removes the rounding error left in ``mean`` (Chan et al. 1983).
    m2 -= correction * correction / n
    return Moments(n, mean_, max(m2, 0.0))


# Below this M2/n, (M2/n)^1.5 leaves the normal floats (about 1e-308).
_TINY = 1e-200


def skewness(x: np.ndarray, center: float, m2: float) -> float:
    """Sample skewness g1 = (M3/n) / (M2/n)^1.5 from a chunked central-moment pass; 0 if flat."""
    arr = np.asarray(x, dtype=np.float64)
    n = arr.size
    if n < 3 or m2 <= 0.0:
        return 0.0
    if m2 / n < _TINY:
        # The cube of so small a spread underflows (to 0: a division by zero): take the
        # deviations in units of the spread instead. Ordinary data never comes here, so its
        # skewness is computed as it always was.
        sd = math.sqrt(m2 / n)
        m3 = 0.0
        for start in range(0, n, CHUNK):
            z = (arr[start : start + CHUNK] - center) / sd
            m3 += float(np.dot(z * z, z))
        return m3 / n
    m3 = 0.0
    for start in range(0, n, CHUNK):
        dev = arr[start : start + CHUNK] - center
        m3 += float(np.dot(dev * dev, dev))
    return skewness_from_sums(n, m2, m3)


def skewness_from_sums(n: int, m2: float, m3: float) -> float:
    """g1 = (M3/n) / (M2/n)^1.5 from the sums of squared and cubed deviations; 0 below 3
    values or with no spread. (M2/n)^1.5 leaves the floats for M2/n below ~1e-205 or past
    ~1e205, where the quotient still has a value: it is then taken in logs (inf when no float
    holds it). models/run.py (PairedMoments.skewness) computes the same from a bundle's M2 and
    M3; rows with so small a spread take the deviations in units of it (``skewness``)."""
    if n < 3 or m2 <= 0.0:
        return 0.0
    try:
        return (m3 / n) / (m2 / n) ** 1.5
    except (OverflowError, ZeroDivisionError):
        if m3 == 0.0:
            return 0.0
        log_g1 = math.log(abs(m3)) - math.log(n) - 1.5 * (math.log(m2) - math.log(n))
        return math.copysign(math.exp(log_g1) if log_g1 < 709.0 else math.inf, m3)


@dataclass(frozen=True)
class ClusterSums:
    """Per-cluster counts and sums, in the order of the sorted cluster labels."""

    labels: np.ndarray
    counts: np.ndarray  # float64, so that weight @ counts needs no cast
    sums: np.ndarray
    inverse: np.ndarray  # position of each element's cluster in ``labels``

    @property
    def n_clusters(self) -> int:
        return int(self.labels.size)


def cluster_sums(values: np.ndarray, clusters: np.ndarray) -> ClusterSums:
    """Per-cluster counts and sums via one sort (np.unique) and np.bincount."""
    arr = np.asarray(values, dtype=np.float64)
    lab = np.asarray(clusters)
    if lab.shape != arr.shape:
        raise ValueError(
            f"clusters must have one label per value: got {lab.shape} labels for {arr.shape} values"
        )
    small_ints = lab.dtype.kind in "iu" and lab.size > 0
    if small_ints and int(lab.min()) >= 0 and int(lab.max()) < 4 * lab.size:
        # Small non-negative integer labels: an O(n) bincount replaces the O(n log n) sort.
        present = np.bincount(lab) > 0
        labels = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[lab]
    else:
        labels, inverse = np.unique(lab, return_inverse=True)
        inverse = inverse.reshape(-1)
    g = int(labels.size)
    counts = np.bincount(inverse, minlength=g).astype(np.float64)
    sums = np.bincount(inverse, weights=arr, minlength=g)
    return ClusterSums(labels=labels, counts=counts, sums=sums, inverse=inverse)
