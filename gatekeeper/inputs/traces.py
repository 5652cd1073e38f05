"""Request traces (``llm.traces``): JSONL files, one request per line, or Parquet files, one
request per row (``inputs/parquet.py``), read into arrays.

Record fields: ``id`` (string or integer, unique across the files), ``latency_ms``,
``input_tokens``, ``output_tokens``, ``cost_usd`` (numbers >= 0), ``success`` (bool), ``error``
(null when the request went fine), ``judge`` (free form). Malformed lines are bundle errors
naming the file and line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.fileio import size_guard
from gatekeeper.inputs.parquet import iter_parquet_records
from gatekeeper.inputs.scores import read_jsonl_records
from gatekeeper.inputs.textio import check_id

NUMBER_FIELDS = ("latency_ms", "input_tokens", "output_tokens", "cost_usd")


@dataclass(frozen=True)
class Traces:
    """The requests of one bundle's trace files, as arrays in file order."""

    files: tuple[str, ...]
    ids: np.ndarray  # str
    success: np.ndarray  # bool: ``success``, or (without it) no error recorded
    errors: np.ndarray  # bool: a non-empty ``error``
    fields: dict[str, np.ndarray]  # numeric fields present on every request
    missing: dict[str, str] = field(default_factory=dict)  # field -> where it is first missing

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def need(self, *names: str) -> str | None:
        """None when every request carries the fields, else why not."""
        for name in names:
            if name in self.missing:
                return f"{name} on every trace record ({self.missing[name]} has none)"
        return None


def _number(record: dict[str, Any], key: str, where: Location) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BundleError(f"{key} must be a number, got {str(value)[:40]!r}", where)
    try:
        out = float(value)
    except OverflowError:  # an integer past 1.8e308
        out = math.inf
    if not math.isfinite(out) or out < 0:
        raise BundleError(f"{key} must be a finite number >= 0, got {str(value)[:40]}", where)
    return out


def _has_error(value: Any) -> bool:
    return value is not None and value != "" and value != {} and value is not False


def read_traces(bundle: Bundle) -> Traces | None:
    """The bundle's ``llm.traces`` files, validated line by line; None when it names none."""
    rels = bundle.run.llm.traces if bundle.run.llm else []
    if not rels:
        return None
    requests = _Requests()
    shown_files = []
    for i, rel in enumerate(rels):
        path = bundle.resolve(rel, "llm", "traces", i)
        shown = f"{bundle.display.rstrip('/')}/{rel}"
        shown_files.append(rel)
        size_guard(path, shown)
        records = (iter_parquet_records(path, shown) if path.suffix.lower() == ".parquet"
                   else read_jsonl_records(path, shown))
        for line, record in records:
            requests.add(record, shown, line)
    if not requests.ids:
        raise BundleError("the trace files hold no requests",
                          Location(f"{bundle.display.rstrip('/')}/{rels[0]}"))
    missing = requests.missing
    fields = {k: np.asarray(v, dtype=np.float64) for k, v in requests.values.items()
              if k not in missing}
    return Traces(tuple(shown_files), np.asarray(requests.ids).astype(str),
                  np.asarray(requests.success, bool), np.asarray(requests.errors, bool), fields,
                  missing)


@dataclass
class _Requests:
    """The trace records read so far, field by field."""

    ids: list[str] = field(default_factory=list)
    success: list[bool] = field(default_factory=list)
    errors: list[bool] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in NUMBER_FIELDS})
    missing: dict[str, str] = field(default_factory=dict)  # field -> first record without it
    first_seen: dict[str, str] = field(default_factory=dict)  # id -> file:line

    def add(self, record: dict[str, Any], shown: str, line: int) -> None:
        where = f"{shown}:{line}"
        ident = record.get("id")
        if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
            raise BundleError(f"a trace record needs an id (a string or an integer), got "
                              f"{str(ident)[:40]!r}", Location(shown, "id", line))
        key = str(ident)
        check_id(key, shown, "id", line)
        if key in self.first_seen:
            raise BundleError(f"duplicate request id {key!r} (first at {self.first_seen[key]})",
                              Location(shown, "id", line))
        self.first_seen[key] = where
        self.ids.append(key)
        for name in NUMBER_FIELDS:
            got = _number(record, name, Location(shown, name, line))
            if got is None:
                self.missing.setdefault(name, where)
            else:
                self.values[name].append(got)
        self._add_outcome(record, shown, line, where)

    def _add_outcome(self, record: dict[str, Any], shown: str, line: int, where: str) -> None:
        """``error`` and ``success``; without ``success``, a request succeeded unless it erred."""
        flag = record.get("success")
        if "error" not in record:
            self.missing.setdefault("error", where)
        erred = _has_error(record.get("error"))
        self.errors.append(erred)
        if flag is None:
            self.success.append(not erred)
        elif isinstance(flag, bool):
            self.success.append(flag)
        else:
            raise BundleError(f"success must be true or false, got {str(flag)[:40]!r}",
                              Location(shown, "success", line))
