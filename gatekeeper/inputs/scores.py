"""Read metric evidence into numpy arrays: per-example scores (CSV, JSONL, NPZ), latency or
cost samples (a JSONL field), and replicates. Scores arrive as arrays, never Python lists, so a
10^7-example comparison stays in C.

Score files come from the bundle under review: every line is bounded (``textio``), every array
header checked before its data is read (``arrays``), ids are one line of text, and the scores are
finite, inside the metric's declared ``range``, and below 10^50 in size (the statistics raise
them to powers)."""

from __future__ import annotations

import csv
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.arrays import (
    READ_ERRORS,
    first_duplicate,
    float_scores,
    integer_ids,
    load_array,
    npz_arrays,
    text_ids,
)
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.cluster_sums import ClusterRows, read_cluster_sums
from gatekeeper.inputs.fileio import open_regular, size_guard
from gatekeeper.inputs.parquet import read_parquet_scores
from gatekeeper.inputs.series import read_series
from gatekeeper.inputs.textio import (
    bounded_lines,
    check_id,
    check_ids,
    iter_jsonl_records,
    open_text,
)
from gatekeeper.models.run import MetricSpec


@dataclass(frozen=True)
class LoadedMetric:
    name: str
    kind: str  # models.run.SHAPES: value, replicates, per_example, ..., paired_cluster_sums
    values: np.ndarray  # float64
    ids: np.ndarray | None = None  # per-example / per-request ids (str)
    clusters: np.ndarray | None = None  # cluster label per example (str)
    seeds: tuple[int, ...] | None = None  # replicates: the run's seeds, position by position
    file: str | None = None  # where the evidence came from (for messages)
    steps: np.ndarray | None = None  # series: the step of each value (float64, increasing)
    cluster_sums: ClusterRows | None = None  # paired_cluster_sums: its clusters file, as read


def _finite(value: Any, where: Location, *, booleans: bool = True) -> float:
    """A number from a score file. A per-example score may be a boolean (correct or not); a
    sample (a latency, a cost) may not."""
    if isinstance(value, bool):
        if not booleans:
            raise BundleError(f"must be a number, not a boolean ({str(value).lower()})", where)
        return float(value)
    if isinstance(value, int | float):
        try:
            out = float(value)
        except OverflowError as exc:  # an integer past 1.8e308
            raise BundleError(f"score {str(value)[:40]}... is not a finite number",
                              where) from exc
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
    with open_text(path, shown) as fh:
        reader = csv.reader(bounded_lines(fh, shown))
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
    most = limits.ROWS.value()
    try:
        for line, row in enumerate(reader, start=2):
            if line - 1 > most:
                raise limits.ROWS.refuse(f"more than {most:,} rows", Location(shown, None, line),
                                         BundleError)
            if len(row) != width:
                if not row:
                    continue
                raise BundleError(f"row has {len(row)} fields, the header has {width}",
                                  Location(shown, None, line))
            ident = row[i_id]
            if not ident:
                raise BundleError("empty id", Location(shown, spec.id_column, line))
            ids.append(ident)
            scores.append(_csv_score(row[i_score], shown, spec.score_column, line))
            if i_cluster >= 0:
                clusters.append(row[i_cluster])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BundleError(f"unreadable CSV: {exc}", Location(shown, None, line + 1)) from exc
    return ids, scores, clusters


def _csv_score(text: str, shown: str, column: str, line: int) -> float:
    # The Location is built only for an error: one per row was a tenth of reading the demo.
    try:
        score = float(text)
    except ValueError:
        score = _finite(text, Location(shown, column, line))
    if not math.isfinite(score):
        raise BundleError(f"score {text!r} is not a finite number", Location(shown, column, line))
    return score


def _finish(ids: list[str], scores: list[float], clusters: list[str] | None, shown: str,
            header_lines: int, lines: list[int] | None = None,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if not ids:
        raise BundleError("no scores in the file", Location(shown))
    if lines is None:
        lines = [i + 1 + header_lines for i in range(len(ids))]
    check_ids(ids, lines, shown, "id")
    if clusters is not None:
        check_ids(clusters, lines, shown, "cluster")
    id_arr = np.asarray(ids, dtype=object).astype(str)
    if len(set(ids)) != len(ids):  # a set, not np.unique (which imports numpy.ma)
        _duplicate_error(ids, lines, shown)
    cl = np.asarray(clusters, dtype=object).astype(str) if clusters is not None else None
    return id_arr, np.asarray(scores, dtype=np.float64), cl


def read_jsonl_records(path: Path, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) per record, streamed (``textio.iter_jsonl_records``)."""
    return iter_jsonl_records(path, shown)


def _json_id(value: Any, where: Location) -> str:
    """An id or cluster label from JSON: a string or an integer (a mapping, a list, a float or
    a boolean is no name, and str() of one would invent a new id)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BundleError(f"an id is a string or an integer, got {str(value)[:40]!r}", where)
    text = str(value)
    if text == "":
        raise BundleError("empty id", where)
    check_id(text, where.file or "", where.field or "id", where.line)
    return text


def read_jsonl_scores(path: Path, shown: str, spec: MetricSpec) -> tuple[np.ndarray, np.ndarray,
                                                                        np.ndarray | None]:
    ids: list[str] = []
    scores: list[float] = []
    clusters: list[str] = []
    lines: list[int] = []
    for line, record in read_jsonl_records(path, shown):
        for col in (spec.id_column, spec.score_column, spec.cluster_column):
            if col and col not in record:
                raise BundleError(f"missing field {col!r}", Location(shown, col, line))
        ids.append(_json_id(record[spec.id_column], Location(shown, spec.id_column, line)))
        scores.append(_finite(record[spec.score_column], Location(shown, spec.score_column, line)))
        if spec.cluster_column:
            clusters.append(_json_id(record[spec.cluster_column],
                                     Location(shown, spec.cluster_column, line)))
        lines.append(line)
    id_arr, sc, cl = _finish(ids, scores, clusters if spec.cluster_column else None, shown, 0,
                             lines)
    return id_arr, sc, cl


def _load_npy(path: Path, shown: str) -> np.ndarray:
    # allow_pickle=False: a score file must never be able to run code.
    rel = shown.rsplit("/", 1)[-1]
    size_guard(path, shown)
    holds = path.stat().st_size

    def opener() -> Any:
        return open_regular(path, rel, Location(shown))

    return load_array(opener, holds, shown)


def npy_pair_paths(path: Path) -> tuple[Path, Path, Path]:
    """``X.scores.npy`` pairs with ``X.ids.npy`` (and optional ``X.clusters.npy``)."""
    stem = path.name[: -len(".scores.npy")]
    return (path.with_name(f"{stem}.ids.npy"), path,
            path.with_name(f"{stem}.clusters.npy"))


def read_npy_pair(path: Path, shown: str, siblings: tuple[Path, Path] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``siblings``: the ids and clusters paths, already confined to the bundle (by default the
    files beside ``path``)."""
    ids_path, scores_path, clusters_path = npy_pair_paths(path)
    if siblings is not None:
        ids_path, clusters_path = siblings
    ids_shown = shown[: -len(".scores.npy")] + ".ids.npy"
    clusters_shown = shown[: -len(".scores.npy")] + ".clusters.npy"
    if not ids_path.is_file():
        raise BundleError(f"{ids_path.name} not found beside the scores (an .npy pair is "
                          "X.ids.npy + X.scores.npy)", Location(ids_shown))
    ids = _load_npy(ids_path, ids_shown)
    scores = float_scores(_load_npy(scores_path, shown), shown)
    clusters = (_load_npy(clusters_path, clusters_shown) if clusters_path.is_file() else None)
    return _validate_arrays(ids, scores, clusters, shown)


def read_npz_scores(path: Path, shown: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rel = shown.rsplit("/", 1)[-1]
    try:
        with open_regular(path, rel, Location(shown)) as fh, zipfile.ZipFile(fh) as archive:
            arrays = npz_arrays(archive, shown, ("ids", "scores", "clusters"))
    except BundleError:
        raise
    except READ_ERRORS as exc:
        raise BundleError(f"unreadable .npz: {type(exc).__name__}: {exc}",
                          Location(shown)) from exc
    for required in ("ids", "scores"):
        if required not in arrays:
            raise BundleError(f"missing array {required!r} (an .npz score file holds "
                              "'ids' and 'scores')", Location(shown, required))
    return _validate_arrays(arrays["ids"], float_scores(arrays["scores"], shown),
                            arrays.get("clusters"), shown)


def _validate_arrays(ids: np.ndarray, scores: np.ndarray, clusters: np.ndarray | None,
                     shown: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if ids.ndim != 1 or scores.ndim != 1 or ids.shape != scores.shape:
        raise BundleError(f"'ids' and 'scores' must be 1-D arrays of equal length "
                          f"(got {ids.shape} and {scores.shape})", Location(shown))
    if ids.size == 0:
        raise BundleError("no scores in the file", Location(shown))
    finite = np.isfinite(scores)
    if not finite.all():
        at = int(np.argmin(finite))
        raise BundleError(f"score at index {at} is not a finite number",
                          Location(shown, f"scores[{at}]"))
    if ids.dtype.kind not in "iuUS":
        raise BundleError("'ids' must be integers or strings", Location(shown, "ids"))
    # Integer ids stay integers: pairing 10^7 of them is a sort of int64, not of strings.
    key = (integer_ids(ids, shown, "ids") if ids.dtype.kind in "iu"
           else text_ids(ids, shown, "ids"))
    dup = first_duplicate(key)
    if dup is not None:
        raise BundleError(f"duplicate example id {dup!r}", Location(shown, "ids"))
    return key, scores, _clusters(clusters, ids.shape, shown)


def _clusters(clusters: np.ndarray | None, shape: tuple[int, ...], shown: str
              ) -> np.ndarray | None:
    if clusters is None:
        return None
    if clusters.shape != shape:
        raise BundleError(f"'clusters' must be as long as 'ids' (got {clusters.shape}, "
                          f"{shape})", Location(shown, "clusters"))
    if clusters.dtype.kind in "iu":
        out: np.ndarray = clusters.astype(str)
        return out
    if clusters.dtype.kind not in "US":
        raise BundleError("'clusters' must be integers or strings", Location(shown, "clusters"))
    return text_ids(clusters, shown, "clusters")


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
        values = np.asarray([spec.value], dtype=np.float64)
        _bounded(values, bundle.location("metrics", name, kind), "value")
        return LoadedMetric(name, kind, values)
    if kind == "replicates":
        assert spec.replicates is not None
        seeds = tuple(bundle.run.seeds) if bundle.run.seeds is not None else None
        values = np.asarray(spec.replicates, dtype=np.float64)
        _bounded(values, bundle.location("metrics", name, kind), "replicate")
        return LoadedMetric(name, kind, values, seeds=seeds)
    if kind in ("paired_counts", "paired_moments", "paired_cluster_sums"):
        return _from_statistics(bundle, name, spec)
    rel = spec.path
    assert rel is not None
    path = bundle.resolve(rel, "metrics", name, kind)
    shown = f"{bundle.display.rstrip('/')}/{rel}"
    size_guard(path, shown)
    if kind == "per_example":
        ids, scores, clusters = _read_per_example(bundle, name, path, shown, spec)
        _plausible(scores, spec, shown)
        return LoadedMetric(name, kind, scores, ids=ids, clusters=clusters, file=shown)
    if kind == "samples":
        values, sample_ids = _read_samples(path, shown, spec.field or name)
        _plausible(values, spec, shown)
        return LoadedMetric(name, kind, values, ids=sample_ids, file=shown)
    # series: a step,value curve (inputs/series.py); a rule gates on its final or best value.
    curve = read_series(path, shown, spec)
    _plausible(curve.values, spec, shown)
    return LoadedMetric(name, kind, curve.values, steps=curve.steps, file=shown)


def _from_statistics(bundle: Bundle, name: str, spec: MetricSpec) -> LoadedMetric:
    """A metric given by sufficient statistics (no score file): the candidate's rate or mean
    stands for its value; vs_baseline reads the statistics themselves (checks/sufficient.py)."""
    kind = spec.kind
    if spec.paired_counts is not None:
        pc = spec.paired_counts
        return LoadedMetric(name, kind, np.asarray([(pc.n11 + pc.n10) / pc.n]),
                            file=bundle.display)
    stats = spec.paired_moments or spec.paired_cluster_sums
    assert stats is not None
    _bounded(np.asarray([stats.max_abs_score]), bundle.location("metrics", name, kind),
             "max_abs_score")
    # The clusters file is read (and held to the statistics) here, once: a bad one is an
    # input error whatever the policy asks of the metric, and vs_baseline takes it from here.
    rows = read_cluster_sums(bundle, name) if spec.paired_cluster_sums is not None else None
    return LoadedMetric(name, kind, np.asarray([stats.mean_candidate]),
                        file=rows.file if rows is not None else bundle.display,
                        cluster_sums=rows)


def _plausible(values: np.ndarray, spec: MetricSpec, shown: str) -> None:
    """Scores a metric can take: inside its declared range, and of a size the statistics can
    raise to the fourth power (a kurtosis-like term) over 10^7 examples without overflow."""
    if spec.range is not None:
        lo, hi = spec.range
        outside = np.flatnonzero((values < lo) | (values > hi))
        if outside.size:
            i = int(outside[0])
            raise BundleError(f"score {values[i]:g} (row {i + 1:,} of the scores) lies outside "
                              f"the metric's range [{lo:g}, {hi:g}]", Location(shown))
    _bounded(values, Location(shown), "score")


def _bounded(values: np.ndarray, where: Location, what: str) -> None:
    # Two reductions before any temporary: np.abs would copy 10^7 scores to find nothing.
    if not values.size or (float(values.max()) <= limits.MAX_ABS_SCORE
                           and float(values.min()) >= -limits.MAX_ABS_SCORE):
        return
    huge = np.flatnonzero(np.abs(values) > limits.MAX_ABS_SCORE)
    if huge.size:
        i = int(huge[0])
        at = f" (number {i + 1:,})" if values.size > 1 else ""
        raise BundleError(f"{what} {values[i]:g}{at} is beyond ±{limits.MAX_ABS_SCORE:g}: no "
                          "metric takes such values", where)


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
    if suffix == ".parquet":
        return read_parquet_scores(path, shown, spec.id_column, spec.score_column,
                                   spec.cluster_column)
    if path.name.endswith(".scores.npy"):
        # The ids and clusters beside the scores are bundle files too: a symlink among them
        # must not leave the bundle.
        stem = spec.per_example[: -len(".scores.npy")] if spec.per_example else ""
        siblings = (bundle.resolve(f"{stem}.ids.npy", "metrics", name, "per_example"),
                    bundle.resolve(f"{stem}.clusters.npy", "metrics", name, "per_example"))
        return read_npy_pair(path, shown, siblings)
    raise BundleError(
        f"unsupported score file type {suffix!r}: use .csv, .jsonl, .npz, .parquet or an "
        ".npy pair (X.scores.npy + X.ids.npy)",
        bundle.location("metrics", name, "per_example"),
    )


def _read_samples(path: Path, shown: str, field: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, ids) of one numeric field of a JSONL file; an id defaults to the line."""
    values: list[float] = []
    ids_list: list[str] = []
    for line, record in read_jsonl_records(path, shown):
        if field not in record:
            raise BundleError(f"missing field {field!r}", Location(shown, field, line))
        values.append(_finite(record[field], Location(shown, field, line), booleans=False))
        ident = record.get("id", line)
        ids_list.append(_json_id(ident, Location(shown, "id", line)))
    if not values:
        raise BundleError("no samples in the file", Location(shown))
    return np.asarray(values, dtype=np.float64), np.asarray(ids_list).astype(str)
