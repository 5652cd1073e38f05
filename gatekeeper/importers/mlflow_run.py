"""An MLflow FileStore run folder (``mlruns/<experiment>/<run_id>/``) → bundle.

The local FileStore layout is read here: ``meta.yaml``, ``metrics/`` (lines of
``timestamp value step``), ``params/``, ``tags/`` and ``artifacts/``. A run on a tracking server
is read over REST by ``mlflow_server.py``; both build the run document with ``add_metric`` and
``run_document`` below, so a run imports the same way from either place.

Each metric's latest value (highest step, then latest timestamp) becomes ``<metric>: {value}``;
a metric logged at several steps also gets ``<metric>/series`` pointing at
``series/<metric>.csv`` (columns ``step,timestamp,value``; one point per step, the latest; a
metric logged without steps is numbered in the order it was logged).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gatekeeper.errors import ImporterError, InputError
from gatekeeper.importers.interface import Draft, Importer, ImportOptions, fail, slug
from gatekeeper.importers.sources import format_score, read_bytes, walk_files
from gatekeeper.inputs.yamlio import parse_text
from gatekeeper.mlflow.tags import code_from_tags

HEX_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
_MAX_TEXT = 64 * 1024**2
# mlflow.entities.RunStatus
_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


class MlflowRunImporter(Importer):
    name = "mlflow"

    def read(self, source: Path, options: ImportOptions) -> list[Draft]:
        if not source.is_dir():
            raise fail("expected an MLflow run folder (mlruns/<experiment>/<run_id>)", source)
        meta_path = source / "meta.yaml"
        meta = _run_meta(source, meta_path)
        inputs: list[Path] = [meta_path]
        notes: list[str] = []
        metrics, files = _read_metrics(source / "metrics", inputs, notes)
        params = {}
        for name, path in _entries(source / "params"):
            inputs.append(path)
            params[name] = _text(path)
        tags = {}
        for name, path in _entries(source / "tags"):
            inputs.append(path)
            tags[name] = _text(path).strip()
        copies = {f"artifacts/{rel}": path for rel, path in _artifact_files(source / "artifacts")}

        run_id = str(meta.get("run_id") or meta.get("run_uuid"))
        model = options.model_name or _experiment_name(source) or run_id
        run = run_document(model=model, run_id=run_id, params=params, metrics=metrics, tags=tags,
                           **_meta_fields(meta))
        if not metrics:
            notes.append("the run logged no metrics")
        return [Draft(run=run, label=model, inputs=inputs, files=files, copies=copies,
                      notes=notes)]


def _run_meta(source: Path, meta_path: Path) -> dict[str, Any]:
    """The run's meta.yaml; when it is not there, the error names the runs the folder holds."""
    meta = _yaml(meta_path) if meta_path.is_file() else None
    if not isinstance(meta, dict) or ("run_id" not in meta and "run_uuid" not in meta):
        runs = sorted(p.name for p in source.iterdir()
                      if p.is_dir() and (p / "meta.yaml").is_file())
        hint = f"; runs here: {', '.join(runs)}" if runs else ""
        raise fail("not an MLflow run folder (no meta.yaml with a run_id); pass "
                   f"mlruns/<experiment>/<run_id>{hint}", source)
    return meta


def _read_metrics(folder: Path, inputs: list[Path], notes: list[str]) \
        -> tuple[dict[str, Any], dict[str, bytes]]:
    """Each metric file as its latest value (and series), skipping the non-finite values."""
    metrics: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, path in _entries(folder):
        inputs.append(path)
        rows = _metric_rows(path)
        if not rows:
            notes.append(f"metric {name!r} has no finite values; left out")
            continue
        add_metric(metrics, files, name, rows, path)
        skipped = _skipped_non_finite(path)
        if skipped:
            notes.append(f"metric {name!r}: {skipped} non-finite value(s) left out")
    return metrics, files


def _meta_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """run_document's keyword arguments from meta.yaml; a field of the wrong type is None."""
    status = meta.get("status")
    lifecycle = meta.get("lifecycle_stage")
    experiment_id = meta.get("experiment_id")
    start = meta.get("start_time")
    return {
        "run_name": meta.get("run_name") if isinstance(meta.get("run_name"), str) else None,
        "start_ms": start if isinstance(start, int) and not isinstance(start, bool) else None,
        "status": _STATUS.get(status) if isinstance(status, int) else None,
        "lifecycle_stage": lifecycle if isinstance(lifecycle, str) else None,
        "experiment_id": str(experiment_id) if isinstance(experiment_id, str | int) else None,
    }


def add_metric(metrics: dict[str, Any], files: dict[str, bytes], name: str,
               rows: list[tuple[int, int, float]], where: Path | str) -> None:
    """``name`` as its latest value (highest step, then latest timestamp); a metric logged at
    several (step, timestamp) points also gets ``<name>/series`` → ``series/<name>.csv``.

    ``rows`` are ``(step, timestamp, value)`` with finite values, at least one."""
    _step, _ts, value = max(rows, key=lambda r: (r[0], r[1]))
    _claim(metrics, name, where)
    metrics[name] = {"value": value}
    points = _one_per_step(rows)
    if len(points) > 1:
        rel = f"series/{slug(name)}.csv"
        lines = ["step,timestamp,value"] + [f"{s},{t},{format_score(v)}" for s, t, v in points]
        if rel in files:
            raise fail(f"metric {name!r} maps to the series file {rel} of another metric",
                       where)
        files[rel] = ("\n".join(lines) + "\n").encode()
        series_name = f"{name}/series"
        _claim(metrics, series_name, where)
        metrics[series_name] = {"series": rel, "id_column": "step", "score_column": "value"}


def _one_per_step(rows: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The curve as a series file allows it: one point per step, steps rising.

    MLflow takes several values at one step (the latest one, by timestamp, is kept, as for
    the metric's own value); a metric logged without steps has them all at step 0, and then
    the order of logging is the only axis there is, so each point's rank in time is its step."""
    steps = {r[0] for r in rows}
    if len(steps) == 1 and len({r[1] for r in rows}) > 1:
        ordered = sorted(rows, key=lambda r: (r[1], r[2]))
        return [(i, ts, value) for i, (_step, ts, value) in enumerate(ordered)]
    latest: dict[int, tuple[int, int, float]] = {}
    for row in sorted(rows):
        latest[row[0]] = row  # sorted by (step, timestamp): the last one at a step wins
    return [latest[step] for step in sorted(latest)]


def _claim(metrics: dict[str, Any], name: str, where: Path | str) -> None:
    # A logged metric named 'x/series' and the series of 'x' would share a key, in either order.
    if name in metrics:
        raise fail(f"metric {name!r} collides with the series of another metric", where)


def run_document(
    *,
    model: str,
    run_id: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    tags: dict[str, str],
    run_name: str | None,
    start_ms: int | None,
    status: str | None,
    lifecycle_stage: str | None,
    experiment_id: str | None,
) -> dict[str, Any]:
    """run.yaml content (without ``run_id``) of an MLflow run, wherever it was read from."""
    tags = dict(tags)
    run: dict[str, Any] = {"model": model, "params": params, "metrics": metrics}
    name = run_name or tags.get("mlflow.runName")
    if name:
        run["name"] = name
    when = created_at(start_ms) if start_ms is not None else None
    if when is not None:
        run["created_at"] = when
    tags["mlflow.run_id"] = run_id
    if status:
        tags["mlflow.status"] = status
    if lifecycle_stage:
        tags["mlflow.lifecycle_stage"] = lifecycle_stage
    if experiment_id is not None:
        tags["mlflow.experiment_id"] = experiment_id
    run["tags"] = tags
    code = code_from_tags(tags)
    if code:
        run["code"] = code
    parent = tags.get("mlflow.parentRunId")
    if parent:
        run["parent_run_id"] = parent
    if tags.get("mlflow.note.content"):
        run["description"] = tags["mlflow.note.content"]
    run["source"] = {"tool": "mlflow"}
    return run


def created_at(start_ms: int) -> str | None:
    """ISO time of a start in ms since the epoch; None for one no calendar holds."""
    try:
        when = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None
    return when.isoformat().replace("+00:00", "Z")


def _yaml(path: Path) -> Any:
    """meta.yaml through gatekeeper's bounded YAML reader (no tags, bounded nesting and
    aliases, every error located)."""
    raw = read_bytes(path, _MAX_TEXT)
    try:
        data, _lines = parse_text(raw.decode("utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})", path) from exc
    except InputError as exc:
        raise ImporterError(exc.message, exc.location) from exc
    return data


def _experiment_name(run_dir: Path) -> str | None:
    meta_path = run_dir.parent / "meta.yaml"
    if not meta_path.is_file():
        return None
    meta = _yaml(meta_path)
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else None


def _entries(folder: Path) -> list[tuple[str, Path]]:
    """(name, file) pairs; MLflow stores a name with '/' as nested folders."""
    if not folder.is_dir():
        return []
    return [(p.relative_to(folder).as_posix(), p) for p in walk_files(folder)]


def _text(path: Path) -> str:
    try:
        return read_bytes(path, _MAX_TEXT).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})", path) from exc


def _metric_rows(path: Path) -> list[tuple[int, int, float]]:
    rows: list[tuple[int, int, float]] = []
    for lineno, line in enumerate(_text(path).splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            raise fail(f"expected 'timestamp value step', got {line.strip()!r}", path,
                       line=lineno)
        try:
            ts = int(parts[0])
            value = float(parts[1])
            step = int(parts[2]) if len(parts) == 3 else 0
        except ValueError as exc:
            raise fail(f"expected 'timestamp value step' numbers, got {line.strip()!r}", path,
                       line=lineno) from exc
        if math.isfinite(value):
            rows.append((step, ts, value))
    return rows


def _skipped_non_finite(path: Path) -> int:
    count = 0
    for line in _text(path).splitlines():
        parts = line.split()
        if len(parts) >= 2 and not math.isfinite(_float(parts[1])):
            count += 1
    return count


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _artifact_files(folder: Path) -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    # Links are never followed out of the run folder (walk_files skips them).
    return [(p.relative_to(folder).as_posix(), p) for p in walk_files(folder)]
