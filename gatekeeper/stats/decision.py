"""Interval -> outcome, exactly the table of STATISTICS.md §1. All policy wording lives in
``evaluate.py``; this module only knows intervals and thresholds."""

from __future__ import annotations

import math

from gatekeeper.stats.types import Comparison, Hypothesis, Outcome


def oriented_interval(ci: tuple[float, float], higher_is_better: bool) -> tuple[float, float]:
    """Flip the interval so that 'higher is better' holds for every metric."""
    low, high = ci
    return (low, high) if higher_is_better else (-high, -low)


def decide(comparison: Comparison, hypothesis: Hypothesis) -> Outcome:
    if comparison.degenerate or not all(math.isfinite(x) for x in comparison.ci):
        return Outcome.NO_INFORMATION
    low, high = oriented_interval(comparison.ci, hypothesis.higher_is_better)
    m, g = hypothesis.margin, hypothesis.gain
    if hypothesis.require_improvement:
        if low > g:
            return Outcome.IMPROVED
        if high < -m:
            return Outcome.WORSE
        if low > -m:
            return Outcome.NOT_IMPROVED
        return Outcome.INCONCLUSIVE
    if low > -m:
        return Outcome.IMPROVED if low > g and g > 0 else Outcome.NON_INFERIOR
    if high < -m:
        return Outcome.WORSE
    return Outcome.INCONCLUSIVE


MAX_SAMPLES = 10**15


def more_samples_needed(n: int, mde: float | None, margin: float) -> int | None:
    """How many more samples make the MDE reach the margin (SE shrinks as 1/sqrt(n))."""
    if mde is None or margin <= 0 or not math.isfinite(mde) or mde <= margin or n <= 0:
        return None
    ratio = mde / margin
    # A margin far below the MDE asks for more samples than any eval set has (or than a float
    # can hold: squaring would overflow): there is no honest number to print, so none is given.
    if not math.isfinite(ratio) or ratio > math.sqrt(MAX_SAMPLES / n):
        return None
    return math.ceil(n * ratio**2) - n
