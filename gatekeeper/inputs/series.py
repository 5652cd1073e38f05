"""A ``series`` metric: a curve of (step, value) points, such as a training loss by step.

The file is a CSV with a ``step`` column and a ``value`` column (or the column the run's
``score_column`` names, as importers write ``step,timestamp,value``). Rows come in the order they
were logged, and each step must be larger than the one before it: then the *final* value is the
last row's, and no reordering of the rows can make an earlier point read as the final one. A
duplicate step (two values for one step: which one counts?), a step that goes back, an empty
series and a value that is not a finite number are errors naming the file, the column and the
line.

The reductions a policy may gate on (``reduce:`` on a metric rule, docs/policy.md):

- ``final``: the value at the last (largest) step;
- ``best``: the highest value, or the lowest when lower is better, at its earliest step when it
  occurs more than once.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.textio import bounded_lines, open_text
from gatekeeper.models.run import MetricSpec

Reduction = Literal["final", "best"]
REDUCTIONS: tuple[Reduction, ...] = ("final", "best")



@dataclass(frozen=True)
class Point:
    step: float
    value: float


@dataclass(frozen=True)
class Series:
    steps: np.ndarray  # float64, strictly increasing
    values: np.ndarray  # float64, finite, one per step


def value_column(spec: MetricSpec) -> str:
    """The value column: ``score_column`` when the run names one, else ``value``."""
    return spec.score_column if spec.score_column != "score" else "value"


def _number(text: str, where: Location, what: str) -> float:
    try:
        out = float(text.strip())
    except ValueError as exc:
        raise BundleError(f"{what} {text.strip()[:40]!r} is not a number", where) from exc
    if not math.isfinite(out):
        raise BundleError(f"{what} {text.strip()[:40]!r} is not a finite number", where)
    if abs(out) > limits.MAX_ABS_SCORE:
        raise BundleError(f"{what} {out:g} is beyond ±{limits.MAX_ABS_SCORE:g}: no metric takes "
                          "such values", where)
    return out


def _header(row: list[str] | None, shown: str, column: str) -> tuple[int, int, int]:
    """(step index, value index, width) of the header row."""
    header = [h.strip() for h in row or []]
    if "step" not in header or column not in header:
        raise BundleError(f"a series file has a header with 'step' and {column!r} "
                          "(such as 'step,value')", Location(shown, line=1))
    for name in ("step", column):
        if header.count(name) > 1:
            raise BundleError(f"the header names the column {name!r} twice: which one is the "
                              "series?", Location(shown, name, 1))
    return header.index("step"), header.index(column), len(header)


class _Steps:
    """Each row's step against the rows before it: strictly increasing, no repeats."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.last: float | None = None
        self.last_line = 0

    def add(self, step: float, line: int) -> None:
        if self.last is not None and step <= self.last:
            where = Location(self.shown, "step", line)
            if step == self.last:
                raise BundleError(f"duplicate step {step:g} (first on line {self.last_line}): "
                                  "a series has one value per step", where)
            raise BundleError(f"step {step:g} comes after step {self.last:g} (line "
                              f"{self.last_line}): steps must increase row by row, so the final "
                              "value is the last row's", where)
        self.last, self.last_line = step, line


def read_series(path: Path, shown: str, spec: MetricSpec) -> Series:
    """The curve in a series CSV, validated row by row."""
    column = value_column(spec)
    steps: list[float] = []
    values: list[float] = []
    order = _Steps(shown)
    most = limits.ROWS.value()
    line = 1
    with open_text(path, shown) as fh:
        reader = csv.reader(bounded_lines(fh, shown))
        try:
            at_step, at_value, width = _header(next(reader, None), shown, column)
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != width:
                    raise BundleError(f"row has {len(row)} fields, the header has {width}",
                                      Location(shown, None, line))
                step = _number(row[at_step], Location(shown, "step", line), "step")
                order.add(step, line)
                steps.append(step)
                values.append(_number(row[at_value], Location(shown, column, line), "value"))
                limits.ROWS.check(len(steps), f"more than {most:,} rows",
                                  Location(shown, None, line), BundleError)
        except csv.Error as exc:
            raise BundleError(f"unreadable CSV: {exc}", Location(shown, None, line)) from exc
    if not values:
        raise BundleError("the series has no points (a header and no rows)",
                          Location(shown, column, 1))
    return Series(np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64))


def final(steps: np.ndarray, values: np.ndarray) -> Point:
    """The last point: steps increase row by row, so it is the largest step's."""
    return Point(float(steps[-1]), float(values[-1]))


def best(steps: np.ndarray, values: np.ndarray, higher_is_better: bool) -> Point:
    """The best value in the metric's direction, at the earliest step it is reached."""
    i = int(np.argmax(values) if higher_is_better else np.argmin(values))
    return Point(float(steps[i]), float(values[i]))


def reduce(steps: np.ndarray, values: np.ndarray, how: Reduction,
           higher_is_better: bool) -> Point:
    return final(steps, values) if how == "final" else best(steps, values, higher_is_better)
