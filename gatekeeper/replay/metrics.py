"""Metric by metric: how far each replayed number moved from the original."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatekeeper.errors import GatekeeperError
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.scores import LoadedMetric, load_metric


@dataclass(frozen=True)
class MetricMove:
    metric: str
    where: str  # "seed 3", "mean over 2000 examples", "value"
    original: float | None
    replay: float | None
    # How far the number the tolerance applies to moved (inf: not comparable): each
    # replicate, a value, the mean of per-example scores or samples, a curve's last point.
    delta: float
    tolerance: float
    note: str | None = None  # why it could not be compared
    changed: bool = True  # any number at all differs (a repeatable run has none)

    @property
    def within(self) -> bool:
        return self.delta <= self.tolerance

    def describe(self) -> str:
        if self.note is not None:
            return f"metric {self.metric}: {self.note}"
        signed = (self.replay or 0.0) - (self.original or 0.0)
        return (f"metric {self.metric} ({self.where}): {self.original:.10g} -> "
                f"{self.replay:.10g} (moved by {signed:+.6g}; tolerance {self.tolerance:g})")


def _positions(a: LoadedMetric, b: LoadedMetric, name: str, tol: float) -> MetricMove:
    if a.values.shape != b.values.shape:
        return MetricMove(name, a.kind, None, None, float("inf"), tol,
                          note=f"{a.values.size} values in the original, {b.values.size} in "
                               "the replay")
    diff = np.abs(b.values - a.values)
    if not diff.size:
        return MetricMove(name, "value", None, None, 0.0, tol, changed=False)
    changed = bool(np.any(diff != 0))
    if a.kind == "series":
        moved = int(np.count_nonzero(diff))
        return MetricMove(name, f"{moved} of {diff.size} points changed; the last",
                          float(a.values[-1]), float(b.values[-1]), float(diff[-1]), tol,
                          changed=changed)
    i = int(np.argmax(diff))
    where = "value"
    if a.kind == "replicates" and a.seeds is not None and i < len(a.seeds):
        moved = int(np.count_nonzero(diff))
        where = (f"seed {a.seeds[i]}" if moved <= 1 else
                 f"{moved} of {diff.size} seeds moved; the most, seed {a.seeds[i]}")
    return MetricMove(name, where, float(a.values[i]), float(b.values[i]), float(diff[i]),
                      tol, changed=changed)


def _per_example(a: LoadedMetric, b: LoadedMetric, name: str, tol: float) -> MetricMove:
    assert a.ids is not None and b.ids is not None
    if set(a.ids.tolist()) != set(b.ids.tolist()):
        return MetricMove(name, "examples", None, None, float("inf"), tol,
                          note="the replay scored other examples than the original")
    order_a, order_b = np.argsort(a.ids), np.argsort(b.ids)
    diff = np.abs(b.values[order_b] - a.values[order_a])
    changed = int(np.count_nonzero(diff))
    where = f"{changed} of {diff.size} example scores changed; the mean"
    ma, mb = float(a.values.mean()), float(b.values.mean())
    return MetricMove(name, where, ma, mb, abs(mb - ma), tol, changed=changed > 0)


def _samples(a: LoadedMetric, b: LoadedMetric, name: str, tol: float) -> MetricMove:
    ma, mb = float(a.values.mean()), float(b.values.mean())
    changed = a.values.shape != b.values.shape or bool(np.any(a.values != b.values))
    return MetricMove(name, f"mean of {a.values.size} samples", ma, mb, abs(mb - ma), tol,
                      changed=changed)


def compare_metric(original: Bundle, replay: Bundle, name: str, tol: float) -> MetricMove:
    if name not in replay.run.metrics:
        return MetricMove(name, "", None, None, float("inf"), tol,
                          note="not in the replay's bundle")
    try:
        a, b = load_metric(original, name), load_metric(replay, name)
    except GatekeeperError as exc:
        return MetricMove(name, "", None, None, float("inf"), tol, note=f"unreadable: {exc}")
    if a.kind != b.kind:
        return MetricMove(name, "", None, None, float("inf"), tol,
                          note=f"{a.kind} in the original, {b.kind} in the replay")
    if a.kind == "per_example":
        return _per_example(a, b, name, tol)
    if a.kind == "samples":
        return _samples(a, b, name, tol)
    return _positions(a, b, name, tol)
