"""Series metrics in the reports: a summary row per curve (final value, best value and its step,
the baseline's beside them) and, for the HTML report, an inline SVG line chart of the
candidate's curve over the baseline's.

The chart is geometry computed here and drawn by the template (which escapes every label): no
script, no external resource, and the same curves give the same bytes — every coordinate and
tick label goes through one fixed format. A long curve is cut down to ``MAX_POINTS`` points by
largest-triangle-three-buckets (Steinarsson 2013): it keeps the first and last points and, in
each bucket between, the point that spans the largest triangle with its neighbours, so a spike
or a dip — what a reviewer looks for in a loss curve — survives where a fixed stride would step
over it. It is deterministic (no randomness, ties to the earliest point). The final and best
points are marked from the full curve, whatever the cut keeps.

Which way is "best": the direction of the policy's rule on the metric when there is one, else
lower-is-better for a name with a word such as ``loss``, ``error`` or ``perplexity`` in it
(``DEFAULT_LOWER``) and higher-is-better otherwise; the reports say which applied.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.scores import load_metric
from gatekeeper.inputs.series import Point, best, final
from gatekeeper.policy.loader import LoadedPolicy
from gatekeeper.report.context import ReportContext
from gatekeeper.report.formatting import step as fmt_step

MAX_POINTS = 300  # per curve drawn
MAX_CURVES = 50  # series listed and drawn; the rest are counted
DEFAULT_LOWER = frozenset({"loss", "error", "err", "perplexity", "ppl", "wer", "cer",
                           "latency", "cost", "mse", "mae", "rmse", "nll"})
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 12, 36


def lttb(x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """Indices of at most ``n`` points that keep the curve's shape (first and last kept)."""
    size = int(x.size)
    if size <= n or n < 3:
        return np.arange(size)
    every = (size - 2) / (n - 2)
    keep = [0]
    a = 0
    for i in range(n - 2):
        start = math.floor(i * every) + 1
        end = math.floor((i + 1) * every) + 1
        nxt = min(math.floor((i + 2) * every) + 1, size)
        ax, ay = x[a], y[a]
        bx, by = float(np.mean(x[end:nxt])), float(np.mean(y[end:nxt]))
        area = np.abs((ax - bx) * (y[start:end] - ay) - (ax - x[start:end]) * (by - ay))
        a = start + int(np.argmax(area))
        keep.append(a)
    keep.append(size - 1)
    return np.asarray(keep)


def _px(v: float) -> str:
    out = f"{v:.1f}"
    return "0.0" if out == "-0.0" else out


def _tick_label(v: float) -> str:
    out = f"{v:.6g}"
    return "0" if out in ("-0", "0") else out


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) from ``lo`` to ``hi``."""
    span = hi - lo
    raw = span / count
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if span / (m * mag) <= count)
    first = math.ceil(lo / step - 1e-9)
    out: list[float] = []
    k = first
    while k * step <= hi + step * 1e-9:
        value = k * step
        out.append(0.0 if abs(value) < step * 1e-9 else value)
        k += 1
    return out


def _domain(lo: float, hi: float) -> tuple[float, float]:
    """A non-empty range around the data (a flat curve or a single point gets some room)."""
    if hi > lo:
        pad = (hi - lo) * 0.05
        return lo - pad, hi + pad
    room = abs(lo) * 0.05 or 0.5
    return lo - room, hi + room


@dataclass(frozen=True)
class Side:
    """One bundle's curve: its reductions and the points drawn."""

    final: Point
    best: Point
    count: int
    steps: np.ndarray  # the points drawn (after the cut)
    values: np.ndarray


@dataclass(frozen=True)
class Tick:
    pos: str
    label: str


@dataclass(frozen=True)
class Marker:
    x: str
    y: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge
    candidate: str  # polyline points
    baseline: str | None
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    markers: list[Marker]
    cut: bool  # a curve was cut down to MAX_POINTS


@dataclass(frozen=True)
class Curve:
    metric: str
    higher_is_better: bool
    direction_from: str  # "policy rule" or "default"
    candidate: Side
    baseline: Side | None

    @property
    def best_word(self) -> str:
        return "highest" if self.higher_is_better else "lowest"

    def chart(self) -> Chart:
        return _chart(self)


@dataclass(frozen=True)
class Curves:
    shown: list[Curve]
    hidden: int  # series past MAX_CURVES, counted only


def direction(metric: str, policy: LoadedPolicy | None) -> tuple[bool, str]:
    """(higher_is_better, where it came from) for ``metric``."""
    if policy is not None:
        for rule in policy.policy.metrics:
            if rule.metric == metric:
                return rule.higher_is_better, "policy rule"
    words = set(re.split(r"[^a-z0-9]+", metric.lower()))
    return not (words & DEFAULT_LOWER), "default"


def _side(bundle: Bundle, name: str, higher_is_better: bool) -> Side:
    loaded = load_metric(bundle, name)
    assert loaded.steps is not None
    keep = lttb(loaded.steps, loaded.values, MAX_POINTS)
    return Side(final(loaded.steps, loaded.values),
                best(loaded.steps, loaded.values, higher_is_better),
                int(loaded.values.size), loaded.steps[keep], loaded.values[keep])


def _is_series(bundle: Bundle | None, name: str) -> bool:
    return bundle is not None and name in bundle.run.metrics \
        and bundle.run.metrics[name].kind == "series"


def curves(ctx: ReportContext) -> Curves:
    """Every series of the candidate, by name, with the baseline's curve when it has one."""
    if "curves" not in ctx.memo:
        ctx.memo["curves"] = _curves(ctx)
    found: Curves = ctx.memo["curves"]
    return found


def _withheld(name: str, ctx: ReportContext) -> bool:
    """Under the policy's leaderboard settings (docs/leaderboard.md) a gated metric's exact
    values are not released (``release: ladder``), nor a sealed holdout's: nor is its curve."""
    lb = ctx.policy.policy.leaderboard if ctx.policy is not None else None
    if lb is None or ctx.candidate is None or ctx.policy is None:
        return False
    spec = ctx.candidate.run.metrics.get(name)
    sealed = spec is not None and spec.data is not None and spec.data in lb.sealed
    rules = ctx.policy.policy
    # A budget on the metric gates it too: its check is verdict-only under the Ladder.
    gated = any(rule.metric == name for rule in rules.metrics) \
        or any(b.name == name for b in rules.budgets)
    return sealed or (lb.release == "ladder" and gated)


def _curves(ctx: ReportContext) -> Curves:
    if ctx.candidate is None:
        return Curves([], 0)
    names = sorted(n for n in ctx.candidate.run.metrics
                   if _is_series(ctx.candidate, n) and not _withheld(n, ctx))
    out: list[Curve] = []
    for name in names[:MAX_CURVES]:
        higher, source = direction(name, ctx.policy)
        base = _side(ctx.baseline, name, higher) \
            if ctx.baseline is not None and _is_series(ctx.baseline, name) else None
        out.append(Curve(name, higher, source, _side(ctx.candidate, name, higher), base))
    return Curves(out, max(0, len(names) - MAX_CURVES))


class _Scale:
    def __init__(self, sides: list[Side]) -> None:
        steps = np.concatenate([s.steps for s in sides] + [np.asarray([s.best.step, s.final.step])
                                                           for s in sides])
        values = np.concatenate([s.values for s in sides]
                                + [np.asarray([s.best.value, s.final.value]) for s in sides])
        self.x0, self.x1 = _domain(float(steps.min()), float(steps.max()))
        self.y0, self.y1 = _domain(float(values.min()), float(values.max()))

    def x(self, step: float) -> float:
        return LEFT + (step - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (value - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def points(self, side: Side) -> str:
        return " ".join(f"{_px(self.x(float(s)))},{_px(self.y(float(v)))}"
                        for s, v in zip(side.steps, side.values, strict=True))


def _chart(curve: Curve) -> Chart:
    sides = [curve.candidate] + ([curve.baseline] if curve.baseline is not None else [])
    scale = _Scale(sides)
    markers = [Marker(_px(scale.x(p.step)), _px(scale.y(p.value)),
                      f"candidate {what}: {p.value:.6g} at step {fmt_step(p.step)}")
               for what, p in (("final", curve.candidate.final), ("best", curve.candidate.best))]
    return Chart(
        width=WIDTH, height=HEIGHT, left=LEFT, right=WIDTH - RIGHT, top=TOP,
        bottom=HEIGHT - BOTTOM,
        candidate=scale.points(curve.candidate),
        baseline=scale.points(curve.baseline) if curve.baseline is not None else None,
        x_ticks=[Tick(_px(scale.x(t)), _tick_label(t)) for t in nice_ticks(scale.x0, scale.x1)],
        y_ticks=[Tick(_px(scale.y(t)), _tick_label(t)) for t in nice_ticks(scale.y0, scale.y1)],
        markers=markers,
        cut=any(s.count > s.steps.size for s in sides),
    )
