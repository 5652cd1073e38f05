"""The per-cluster sums a bundle's ``paired_cluster_sums`` names: the second query `gatekeeper
sql --kind mean --cluster-column C` prints, saved as CSV in the bundle (cluster_id, n,
sum_difference; other columns are ignored).

Read like any score file (bounded lines, one-line ids) and held to the statistics beside it in
run.yaml: the clusters hold ``n_paired`` examples between them, their sums add up to
``n_paired × mean_difference``, and no cluster's sum is larger than its size allows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.fileio import size_guard
from gatekeeper.inputs.textio import bounded_lines, check_ids, open_text
from gatekeeper.models.run import PairedClusterSums

COLUMNS = ("cluster_id", "n", "sum_difference")
# Relative rounding an engine may leave between the sums and n_paired × mean_difference.
_SUM_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ClusterRows:
    labels: np.ndarray  # str, distinct
    sizes: np.ndarray  # float64, each >= 1
    sums: np.ndarray  # float64: each cluster's sum of d = candidate - baseline
    file: str


def read_cluster_sums(bundle: Bundle, metric: str) -> ClusterRows:
    """The clusters file of ``metric``'s paired_cluster_sums, checked against its statistics."""
    stats = bundle.run.metrics[metric].paired_cluster_sums
    assert stats is not None
    path = bundle.resolve(stats.clusters, "metrics", metric, "paired_cluster_sums", "clusters")
    shown = f"{bundle.display.rstrip('/')}/{stats.clusters}"
    size_guard(path, shown)
    rows = _read(path, shown)
    _agrees(rows, stats)
    return rows


def _read(path: Path, shown: str) -> ClusterRows:
    labels: list[str] = []
    sizes: list[float] = []
    sums: list[float] = []
    with open_text(path, shown) as fh:
        reader = csv.reader(bounded_lines(fh, shown))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise BundleError("empty file (expected a header cluster_id,n,sum_difference)",
                              Location(shown, line=1)) from None
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise BundleError(f"missing column {missing[0]!r} (header has {', '.join(header)})",
                              Location(shown, missing[0], 1))
        at = [header.index(c) for c in COLUMNS]
        most = limits.ROWS.value()
        try:
            for line, row in enumerate(reader, start=2):
                if line - 1 > most:
                    raise limits.ROWS.refuse(f"more than {most:,} rows",
                                             Location(shown, None, line), BundleError)
                if not row:
                    continue
                if len(row) != len(header):
                    raise BundleError(f"row has {len(row)} fields, the header has "
                                      f"{len(header)}", Location(shown, None, line))
                labels.append(row[at[0]])
                sizes.append(_count(row[at[1]], shown, line))
                sums.append(_number(row[at[2]], shown, line))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BundleError(f"unreadable CSV: {exc}", Location(shown)) from exc
    return _rows(labels, sizes, sums, shown)


def _count(text: str, shown: str, line: int) -> float:
    try:
        value = int(text)
    except ValueError:
        raise BundleError(f"n {text!r} is not a whole number", Location(shown, "n", line)) \
            from None
    if value < 1:
        raise BundleError(f"n = {value}: a cluster holds at least one example",
                          Location(shown, "n", line))
    return float(value)


def _number(text: str, shown: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BundleError(f"sum_difference {text!r} is not a number",
                          Location(shown, "sum_difference", line)) from None
    if not np.isfinite(value):
        raise BundleError(f"sum_difference {text!r} is not a finite number",
                          Location(shown, "sum_difference", line))
    return value


def _rows(labels: list[str], sizes: list[float], sums: list[float], shown: str) -> ClusterRows:
    if not labels:
        raise BundleError("no clusters in the file", Location(shown))
    lines = list(range(2, len(labels) + 2))
    check_ids(labels, lines, shown, "cluster_id")
    if any(not label for label in labels):
        raise BundleError("empty cluster_id", Location(shown, "cluster_id",
                                                        lines[labels.index("")]))
    if len(set(labels)) != len(labels):
        seen: set[str] = set()
        for label, line in zip(labels, lines, strict=True):
            if label in seen:
                raise BundleError(f"cluster {label!r} is listed twice",
                                  Location(shown, "cluster_id", line))
            seen.add(label)
    return ClusterRows(np.asarray(labels, dtype=str), np.asarray(sizes), np.asarray(sums), shown)


def _agrees(rows: ClusterRows, stats: PairedClusterSums) -> None:
    """The clusters against the statistics in run.yaml."""
    total = int(rows.sizes.sum())
    if total != stats.n_paired:
        raise BundleError(f"the clusters hold {total:,} examples, but n_paired = "
                          f"{stats.n_paired:,}", Location(rows.file, "n"))
    # |d| <= 2·max|score| for every example, so a cluster's sum is bounded by its size.
    bound = 2 * stats.max_abs_score * rows.sizes * (1 + _SUM_TOLERANCE)
    over = np.flatnonzero(np.abs(rows.sums) > bound)
    if over.size:
        i = int(over[0])
        raise BundleError(f"cluster {rows.labels[i]!r}: sum_difference {rows.sums[i]:g} is more "
                          f"than {int(rows.sizes[i])} differences within ±2·max_abs_score add "
                          "up to", Location(rows.file, "sum_difference", i + 2))
    expected = stats.n_paired * stats.mean_difference
    scale = 2 * stats.max_abs_score * stats.n_paired
    if abs(float(rows.sums.sum()) - expected) > _SUM_TOLERANCE * max(scale, 1e-300):
        raise BundleError(f"the clusters' sums add up to {float(rows.sums.sum())!r}, but "
                          f"n_paired × mean_difference = {expected!r}",
                          Location(rows.file, "sum_difference"))
