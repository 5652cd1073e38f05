"""Read metric evidence into numpy arrays: per-example scores (CSV, JSONL, NPZ), latency or
cost samples (a JSONL field), and replicates. Scores arrive as arrays, never Python lists, so a
10^7-example comparison stays in C."""

from __future__ import annotations

import csv
import json
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.fileio import max_file_bytes
from gatekeeper.models.run import MetricSpec


@dataclass(frozen=True)
class LoadedMetric:
    name: str
    kind: str  # value | replicates | per_example | samples | series
    values: np.ndarray  # float64
    ids: np.ndarray | None = None  # per-example / per-request ids (str)
    clusters: np.ndarray | None = None  # cluster label per example (str)
    seeds: tuple[int, ...] | None = None  # replicates: the run's seeds, position by position
    file: str | None = None  # where the evidence came from (for messages)


def size_guard(path: Path, shown: str) -> None:
    size = path.stat().st_size
    limit = max_file_bytes()
    if size > limit:
        raise BundleError(
            f"file is {size:,} bytes, over the limit of {limit:,} (GATEKEEPER_MAX_FILE_BYTES); "
            "use a .npz score file for very large eval sets",
            Location(shown),
        )


def _finite(value: Any, where: Location) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in {"true", "false"}:
            return 1.0 if text.lower() == "true" else 0.0
        try:
            out = float(text)
        except ValueError as exc:
            raise BundleError(f"score {value!r} is not a number", where) from exc
    else:
        raise BundleError(f"score {value!r} is not a number", where)
    if not math.isfinite(out):
        raise BundleError(f"score {value!r} is not a finite number", where)
    return out


def _duplicate_error(ids: list[str], lines: list[int], shown: str) -> None:
    seen: dict[str, int] = {}
    for ident, line in zip(ids, lines, strict=True):
        if ident in seen:
            raise BundleError(
                f"duplicate example id {ident!r} (first on line {seen[ident]}); per-example "
                "scores are paired by id", Location(shown, "id", line),
            )
        seen[ident] = line


def read_csv_scores(path: Path, shown: str, spec: MetricSpec) -> tuple[np.ndarray, np.ndarray,
                                                                      np.ndarray | None]:
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        cols = _csv_columns(reader, shown)
        columns = _column_indices(cols, spec, shown)
        ids, scores, clusters = _csv_rows(reader, shown, spec, columns, len(cols))
    return _finish(ids, scores, clusters if spec.cluster_column else None, shown, header_lines=1)


def _csv_columns(reader: Iterator[list[str]], shown: str) -> list[str]:
    """The header's column names, stripped."""
    try:
        header = next(reader)
    except StopIteration as exc:
        raise BundleError("empty score file (expected a header such as 'id,score')",
                          Location(shown, line=1)) from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BundleError(f"unreadable CSV: {exc}", Location(shown, line=1)) from exc
    return [h.strip() for h in header]


def _column_indices(cols: list[str], spec: MetricSpec, shown: str) -> tuple[int, int, int]:
    """Where the id, score and cluster (-1: none) columns are."""
    wanted = [spec.id_column, spec.score_column]
    if spec.cluster_column:
        wanted.append(spec.cluster_column)
    for col in wanted:
        if col not in cols:
            raise BundleError(f"missing column {col!r} (header has {', '.join(cols)})",
                              Location(shown, col, 1))
    i_cluster = cols.index(spec.cluster_column) if spec.cluster_column else -1
    return cols.index(spec.id_column), cols.index(spec.score_column), i_cluster


def _csv_rows(reader: Iterator[list[str]], shown: str, spec: MetricSpec,
              columns: tuple[int, int, int], width: int) \
        -> tuple[list[str], list[float], list[str]]:
    i_id, i_score, i_cluster = columns
    ids: list[str] = []
    scores: list[float] = []
    clusters: list[str] = []
    line = 1
    try:
        for line, row in enumerate(reader, start=2):
            if len(row) != width:
                if not row:
                    continue
                raise BundleError(f"row has {len(row)} fields, the header has {width}",
                                  Location(shown, None, line))
            ident = row[i_id]
            if not ident:
                raise BundleError("empty id", Location(shown, spec.id_column, line))
            ids.append(ident)
            scores.append(_csv_score(row[i_score], Location(shown, spec.score_column, line)))
            if i_cluster >= 0:
                clusters.append(row[i_cluster])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BundleError(f"unreadable CSV: {exc}", Location(shown, None, line + 1)) from exc
    return ids, scores, clusters


def _csv_score(text: str, where: Location) -> float:
    try:
        score = float(text)
    except ValueError:
        score = _finite(text, where)
    if not math.isfinite(score):
        raise BundleError(f"score {text!r} is not a finite number", where)
    return score


def _finish(ids: list[str], scores: list[float], clusters: list[str] | None, shown: str,
            header_lines: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if not ids:
        raise BundleError("no scores in the file", Location(shown))
    id_arr = np.asarray(ids, dtype=object).astype(str)
    if np.unique(id_arr).size != id_arr.size:
        _duplicate_error(ids, [i + 1 + header_lines for i in range(len(ids))], shown)
    cl = np.asarray(clusters, dtype=object).astype(str) if clusters is not None else None
    return id_arr, np.asarray(scores, dtype=np.float64), cl


def read_jsonl_records(path: Path, shown: str) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    with path.open("r", encoding="utf-8") as fh:
        line_no = 0
        try:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BundleError(f"invalid JSON: {exc.msg}",
                                      Location(shown, None, line_no, exc.colno)) from exc
                if not isinstance(record, dict):
                    raise BundleError("each line must be a JSON object",
                                      Location(shown, None, line_no))
                out.append((line_no, record))
        except UnicodeDecodeError as exc:
            raise BundleError("not UTF-8 text", Location(shown, None, line_no + 1)) from exc
    return out


def read_jsonl_scores(path: Path, shown: str, spec: MetricSpec) -> tuple[np.ndarray, np.ndarray,
                                                                        np.ndarray | None]:
    ids: list[str] = []
    scores: list[float] = []
    clusters: list[str] = []
    for line, record in read_jsonl_records(path, shown):
        for col in (spec.id_column, spec.score_column, spec.cluster_column):
            if col and col not in record:
                raise BundleError(f"missing field {col!r}", Location(shown, col, line))
        ids.append(str(record[spec.id_column]))
        scores.append(_finite(record[spec.score_column], Location(shown, spec.score_column, line)))
        if spec.cluster_column:
            clusters.append(str(record[spec.cluster_column]))
    id_arr, sc, cl = _finish(ids, scores, clusters if spec.cluster_column else None, shown, 0)
    return id_arr, sc, cl


def _load_npy(path: Path, shown: str) -> np.ndarray:
    try:
        # allow_pickle=False: a score file must never be able to run code.
        array: np.ndarray = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BundleError(f"unreadable .npy: {exc}", Location(shown)) from exc
    return array


def npy_pair_paths(path: Path) -> tuple[Path, Path, Path]:
    """``X.scores.npy`` pairs with ``X.ids.npy`` (and optional ``X.clusters.npy``)."""
    stem = path.name[: -len(".scores.npy")]
    return (path.with_name(f"{stem}.ids.npy"), path,
            path.with_name(f"{stem}.clusters.npy"))


def read_npy_pair(path: Path, shown: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    ids_path, scores_path, clusters_path = npy_pair_paths(path)
    ids_shown = shown[: -len(".scores.npy")] + ".ids.npy"
    if not ids_path.is_file():
        raise BundleError(f"{ids_path.name} not found beside the scores (an .npy pair is "
                          "X.ids.npy + X.scores.npy)", Location(ids_shown))
    ids = _load_npy(ids_path, ids_shown)
    scores = _load_npy(scores_path, shown).astype(np.float64, copy=False)
    clusters = _load_npy(clusters_path, shown) if clusters_path.is_file() else None
    return _validate_arrays(ids, scores, clusters, shown)


def read_npz_scores(path: Path, shown: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            for required in ("ids", "scores"):
                if required not in names:
                    raise BundleError(f"missing array {required!r} (an .npz score file holds "
                                      "'ids' and 'scores')", Location(shown, required))
            ids = archive["ids"]
            scores = archive["scores"].astype(np.float64, copy=False)
            clusters = archive["clusters"] if "clusters" in names else None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise BundleError(f"unreadable .npz: {exc}", Location(shown)) from exc
    return _validate_arrays(ids, scores, clusters, shown)


def _validate_arrays(ids: np.ndarray, scores: np.ndarray, clusters: np.ndarray | None,
                     shown: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if ids.ndim != 1 or scores.ndim != 1 or ids.shape != scores.shape:
        raise BundleError(f"'ids' and 'scores' must be 1-D arrays of equal length "
                          f"(got {ids.shape} and {scores.shape})", Location(shown))
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        raise BundleError(f"score at index {int(bad[0])} is not a finite number",
                          Location(shown, f"scores[{int(bad[0])}]"))
    if ids.dtype.kind not in "iuUS":
        raise BundleError("'ids' must be integers or strings", Location(shown, "ids"))
    # Integer ids stay integers: pairing 10^7 of them is a sort of int64, not of strings.
    key = ids.astype(np.int64) if ids.dtype.kind in "iu" else ids.astype(str)
    ordered = np.sort(key, kind="stable")
    dup_at = np.flatnonzero(ordered[1:] == ordered[:-1])
    if dup_at.size:
        dup = ordered[dup_at[0]].item()
        raise BundleError(f"duplicate example id {dup!r}", Location(shown, "ids"))
    return key, scores, (clusters.astype(str) if clusters is not None else None)


def comparable_ids(a: np.ndarray | None, b: np.ndarray | None
                   ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Integer ids from an array file meet string ids from a CSV as strings."""
    if a is None or b is None or (a.dtype.kind in "iu") == (b.dtype.kind in "iu"):
        return a, b
    return a.astype(str), b.astype(str)


def load_metric(bundle: Bundle, name: str) -> LoadedMetric:
    spec = bundle.run.metrics[name]
    kind = spec.kind
    if kind == "value":
        assert spec.value is not None
        return LoadedMetric(name, kind, np.asarray([spec.value], dtype=np.float64))
    if kind == "replicates":
        assert spec.replicates is not None
        seeds = tuple(bundle.run.seeds) if bundle.run.seeds is not None else None
        return LoadedMetric(name, kind, np.asarray(spec.replicates, dtype=np.float64),
                            seeds=seeds)
    rel = spec.path
    assert rel is not None
    path = bundle.resolve(rel, "metrics", name, kind)
    shown = f"{bundle.display.rstrip('/')}/{rel}"
    size_guard(path, shown)
    if kind == "per_example":
        ids, scores, clusters = _read_per_example(bundle, name, path, shown, spec)
        return LoadedMetric(name, kind, scores, ids=ids, clusters=clusters, file=shown)
    if kind == "samples":
        values, sample_ids = _read_samples(path, shown, spec.field or name)
        return LoadedMetric(name, kind, values, ids=sample_ids, file=shown)
    # series: a step,value curve — validated here, shown in reports, not gated on.
    return LoadedMetric(name, kind, _read_series(path, shown), file=shown)


def _read_per_example(bundle: Bundle, name: str, path: Path, shown: str, spec: MetricSpec) \
        -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(ids, scores, clusters) from a score file, read by its type."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_scores(path, shown, spec)
    if suffix in {".jsonl", ".ndjson"}:
        return read_jsonl_scores(path, shown, spec)
    if suffix == ".npz":
        return read_npz_scores(path, shown)
    if path.name.endswith(".scores.npy"):
        return read_npy_pair(path, shown)
    raise BundleError(
        f"unsupported score file type {suffix!r}: use .csv, .jsonl, .npz or an .npy "
        "pair (X.scores.npy + X.ids.npy)",
        bundle.location("metrics", name, "per_example"),
    )


def _read_samples(path: Path, shown: str, field: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, ids) of one numeric field of a JSONL file; an id defaults to the line."""
    values: list[float] = []
    ids_list: list[str] = []
    for line, record in read_jsonl_records(path, shown):
        if field not in record:
            raise BundleError(f"missing field {field!r}", Location(shown, field, line))
        values.append(_finite(record[field], Location(shown, field, line)))
        ids_list.append(str(record.get("id", line)))
    if not values:
        raise BundleError("no samples in the file", Location(shown))
    return np.asarray(values, dtype=np.float64), np.asarray(ids_list).astype(str)


def _read_series(path: Path, shown: str) -> np.ndarray:
    """The values of a ``step,value`` CSV."""
    steps: list[float] = []
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["step", "value"]:
            raise BundleError("a series file starts with the header 'step,value'",
                              Location(shown, line=1))
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < 2:
                raise BundleError("expected 'step,value'", Location(shown, None, line))
            steps.append(_finite(row[1], Location(shown, "value", line)))
    return np.asarray(steps, dtype=np.float64)
