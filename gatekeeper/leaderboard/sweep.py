"""The winner's curse of sweeps, and of repeated queries, as an adjustment of the confidence.

The best of k trials scored on one eval set is the maximum of k noisy estimates: even with no
true gain one of them clears a 95% interval far more often than 5% of the time. Asking every one
of the k comparisons at a stricter level keeps the family's false-improvement rate at α:
Šidák's 1 − (1 − α)^(1/k) (exact for independent trials) or Bonferroni's α/k (valid for any
dependence, slightly stricter). The same adjustment spreads α over a reuse budget of B
decisions under the Ladder. Pure functions: no I/O.
"""

from __future__ import annotations

from typing import Literal

SweepMethod = Literal["sidak", "bonferroni", "none"]


def adjusted_alpha(alpha: float, k: int, method: SweepMethod) -> float:
    """The per-comparison one-sided α that keeps a family of ``k`` at ``alpha``."""
    if k <= 1 or method == "none":
        return alpha
    if method == "bonferroni":
        return alpha / k
    return 1.0 - (1.0 - alpha) ** (1.0 / k)


def adjusted_confidence(confidence: float, k: int, method: SweepMethod) -> float:
    """The two-sided interval level whose one-sided α is adjusted over ``k``."""
    alpha = (1.0 - confidence) / 2.0
    return 1.0 - 2.0 * adjusted_alpha(alpha, k, method)
