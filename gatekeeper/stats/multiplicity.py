"""Adjusted p-values for families of tests.

"Pass only if every metric holds" is an intersection-union test and needs no adjustment
(Berger 1982); "block if any metric degrades" and "claim improvement on any" do. Holm controls
the family-wise error rate under any dependence; Benjamini-Hochberg controls the false
discovery rate (for independent or positively dependent tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

AdjustMethod = Literal["holm", "bh", "bonferroni", "none"]


def _as_pvalues(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be one-dimensional, got shape {p.shape}")
    if not np.all((p >= 0.0) & (p <= 1.0)):  # also rejects NaN
        raise ValueError("p-values must lie in [0, 1]")
    return p


def bonferroni(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    p = _as_pvalues(pvalues)
    return np.minimum(1.0, p * p.size)


def holm(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order."""
    p = _as_pvalues(pvalues)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = p[order] * (m - np.arange(m))
    adjusted = np.minimum(1.0, np.maximum.accumulate(stepped))
    out = np.empty(m)
    out[order] = adjusted
    return out


def benjamini_hochberg(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (q-values), in the input order."""
    p = _as_pvalues(pvalues)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(stepped[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    return out


def adjust(pvalues: Sequence[float] | ArrayLike, method: AdjustMethod) -> np.ndarray:
    if method == "holm":
        return holm(pvalues)
    if method == "bh":
        return benjamini_hochberg(pvalues)
    if method == "bonferroni":
        return bonferroni(pvalues)
    if method == "none":
        return _as_pvalues(pvalues).copy()
    raise ValueError(f"unknown multiplicity adjustment {method!r}")
