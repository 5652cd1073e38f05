"""A run on an MLflow tracking server (``mlflow+http(s)://HOST:PORT`` + run id) → bundle, over
REST only (``gatekeeper.mlflow.rest``; the ``mlflow`` package is never imported).

If the run's artifacts hold a gatekeeper bundle (what the MLflow registry backend uploads under
``bundle/`` when it promotes), that bundle is downloaded as it is, loaded to verify it, and
becomes the output: same files, same bundle sha256. Otherwise the run is described like a
FileStore run (``mlflow_run.run_document``): params, metrics (latest value, plus a
``series/<metric>.csv`` from ``metrics/get-history`` for a metric logged at several points),
tags, ``code`` from ``mlflow.source.git.*``, and the run's artifacts copied under
``artifacts/`` with their sha256 and size.

Downloads are bounded: the artifact listing is refused before any byte is fetched when it holds
more than ``max_bytes`` (and the limit is enforced again while streaming).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from gatekeeper.errors import BundleError, ImporterError
from gatekeeper.importers.interface import Draft, ImportOptions
from gatekeeper.importers.mlflow_run import add_metric, run_document
from gatekeeper.importers.writer import check_target, install_folder, staging_folder, write_drafts
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.mlflow.rest import DownloadLimitError, MlflowApiError, MlflowRestClient, RemoteFile

BUNDLE_DIR = "bundle"  # where the MLflow registry backend keeps a promoted bundle
BUNDLE_MARKERS = ("run.yaml", "run.yml", "run.json")
MAX_FILES = 100_000
MAX_DOWNLOAD_BYTES = 2 * 1024**3
LIMIT_ENV = "GATEKEEPER_MLFLOW_MAX_DOWNLOAD_BYTES"
_HISTORY_PAGE = 10_000
_MAX_HISTORY_PAGES = 1_000  # 10^7 points of one metric: beyond that a server is misbehaving


@dataclass(frozen=True)
class ServerImport:
    path: Path
    label: str  # the model, for notes
    notes: tuple[str, ...]
    from_bundle: bool  # the run held a gatekeeper bundle, copied as it is


def download_limit(env: Mapping[str, str]) -> int:
    raw = env.get(LIMIT_ENV)
    if raw is None or raw == "":
        return MAX_DOWNLOAD_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ImporterError(f"{LIMIT_ENV} must be a positive whole number of bytes, got {raw!r}")
    return value


def import_server_run(
    uri: str,
    run_id: str | None,
    out: Path,
    options: ImportOptions,
    *,
    env: Mapping[str, str] | None = None,
    client: MlflowRestClient | None = None,
    max_bytes: int | None = None,
) -> ServerImport:
    """Write the bundle of run ``run_id`` on the server at ``uri`` to ``out``."""
    if not run_id:
        raise ImporterError("importing from an MLflow tracking server needs --run-id RUN_ID "
                            "(the MLflow run id)")
    client = client or MlflowRestClient(uri, env=env, label="MLflow tracking server")
    limit = max_bytes if max_bytes is not None else download_limit(
        os.environ if env is None else env)
    check_target(out, force=options.force)
    run = _get_run(client, run_id)
    info = run.get("info", {}) or {}
    root = client.proxy_path(str(info.get("artifact_uri", "")))
    listing = client.walk(root, max_files=MAX_FILES)
    bundle_files = [f for f in listing if f.path.startswith(f"{BUNDLE_DIR}/")]
    if any(f.path == f"{BUNDLE_DIR}/{m}" for f in bundle_files for m in BUNDLE_MARKERS):
        return _import_bundle(client, run_id, run, root, bundle_files, out, options, limit)
    return _import_run(client, run_id, run, root, listing, out, options, limit)


def _get_run(client: MlflowRestClient, run_id: str) -> dict[str, Any]:
    try:
        payload = client.api("GET", "runs/get", params={"run_id": run_id})
    except MlflowApiError as exc:
        if exc.not_found:
            raise ImporterError(f"{client.where}: run {run_id!r} not found") from exc
        raise
    run = payload.get("run")
    if not isinstance(run, dict):
        raise ImporterError(f"{client.where}: runs/get for {run_id!r} returned no run")
    return run


def _check_total(client: MlflowRestClient, run_id: str, files: list[RemoteFile],
                 limit: int) -> None:
    total = sum(f.size or 0 for f in files)
    if total > limit:
        raise ImporterError(
            f"{client.where}: the artifacts of run {run_id!r} total {total:,} bytes in "
            f"{len(files):,} files; the download limit is {limit:,} bytes (set {LIMIT_ENV} "
            "to raise it)")


def _download(client: MlflowRestClient, run_id: str, root: str, files: list[RemoteFile],
              strip: str, dest: Path, limit: int) -> None:
    _check_total(client, run_id, files, limit)
    left = limit
    for item in files:
        rel = PurePosixPath(item.path[len(strip):])
        try:
            left -= client.download(f"{root}/{item.path}", dest.joinpath(*rel.parts),
                                    max_bytes=left)
        except DownloadLimitError as exc:
            raise ImporterError(f"{exc} (run {run_id!r}; set {LIMIT_ENV} to raise it)") from exc


def _import_bundle(client: MlflowRestClient, run_id: str, run: dict[str, Any], root: str,
                   files: list[RemoteFile], out: Path, options: ImportOptions,
                   limit: int) -> ServerImport:
    tags = _pairs(run.get("data", {}).get("tags"))
    tmp = staging_folder(out)
    try:
        _download(client, run_id, root, files, f"{BUNDLE_DIR}/", tmp, limit)
        where = f"{client.uri} run {run_id} {BUNDLE_DIR}/"
        try:
            bundle = load_bundle(tmp, display=where)
        except BundleError as exc:
            raise ImporterError(f"the run's {BUNDLE_DIR}/ artifacts are not a valid bundle: "
                                f"{exc}") from exc
        recorded = tags.get("gatekeeper.bundle_sha256")
        digest = bundle.sha256()
        if recorded and recorded != digest:
            raise ImporterError(f"{where}: the downloaded bundle hashes to {digest}, but the run "
                                f"records gatekeeper.bundle_sha256 {recorded}")
        notes = [f"artifact {s.path}: {s.problem}" for s in bundle.verify_artifacts()
                 if not s.ok]
        if options.model_name and options.model_name != bundle.run.model:
            notes.append(f"--model-name ignored: the run holds a gatekeeper bundle of model "
                         f"{bundle.run.model!r}, copied as it is")
        label = bundle.run.model
        install_folder(tmp, out, force=options.force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ServerImport(path=out, label=label, notes=tuple(notes), from_bundle=True)


def _import_run(client: MlflowRestClient, run_id: str, run: dict[str, Any], root: str,
                files: list[RemoteFile], out: Path, options: ImportOptions,
                limit: int) -> ServerImport:
    info = run.get("info", {}) or {}
    data = run.get("data", {}) or {}
    notes: list[str] = []
    metrics, series = _server_metrics(client, run_id, data.get("metrics", []), notes)
    if not metrics:
        notes.append("the run logged no metrics")
    tags = _pairs(data.get("tags"))
    params = _pairs(data.get("params"))
    experiment_id = info.get("experiment_id")
    model = options.model_name or _experiment_name(client, experiment_id) or run_id
    document = run_document(model=model, run_id=run_id, params=dict(params), metrics=metrics,
                            tags=tags, **_info_fields(info))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", suffix=".download",
                                     dir=out.parent) as scratch:
        _download(client, run_id, root, files, "", Path(scratch), limit)
        copies = {f"artifacts/{f.path}": Path(scratch).joinpath(*PurePosixPath(f.path).parts)
                  for f in files}
        draft = Draft(run=document, label=model, inputs=[], files=series, copies=copies,
                      notes=notes)
        # The bundle's run id is the MLflow run id: stable, and what the server calls it.
        written = write_drafts("mlflow", [draft], out, replace(options, run_id=run_id))
    return ServerImport(path=written[0], label=model, notes=tuple(notes), from_bundle=False)


def _server_metrics(client: MlflowRestClient, run_id: str, logged: Any, notes: list[str]) \
        -> tuple[dict[str, Any], dict[str, bytes]]:
    """Each logged metric's full history as its latest value (and series)."""
    metrics: dict[str, Any] = {}
    series: dict[str, bytes] = {}
    where = f"{client.uri} run {run_id}"
    for name in sorted({str(m.get("key")) for m in logged or []
                        if isinstance(m, dict) and m.get("key")}):
        rows, skipped = _history(client, run_id, name)
        if skipped:
            notes.append(f"metric {name!r}: {skipped} non-finite value(s) left out")
        if not rows:
            notes.append(f"metric {name!r} has no finite values; left out")
            continue
        add_metric(metrics, series, name, rows, where)
    return metrics, series


def _info_fields(info: dict[str, Any]) -> dict[str, Any]:
    """run_document's keyword arguments from the run's ``info``."""
    experiment_id = info.get("experiment_id")
    return {
        "run_name": str(info["run_name"]) if info.get("run_name") else None,
        "start_ms": _int(info.get("start_time")),
        "status": str(info["status"]) if info.get("status") else None,
        "lifecycle_stage": str(info["lifecycle_stage"]) if info.get("lifecycle_stage") else None,
        "experiment_id": str(experiment_id) if experiment_id is not None else None,
    }


def _history(client: MlflowRestClient, run_id: str,
             name: str) -> tuple[list[tuple[int, int, float]], int]:
    rows: list[tuple[int, int, float]] = []
    skipped = 0
    token: str | None = None
    for _ in range(_MAX_HISTORY_PAGES):
        query: dict[str, Any] = {"run_id": run_id, "metric_key": name,
                                 "max_results": _HISTORY_PAGE}
        if token:
            query["page_token"] = token
        payload = client.api("GET", "metrics/get-history", params=query)
        for point in payload.get("metrics", []) or []:
            try:
                value = float(point["value"])  # MLflow sends NaN/Infinity as text
                step = int(point.get("step") or 0)
                stamp = int(point.get("timestamp") or 0)
            except (KeyError, TypeError, ValueError, OverflowError) as exc:
                raise ImporterError(f"{client.where}: run {run_id!r}: metric {name!r}: "
                                    f"malformed history point {point!r}") from exc
            if math.isfinite(value):
                rows.append((step, stamp, value))
            else:
                skipped += 1
        token = payload.get("next_page_token")
        if not token:
            return rows, skipped
    raise ImporterError(f"{client.where}: run {run_id!r}: metric {name!r} has more than "
                        f"{_MAX_HISTORY_PAGES * _HISTORY_PAGE:,} points")


def _experiment_name(client: MlflowRestClient, experiment_id: Any) -> str | None:
    if experiment_id is None:
        return None
    try:
        payload = client.api("GET", "experiments/get",
                             params={"experiment_id": str(experiment_id)})
    except MlflowApiError as exc:
        if exc.not_found:
            return None
        raise
    name = (payload.get("experiment") or {}).get("name")
    return name if isinstance(name, str) and name else None


def _pairs(items: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if isinstance(item, dict) and item.get("key") is not None:
            out[str(item["key"])] = str(item.get("value", ""))
    return out


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None
