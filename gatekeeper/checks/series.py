"""A metric as a rule gates on it: a series reduced to the one value the rule names.

A series (a curve by step) has no single value of its own, so a rule on one says which it means
(``reduce: final`` or ``reduce: best``) and the floors, ceilings and baseline comparisons then
judge that value like any single-valued metric. A rule without ``reduce`` on a series, or with
it on a metric that is not a series, is an input error naming the rule: gating on the mean of a
curve, or silently on something else, would judge a number nobody chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatekeeper.checks.evidence import Evidence
from gatekeeper.errors import InputError
from gatekeeper.inputs.scores import LoadedMetric
from gatekeeper.inputs.series import Point, reduce
from gatekeeper.models.policy import MetricRule
from gatekeeper.models.verdict import Check


@dataclass(frozen=True)
class Gated:
    metric: LoadedMetric  # what the rule judges: the metric as loaded, or the reduced value
    point: Point | None = None  # the series point it came from; None for other metrics

    def label(self, rule: MetricRule) -> str:
        """The metric's name as messages show it: ``loss (best, step 40)`` for a series."""
        if self.point is None:
            return rule.metric
        return f"{rule.metric} ({rule.reduce}, step {self.point.step:g})"


def gated(ctx: Evidence, which: str, rule: MetricRule, index: int) -> Gated:
    """Metric ``rule.metric`` of the candidate or baseline bundle, as rule ``index`` judges it."""
    loaded = ctx.metric(which, rule.metric)
    where = ctx.policy.location("metrics", index)
    if rule.reduce is None:
        if loaded.kind == "series":
            raise InputError(
                f"metric {rule.metric!r} is a series (a curve by step) in the {which} bundle: "
                "say which of its values the rule gates, with reduce: final or reduce: best",
                where)
        return Gated(loaded)
    if loaded.kind != "series" or loaded.steps is None:
        raise InputError(
            f"the rule reduces a series (reduce: {rule.reduce}) but the {which} bundle gives "
            f"metric {rule.metric!r} as {loaded.kind}, not a series: drop reduce, or record "
            "the curve", ctx.policy.location("metrics", index, "reduce"))
    point = reduce(loaded.steps, loaded.values, rule.reduce, rule.higher_is_better)
    value = LoadedMetric(loaded.name, "value", np.asarray([point.value], dtype=np.float64),
                         file=loaded.file)
    return Gated(value, point)


def run(ev: Evidence) -> list[Check]:
    """Read every series of the candidate, gated or not: a malformed curve (empty, a value that
    is not finite, a step repeated or going back) is an input error whatever the policy says,
    as the reports that draw it would find. It yields no check of its own."""
    for name, spec in sorted(ev.bundle.run.metrics.items()):
        if spec.kind == "series":
            ev.metric("candidate", name)
    return []
