"""Absolute metric floors and ceilings (``min``/``max``) on the metric's point estimate.

The point estimate is the mean of what the run gives (the value, the mean of the K seeds, the
mean per-example score, or a series' final or best value as the rule's ``reduce`` says); its
standard error is shown beside it so a reader can see how close to the line it is. Comparisons
*with uncertainty* are ``vs_baseline`` rules (checks/vs_baseline.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, clean, fmt, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.checks.series import gated
from gatekeeper.models.policy import MetricRule
from gatekeeper.models.run import MetricSpec, PairedCounts
from gatekeeper.models.verdict import Check

Bound = Literal["min", "max"]
BOUNDS: tuple[Bound, ...] = ("min", "max")


def point_estimate(values: np.ndarray) -> tuple[float, float | None]:
    """Mean and its standard error (None for a single value)."""
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, None
    return mean, float(np.std(values, ddof=1) / math.sqrt(values.size))


@dataclass(frozen=True)
class _Reading:
    """The candidate's point estimate of one metric, as a floor or ceiling judges it."""

    metric: str
    mean: float
    se: float | None
    n: int

    def message(self, bound: Bound, limit: float, ok: bool) -> str:
        se_txt = f" ± {fmt(self.se)} SE" if self.se is not None else ""
        head = f"{self.metric} = {fmt(self.mean)}{se_txt} (n={self.n})"
        if ok:
            word, rel = ("floor", ">=") if bound == "min" else ("ceiling", "<=")
            return f"{head}; {word} {rel} {fmt(limit)}"
        side = "below the floor" if bound == "min" else "above the ceiling"
        return f"{head} is {side} {fmt(limit)}"


def run(ctx: Evidence) -> list[Check]:
    out: list[Check] = []
    for i, rule in enumerate(ctx.policy.policy.metrics):
        if rule.min is None and rule.max is None:
            continue
        if rule.metric not in ctx.bundle.run.metrics:
            out.extend(_missing(ctx, i, rule))
            continue
        judged = gated(ctx, "candidate", rule, i)
        values = judged.metric.values
        mean, se = point_estimate(values)
        reading = _Reading(judged.label(rule), mean, se, int(values.size))
        spec = ctx.bundle.run.metrics[rule.metric]
        out.extend(_bound_check(ctx, i, rule, _unpaired_worst(spec, rule, reading, bound),
                                bound)
                   for bound in BOUNDS if getattr(rule, bound) is not None)
    return out


def unpaired_mean_bounds(spec: MetricSpec, mean: float,
                         bounds: tuple[float, float] | None = None
                         ) -> tuple[float, float, int, int] | None:
    """Sufficient statistics give the candidate's mean over the pairs only; a floor, ceiling
    or budget judges every candidate example, as it does rows. With examples unpaired: the
    lowest and highest mean of all of them (each unpaired one at the lowest or highest score
    it can have, within ``bounds``), the number unpaired and the number of examples; None
    for rows, or when every example is paired."""
    stats = spec.paired_counts or spec.paired_moments or spec.paired_cluster_sums
    if stats is None:
        return None
    paired = stats.n if isinstance(stats, PairedCounts) else stats.n_paired
    unpaired = stats.n_candidate - paired
    if unpaired == 0:
        return None
    top = 1.0 if isinstance(stats, PairedCounts) else stats.max_abs_score
    lo, hi = (0.0, 1.0) if isinstance(stats, PairedCounts) else (-top, top)
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    n = stats.n_candidate
    return ((mean * paired + lo * unpaired) / n, (mean * paired + hi * unpaired) / n,
            unpaired, n)


def _unpaired_worst(spec: MetricSpec, rule: MetricRule, reading: _Reading, bound: Bound
                    ) -> _Reading:
    """The reading a bound judges: with candidate examples unpaired, the worst mean they
    allow (otherwise giving the worst examples ids the baseline lacks kept them out)."""
    found = unpaired_mean_bounds(spec, reading.mean, rule.range)
    if found is None:
        return reading
    low, high, unpaired, n = found
    return _Reading(f"{reading.metric} (at worst: {unpaired:,} unpaired example(s) scored "
                    f"{'lowest' if bound == 'min' else 'highest'})",
                    low if bound == "min" else high, None, n)


def _missing(ctx: Evidence, i: int, rule: MetricRule) -> list[Check]:
    """A metric the bundle lacks fails each of its bounds: nothing shows it within them."""
    return [check(ids.metric(rule.metric, bound), rule.on_fail,
                  f"metric {rule.metric!r} is not in the bundle, so its {bound} cannot be "
                  "checked", source=source_of(ctx.policy.location("metrics", i, bound)))
            for bound in BOUNDS if getattr(rule, bound) is not None]


def _bound_check(ctx: Evidence, i: int, rule: MetricRule, reading: _Reading,
                 bound: Bound) -> Check:
    limit = getattr(rule, bound)
    ok = reading.mean >= limit if bound == "min" else reading.mean <= limit
    return check(
        ids.metric(rule.metric, bound), "pass" if ok else rule.on_fail,
        reading.message(bound, limit, ok), observed=clean(reading.mean),
        threshold=float(limit), n=(reading.n, 0),
        source=source_of(ctx.policy.location("metrics", i, bound)),
    )
