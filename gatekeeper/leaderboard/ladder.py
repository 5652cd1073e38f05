"""The Ladder release of a comparison (Blum & Hardt, "The Ladder: A Reliable Leaderboard for
Machine Learning Competitions", ICML 2015), as pure arithmetic.

A leaderboard that answers every query exactly can be climbed with no real skill: each exact
score leaks a little about the eval set's labels. The Ladder answers with a new score only when
it beats the best so far by a step η, and rounds it to η. Here the best so far is the baseline:
an improvement is reported only when the interval's lower end clears one step, and then the
released Δ, interval and values are multiples of η (Δ rounded toward zero, the interval
outward). Everything else about the comparison — its exact Δ, interval, p-value — is withheld;
the outcome (non-inferior, inconclusive, worse) is still released, since the status needs it.
"""

from __future__ import annotations

import math

# Released numbers are shown with this many decimals; a step finer than that is rounded here.
DECIMALS = 6


def _clean(x: float) -> float:
    return round(x, DECIMALS) + 0.0  # + 0.0: no "-0.0"


def toward_zero(x: float, step: float) -> float:
    """``x`` rounded to a multiple of ``step`` toward zero (a climb is never overstated)."""
    k = math.floor(abs(x) / step + 1e-9)
    return _clean(math.copysign(k * step, x))


def down(x: float, step: float) -> float:
    return _clean(math.floor(x / step + 1e-9) * step)


def up(x: float, step: float) -> float:
    return _clean(math.ceil(x / step - 1e-9) * step)


def outward(ci: tuple[float, float], step: float) -> tuple[float, float]:
    """The interval widened to multiples of ``step``: it still covers what it covered."""
    return down(ci[0], step), up(ci[1], step)


def ladder_gain(gain: float, step: float) -> float:
    """The improvement the Ladder asks for: at least one step above the baseline."""
    return max(gain, step)
