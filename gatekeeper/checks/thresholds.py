"""Absolute metric floors and ceilings (``min``/``max``) on the metric's point estimate.

The point estimate is the mean of what the run gives (the value, the mean of the K seeds, the
mean per-example score); its standard error is shown beside it so a reader can see how close to
the line it is. Comparisons *with uncertainty* are ``vs_baseline`` rules (checks/vs_baseline.py).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, clean, fmt, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.verdict import Check

BOUNDS: tuple[Literal["min", "max"], ...] = ("min", "max")


def point_estimate(values: np.ndarray) -> tuple[float, float | None]:
    """Mean and its standard error (None for a single value)."""
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, None
    return mean, float(np.std(values, ddof=1) / math.sqrt(values.size))


def run(ctx: Evidence) -> list[Check]:
    out: list[Check] = []
    for i, rule in enumerate(ctx.policy.policy.metrics):
        if rule.min is None and rule.max is None:
            continue
        if rule.metric not in ctx.bundle.run.metrics:
            for bound in BOUNDS:
                if getattr(rule, bound) is None:
                    continue
                out.append(check(
                    ids.metric(rule.metric, bound), rule.on_fail,
                    f"metric {rule.metric!r} is not in the bundle, so its {bound} cannot be "
                    "checked", source=source_of(ctx.policy.location("metrics", i, bound)),
                ))
            continue
        loaded = ctx.metric("candidate", rule.metric)
        mean, se = point_estimate(loaded.values)
        n = int(loaded.values.size)
        for bound in BOUNDS:
            limit = getattr(rule, bound)
            if limit is None:
                continue
            ok = mean >= limit if bound == "min" else mean <= limit
            word = "floor" if bound == "min" else "ceiling"
            rel = ">=" if bound == "min" else "<="
            se_txt = f" ± {fmt(se)} SE" if se is not None else ""
            message = (f"{rule.metric} = {fmt(mean)}{se_txt} (n={n}); {word} {rel} {fmt(limit)}"
                       if ok else
                       f"{rule.metric} = {fmt(mean)}{se_txt} (n={n}) is "
                       f"{'below the floor' if bound == 'min' else 'above the ceiling'} "
                       f"{fmt(limit)}")
            out.append(check(
                ids.metric(rule.metric, bound), "pass" if ok else rule.on_fail, message,
                observed=clean(mean), threshold=float(limit), n=(n, 0),
                source=source_of(ctx.policy.location("metrics", i, bound)),
            ))
    return out
