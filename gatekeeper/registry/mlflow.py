"""MLflow model registry over its REST API (``requests`` only; the ``mlflow`` package is never
imported, so gatekeeper works without it).

URI: ``mlflow+http://HOST:PORT[/prefix]`` or ``mlflow+https://...``. Auth from the environment:
``MLFLOW_TRACKING_TOKEN`` (Bearer), else ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``
(basic), else ``user:password@`` in the URI. Credentials never appear in messages.

Mapping (docs/registry.md):

- a registry version is an MLflow model version whose run (experiment ``gatekeeper``) holds the
  bundle as artifacts under ``bundle/`` (uploaded through the artifact proxy,
  ``mlflow server --serve-artifacts``), the run's params/metrics/tags, and
  ``mlflow.source.git.commit``;
- gatekeeper's own metadata are model-version tags: ``gatekeeper.verdict``,
  ``gatekeeper.bundle_sha256``, ``gatekeeper.run_id``, ``gatekeeper.approval`` (JSON),
  ``gatekeeper.archived``, ``gatekeeper.reapprovals`` (JSON list: one approval per
  re-promotion of the same bundle);
- aliases are MLflow aliases; MLflow keeps no alias history, so each version carries
  ``gatekeeper.alias_history``: a JSON list of ``{alias, since, until, set_by}`` for the times it
  held an alias (per version, so the record never outgrows MLflow's tag value limit);
- the usage ledger (docs/leaderboard.md) is the experiment ``gatekeeper.ledger``: one MLflow
  run per gate decision, its fields as ``gatekeeper.ledger.*`` run tags set in the one
  ``runs/create`` call. The server creates each run atomically, so concurrent gates never
  lose a record (a tag or a logged table on one shared object would need a read-modify-write).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
import yaml

from gatekeeper.errors import RegistryError, RegistryNotFoundError
from gatekeeper.mlflow.rest import (
    ARTIFACTS_API,
    MlflowApiError,
    MlflowRestClient,
    Unreachable,
    is_mlflow_uri,
)
from gatekeeper.mlflow.tags import code_from_tags
from gatekeeper.registry.interface import (
    AliasEvent,
    Approval,
    LedgerRecord,
    ModelVersion,
    Registry,
    RunInfo,
    check_repromotion,
)

EXPERIMENT = "gatekeeper"
LEDGER_EXPERIMENT = "gatekeeper.ledger"
LEDGER_TAG = "gatekeeper.ledger."
BUNDLE_DIR = "bundle"
TAG = "gatekeeper."
HISTORY_TAG = "gatekeeper.alias_history"
REAPPROVALS_TAG = "gatekeeper.reapprovals"
MAX_TAG_VALUE = 5000  # MLflow's limit for model-version tag values
MAX_FILES = 100_000  # a download larger than this is not a bundle
_NAME = re.compile(r"^[^'\"\\\x00/]+$")
_HEX = re.compile(r"^[0-9a-f]{7,64}$")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(ms: Any) -> str:
    try:
        return _iso(datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc))
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


class MlflowRegistry(Registry):
    def __init__(
        self,
        uri: str,
        *,
        env: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        max_attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        experiment: str = EXPERIMENT,
    ) -> None:
        if not is_mlflow_uri(uri):
            raise RegistryError("an MLflow registry URI starts with mlflow+http:// or "
                                "mlflow+https://")
        self._client = MlflowRestClient(uri, env=env, session=session, timeout=timeout,
                                        max_attempts=max_attempts, backoff=backoff, sleep=sleep,
                                        label="MLflow registry")
        self.base = self._client.base
        self.uri = self._client.uri  # what messages show: never the credentials
        self.max_attempts = self._client.max_attempts
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self.experiment = experiment
        self._experiment_ids: dict[str, str] = {}

    def __repr__(self) -> str:  # the default repr would show nothing secret, but be explicit
        return f"MlflowRegistry({self.uri!r})"

    # -- reading -----------------------------------------------------------------------
    def list_models(self) -> list[str]:
        names: list[str] = []
        for page in self._pages("registered-models/search", "registered_models", {}):
            names.extend(str(m["name"]) for m in page)
        return sorted(names)

    def _pages(
        self, endpoint: str, key: str, params: Mapping[str, Any]
    ) -> Iterator[list[dict[str, Any]]]:
        token: str | None = None
        for _ in range(10_000):  # bounded: a server that never stops paging is a bug
            query = {**params, "max_results": 1000}
            if token:
                query["page_token"] = token
            payload = self._client.api("GET", endpoint, params=query)
            yield list(payload.get(key, []))
            token = payload.get("next_page_token")
            if not token:
                return

    def _registered_model(self, model: str) -> dict[str, Any]:
        _check_name(model)
        try:
            payload = self._client.api("GET", "registered-models/get", params={"name": model})
        except MlflowApiError as exc:
            if exc.not_found:
                raise RegistryNotFoundError(
                    f"model {model!r} not found in registry {self.uri}") from exc
            raise
        return dict(payload.get("registered_model", {}))

    def _raw_versions(self, model: str) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        registered = self._registered_model(model)
        held: dict[str, list[str]] = {}
        for entry in registered.get("aliases", []) or []:
            held.setdefault(str(entry["version"]), []).append(str(entry["alias"]))
        raw: list[dict[str, Any]] = []
        for page in self._pages("model-versions/search", "model_versions",
                                {"filter": f"name='{model}'"}):
            raw.extend(page)
        raw.sort(key=lambda v: int(v["version"]))
        return raw, held

    def list_versions(self, model: str) -> list[ModelVersion]:
        raw, held = self._raw_versions(model)
        return [_to_version(model, v, held.get(str(v["version"]), [])) for v in raw]

    def _raw_version(self, model: str, version: str) -> dict[str, Any]:
        _check_name(model)
        try:
            payload = self._client.api("GET", "model-versions/get",
                                params={"name": model, "version": str(version)})
        except MlflowApiError as exc:
            if exc.not_found:
                raise RegistryNotFoundError(
                    f"version {version} of model {model!r} not found in {self.uri}"
                ) from exc
            raise
        return dict(payload["model_version"])

    def get_version(self, model: str, version: str) -> ModelVersion:
        raw = self._raw_version(model, version)
        return _to_version(model, raw, list(raw.get("aliases", []) or []))

    def resolve_alias(self, model: str, alias: str) -> ModelVersion:
        _check_name(model)
        try:
            payload = self._client.api("GET", "registered-models/alias",
                                params={"name": model, "alias": alias})
        except MlflowApiError as exc:
            if exc.not_found:
                raise RegistryNotFoundError(
                    f"alias {alias!r} of model {model!r} not found in registry {self.uri}"
                ) from exc
            raise
        raw = dict(payload["model_version"])
        return _to_version(model, raw, list(raw.get("aliases", []) or []))

    def alias_history(self, model: str, alias: str) -> list[AliasEvent]:
        raw, held = self._raw_versions(model)
        events: list[AliasEvent] = []
        for version in raw:
            number = str(version["version"])
            recorded = [e for e in _history(version) if e.get("alias") == alias]
            events.extend(AliasEvent(alias=alias, version=number, since=str(e.get("since", "")),
                                     until=e.get("until"), set_by=e.get("set_by"))
                          for e in recorded)
            open_event = any(e.get("until") is None for e in recorded)
            if alias in held.get(number, []) and not open_event:
                # Set outside gatekeeper (MLflow UI or client): no history, but it holds it now.
                events.append(AliasEvent(alias=alias, version=number,
                                         since=_iso_ms(version.get("last_updated_timestamp"))))
        return sorted(events, key=lambda e: (e.since, int(e.version)))

    def run_info(self, version: ModelVersion) -> RunInfo:
        raw = self._raw_version(version.model, version.version)
        run_id = raw.get("run_id")
        if not run_id:
            return RunInfo(run_id=version.run_id)
        run = self._get_run(str(run_id))
        data = run.get("data", {})
        tags = {t["key"]: t["value"] for t in data.get("tags", []) or []}
        return RunInfo(
            run_id=tags.get("gatekeeper.run_id", str(run_id)),
            name=run.get("info", {}).get("run_name") or tags.get("mlflow.runName"),
            parent_run_id=tags.get("gatekeeper.parent_run_id") or tags.get("mlflow.parentRunId"),
            params={p["key"]: p["value"] for p in data.get("params", []) or []},
            metrics={m["key"]: float(m["value"]) for m in data.get("metrics", []) or []},
            tags={k: v for k, v in tags.items() if not k.startswith(("mlflow.", TAG))},
            commit=tags.get("mlflow.source.git.commit"),
        )

    def _get_run(self, run_id: str) -> dict[str, Any]:
        try:
            return dict(self._client.api("GET", "runs/get", params={"run_id": run_id})["run"])
        except MlflowApiError as exc:
            if exc.not_found:
                raise RegistryNotFoundError(f"MLflow run {run_id} not found in {self.uri}") from exc
            raise

    def bundle_path(self, version: ModelVersion, workdir: Path) -> Path:
        raw = self._raw_version(version.model, version.version)
        dest = workdir / "mlflow-registry" / _safe(version.model) / _safe(version.version)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        run_id = raw.get("run_id")
        run = self._get_run(str(run_id)) if run_id else None
        tags = {t["key"]: t["value"] for t in raw.get("tags", []) or []}
        if run is not None and "gatekeeper.bundle_sha256" in tags:
            root = self._client.proxy_path(str(run["info"].get("artifact_uri", "")))
            if self._client.download_tree(f"{root}/{BUNDLE_DIR}", dest, max_files=MAX_FILES):
                return dest
        # A version registered by MLflow itself: describe its run as a bundle (run.yaml only).
        document = run_document(version.model, str(version.version), run)
        (dest / "run.yaml").write_text(yaml.safe_dump(document, sort_keys=True),
                                       encoding="utf-8")
        return dest

    # -- writing -----------------------------------------------------------------------
    def promote(
        self,
        bundle_dir: Path,
        *,
        model: str,
        alias: str | None,
        approval: Approval,
        verdict: str | None,
        bundle_sha256: str,
        run_id: str,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        # lazy: pydantic and the run model stay off MLflow registry reads (list, show, history,
        # search) and alias moves; only promote reads a bundle
        from gatekeeper.inputs.bundle import load_bundle

        _check_name(model)
        bundle = load_bundle(bundle_dir)
        if bundle.sha256() != bundle_sha256:
            raise RegistryError(f"bundle {bundle_dir} hashes to {bundle.sha256()}, not "
                                f"{bundle_sha256}: it changed since it was checked")
        try:
            self._client.api("POST", "registered-models/create", body={"name": model})
        except MlflowApiError as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        raw, held = self._raw_versions(model)
        for existing in raw:
            if _tags(existing).get("gatekeeper.bundle_sha256") == bundle_sha256:
                # A re-run promotion: never a second version, but the same guards.
                return self._repromote(model, existing, held.get(str(existing["version"]), []),
                                       alias, approval, verdict, tags)

        run = bundle.run
        mlflow_run = self._create_run(run, bundle_sha256)
        run_uuid = str(mlflow_run["info"]["run_id"])
        self._log_run_data(run_uuid, bundle)
        root = self._client.proxy_path(str(mlflow_run["info"].get("artifact_uri", "")))
        for path in bundle.files():
            rel = path.relative_to(bundle.root).as_posix()
            response = self._client.request(
                "PUT", f"{ARTIFACTS_API}/{quote(f'{root}/{BUNDLE_DIR}/{rel}')}", upload=path
            )
            if not response.ok:
                raise RegistryError(f"MLflow registry {self.uri}: uploading {rel} failed: "
                                    f"HTTP {response.status_code}")
        self._client.api("POST", "runs/update", body={
            "run_id": run_uuid, "status": "FINISHED",
            "end_time": int(self._clock().timestamp() * 1000),
        })
        version_tags = {
            "gatekeeper.bundle_sha256": bundle_sha256,
            "gatekeeper.run_id": run_id,
            "gatekeeper.archived": "false",
            "gatekeeper.approval": json.dumps(
                {k: v for k, v in vars(approval).items() if v is not None}, sort_keys=True),
            HISTORY_TAG: "[]",
            **({"gatekeeper.verdict": verdict} if verdict is not None else {}),
            **{k: v for k, v in (tags or {}).items() if not k.startswith(TAG)},
        }
        number = self._create_version(model, run_uuid, version_tags)
        if alias is not None:
            self.set_alias(model, alias, number, set_by=approval.approved_by)
        return self.get_version(model, number)

    def _repromote(
        self,
        model: str,
        raw: dict[str, Any],
        aliases: list[str],
        alias: str | None,
        approval: Approval,
        verdict: str | None,
        tags: Mapping[str, str] | None,
    ) -> ModelVersion:
        existing = _to_version(model, raw, aliases)
        number = existing.version
        effective = check_repromotion(existing, verdict, approval, self.uri)
        if effective is not None and existing.verdict is None:
            self._set_version_tag(model, number, "gatekeeper.verdict", effective)
        later = _reapprovals(_tags(raw))
        later.append({k: v for k, v in vars(approval).items() if v is not None})
        # Past MLflow's tag limit (dozens of re-promotions) the oldest re-approvals go first.
        self._set_version_tag(model, number, REAPPROVALS_TAG, _encode_history(later))
        for key, value in sorted((tags or {}).items()):
            if not key.startswith(TAG):
                self._set_version_tag(model, number, key, value[:MAX_TAG_VALUE])
        if alias is not None:
            self.set_alias(model, alias, number, set_by=approval.approved_by)
        return self.get_version(model, number)

    def _experiment(self, name: str | None = None) -> str:
        name = name or self.experiment
        if name in self._experiment_ids:
            return self._experiment_ids[name]
        for _ in range(3):
            try:
                payload = self._client.api("GET", "experiments/get-by-name",
                                    params={"experiment_name": name})
                self._experiment_ids[name] = str(payload["experiment"]["experiment_id"])
                return self._experiment_ids[name]
            except MlflowApiError as exc:
                if not exc.not_found:
                    raise
            try:
                payload = self._client.api("POST", "experiments/create", body={"name": name})
                self._experiment_ids[name] = str(payload["experiment_id"])
                return self._experiment_ids[name]
            except MlflowApiError as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # another promoter made it
                    raise
        raise RegistryError(f"MLflow registry {self.uri}: cannot create experiment "
                            f"{name!r}")

    # -- the usage ledger --------------------------------------------------------------
    def append_decision(self, record: LedgerRecord) -> LedgerRecord:
        when = self._clock()
        # Sorts by time like the file backend's ids, and finds the run again after a lost
        # answer.
        key = f"{when.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex}"
        fields = {**record.as_dict(), "recorded_at": _iso(when), "id": key}
        tags = {LEDGER_TAG + k: _ledger_text(v) for k, v in fields.items() if v is not None}
        body = {"experiment_id": self._experiment(LEDGER_EXPERIMENT),
                "run_name": f"{record.model} {record.run_id}"[:250],
                "start_time": int(when.timestamp() * 1000),
                "tags": [{"key": k, "value": v[:MAX_TAG_VALUE]} for k, v in sorted(tags.items())]}
        # runs/create is not idempotent: after a transport failure look for the record before
        # sending it again, so a retry never records one decision twice.
        for attempt in range(self.max_attempts):
            try:
                self._client.api("POST", "runs/create", body=body, attempts=1)
                break
            except Unreachable:
                if any(r.id == key for r in self.decisions()):
                    break
                if attempt + 1 >= self.max_attempts:
                    raise
                self._sleep(self.backoff * (2 ** attempt))
        return LedgerRecord.from_dict({**fields, "data": list(record.data)})

    def decisions(self, *, model: str | None = None,
                  data: str | None = None) -> list[LedgerRecord]:
        experiment = self._experiment(LEDGER_EXPERIMENT)
        out: list[LedgerRecord] = []
        token: str | None = None
        for _ in range(10_000):  # bounded: a server that never stops paging is a bug
            body: dict[str, Any] = {"experiment_ids": [experiment], "max_results": 1000}
            if token:
                body["page_token"] = token
            payload = self._client.api("POST", "runs/search", body=body)
            for run in payload.get("runs", []) or []:
                record = _ledger_record(run, self.uri)
                if record.matches(model=model, data=data):
                    out.append(record)
            token = payload.get("next_page_token")
            if not token:
                break
        return sorted(out, key=lambda r: (r.recorded_at, r.id))

    def _create_run(self, run: Any, bundle_sha256: str) -> dict[str, Any]:
        tags: dict[str, str] = {k: str(v) for k, v in run.tags.items()}
        tags.update({"gatekeeper.run_id": run.run_id, "gatekeeper.bundle_sha256": bundle_sha256,
                     "mlflow.source.name": "gatekeeper"})
        if run.parent_run_id:
            tags["gatekeeper.parent_run_id"] = run.parent_run_id
        if run.code is not None:
            for key, value in (("commit", run.code.commit), ("repoURL", run.code.repo),
                               ("branch", run.code.branch)):
                if value:
                    tags[f"mlflow.source.git.{key}"] = str(value)
        started = run.created_at or self._clock()
        payload = self._client.api("POST", "runs/create", body={
            "experiment_id": self._experiment(),
            "run_name": run.name or run.run_id,
            "start_time": int(started.timestamp() * 1000),
            "tags": [{"key": k, "value": v[:MAX_TAG_VALUE]} for k, v in sorted(tags.items())],
        })
        return dict(payload["run"])

    def _log_run_data(self, run_uuid: str, bundle: Any) -> None:
        # lazy: the file backend stays off `registry list`, `show`, `history` and `search` on
        # an MLflow registry; only promote logs its run summary
        from gatekeeper.registry.file import run_info_from_run

        run = bundle.run
        params = [{"key": k, "value": _text(v)[:6000]}
                  for k, v in sorted(_flatten(run.params).items())]
        now = int(self._clock().timestamp() * 1000)
        # Values, replicate means and per-example means: what search sees as metrics.K.
        logged = run_info_from_run(run, bundle).metrics
        metrics = [{"key": name, "value": value, "timestamp": now, "step": 0}
                   for name, value in sorted(logged.items()) if math.isfinite(value)]
        # log-batch limits: 100 params and 1000 metrics per request.
        for start in range(0, max(len(params), len(metrics), 1), 100):
            chunk_params = params[start:start + 100]
            chunk_metrics = metrics[start:start + 100]
            if chunk_params or chunk_metrics:
                self._client.api("POST", "runs/log-batch", body={
                    "run_id": run_uuid, "params": chunk_params, "metrics": chunk_metrics})

    def _create_version(self, model: str, run_uuid: str, tags: Mapping[str, str]) -> str:
        body = {"name": model, "source": f"runs:/{run_uuid}/{BUNDLE_DIR}", "run_id": run_uuid,
                "tags": [{"key": k, "value": v[:MAX_TAG_VALUE]} for k, v in sorted(tags.items())]}
        # Creating a version is not idempotent: after a transport failure, look for the version
        # this run produced before trying again, so a retry never registers it twice.
        for attempt in range(self.max_attempts):
            try:
                payload = self._client.api("POST", "model-versions/create", body=body, attempts=1)
                return str(payload["model_version"]["version"])
            except Unreachable:
                found = [v for v in self._raw_versions(model)[0]
                         if str(v.get("run_id")) == run_uuid]
                if found:
                    return str(found[0]["version"])
                if attempt + 1 >= self.max_attempts:
                    raise
                self._sleep(self.backoff * (2 ** attempt))
        raise RegistryError(f"MLflow registry {self.uri}: cannot create a version of {model!r}")

    def set_alias(
        self, model: str, alias: str, version: str, *, set_by: str | None = None
    ) -> ModelVersion:
        target = self._raw_version(model, version)
        if _tags(target).get("gatekeeper.archived") == "true":
            raise RegistryError(f"version {version} of model {model!r} is archived; it cannot "
                                f"take alias {alias!r}")
        try:
            current: dict[str, Any] | None = self._client.api(
                "GET", "registered-models/alias", params={"name": model, "alias": alias}
            )["model_version"]
        except MlflowApiError as exc:
            if not exc.not_found:
                raise
            current = None
        if current is not None and str(current["version"]) == str(version):
            return self.get_version(model, version)
        self._client.api("POST", "registered-models/alias",
                  body={"name": model, "alias": alias, "version": str(version)})
        when = _iso(self._clock())
        if current is not None:
            history = _history(current)
            for event in history:
                if event.get("alias") == alias and event.get("until") is None:
                    event["until"] = when
            self._set_version_tag(model, str(current["version"]), HISTORY_TAG,
                                  _encode_history(history))
        history = _history(target)
        history.append({"alias": alias, "since": when, "until": None, "set_by": set_by})
        self._set_version_tag(model, str(version), HISTORY_TAG, _encode_history(history))
        return self.get_version(model, version)

    def _set_version_tag(self, model: str, version: str, key: str, value: str) -> None:
        self._client.api("POST", "model-versions/set-tag",
                  body={"name": model, "version": version, "key": key, "value": value})

    def archive(self, model: str, version: str) -> ModelVersion:
        current = self.get_version(model, version)
        if current.aliases:
            raise RegistryError(
                f"version {version} of model {model!r} holds alias {', '.join(current.aliases)}; "
                "point the alias at another version before archiving"
            )
        if not current.archived:
            self._set_version_tag(model, str(version), "gatekeeper.archived", "true")
            self._set_version_tag(model, str(version), "gatekeeper.archived_at",
                                  _iso(self._clock()))
        return self.get_version(model, version)


# -- mapping helpers -------------------------------------------------------------------
def _ledger_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _ledger_record(run: Mapping[str, Any], uri: str) -> LedgerRecord:
    tags = {str(t.get("key")): str(t.get("value", ""))
            for t in (run.get("data", {}) or {}).get("tags", []) or []}
    fields: dict[str, Any] = {k[len(LEDGER_TAG):]: v for k, v in tags.items()
                              if k.startswith(LEDGER_TAG)}
    fields["data"] = [d for d in fields.get("data", "").split(",") if d]
    if fields.get("pr") is not None:
        fields["pr"] = int(fields["pr"]) if str(fields["pr"]).isdigit() else None
    try:
        return LedgerRecord.from_dict(fields)
    except ValueError as exc:
        rid = (run.get("info", {}) or {}).get("run_id", "?")
        raise RegistryError(f"MLflow registry {uri}: usage ledger run {rid} is unreadable: "
                            f"{exc}") from exc


def _tags(raw: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["key"]): str(t["value"]) for t in raw.get("tags", []) or []}


def _history(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    try:
        value = json.loads(_tags(raw).get(HISTORY_TAG, "[]"))
    except ValueError:
        return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _reapprovals(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    try:
        value = json.loads(tags.get(REAPPROVALS_TAG, "[]"))
    except ValueError:
        return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _approval_from(fields: Any) -> Approval | None:
    try:
        return Approval(**{k: fields.get(k) for k in (
            "approved_by", "approved_at", "ticket", "policy_name", "policy_version", "waiver"
        )})
    except (TypeError, AttributeError):
        return None


def _encode_history(history: list[dict[str, Any]]) -> str:
    # The per-version record only outgrows MLflow's tag limit after dozens of alias moves;
    # then the oldest closed events go first (the open one is always kept).
    while True:
        text = json.dumps(history, sort_keys=True, separators=(",", ":"))
        if len(text) <= MAX_TAG_VALUE or len(history) <= 1:
            return text
        history = history[1:]


def _to_version(model: str, raw: Mapping[str, Any], aliases: list[str]) -> ModelVersion:
    tags = _tags(raw)
    approval: Approval | None = None
    if "gatekeeper.approval" in tags:
        try:
            approval = _approval_from(json.loads(tags["gatekeeper.approval"]))
        except ValueError:
            approval = None
    later = [a for a in map(_approval_from, _reapprovals(tags)) if a is not None]
    return ModelVersion(
        model=model,
        version=str(raw["version"]),
        run_id=tags.get("gatekeeper.run_id") or raw.get("run_id") or None,
        created_at=_iso_ms(raw.get("creation_timestamp")),
        bundle_sha256=tags.get("gatekeeper.bundle_sha256"),
        aliases=tuple(sorted(aliases)),
        archived=tags.get("gatekeeper.archived") == "true",
        verdict=tags.get("gatekeeper.verdict"),
        approval=approval,
        tags={k: v for k, v in tags.items() if not k.startswith(TAG)},
        approvals=tuple(([approval] if approval is not None else []) + later),
    )


def run_document(model: str, version: str, run: Mapping[str, Any] | None) -> dict[str, Any]:
    """A ``gatekeeper.run/v1`` document from an MLflow run: its fields map into the envelope
    where MLflow records them (git commit, params, metrics, dataset inputs)."""
    doc: dict[str, Any] = {"schema": "gatekeeper.run/v1", "model": model,
                           "run_id": f"mlflow-{model}-v{version}",
                           "source": {"tool": "mlflow"}}
    if run is None:
        return doc
    info = run.get("info", {})
    data = run.get("data", {})
    tags = {t["key"]: str(t["value"]) for t in data.get("tags", []) or []}
    params = {p["key"]: p["value"] for p in data.get("params", []) or []}
    doc["run_id"] = str(info.get("run_id"))
    if info.get("run_name"):
        doc["name"] = str(info["run_name"])
    if info.get("start_time"):
        doc["created_at"] = _iso_ms(info["start_time"])
    if tags.get("mlflow.parentRunId"):
        doc["parent_run_id"] = tags["mlflow.parentRunId"]
    doc["params"] = params
    doc["tags"] = {k: v for k, v in tags.items() if not k.startswith(("mlflow.", TAG))}
    doc["metrics"] = _finite_metrics(data.get("metrics", []))
    code = code_from_tags(tags)
    if code:
        doc["code"] = code
    seeds = _seeds(params.get("seeds", params.get("seed")))
    if seeds:
        doc["seeds"] = seeds
    datasets = _datasets(run.get("inputs", {}))
    if datasets:
        doc["data"] = datasets
    return doc


def _finite_metrics(metrics: Any) -> dict[str, dict[str, float]]:
    """The run's latest metric values; NaN and infinities have no place in a run document."""
    return {m["key"]: {"value": float(m["value"])} for m in metrics or []
            if math.isfinite(float(m["value"]))}


def _datasets(inputs: Any) -> list[dict[str, str]]:
    """The run's named dataset inputs, with MLflow's digest as their version."""
    datasets = []
    for item in (inputs or {}).get("dataset_inputs", []) or []:
        dataset = item.get("dataset", {})
        if dataset.get("name"):
            entry = {"name": str(dataset["name"])}
            if dataset.get("digest"):
                entry["version"] = str(dataset["digest"])  # MLflow's digest is not a sha256
            datasets.append(entry)
    return datasets


def _seeds(raw: Any) -> list[int]:
    if raw is None:
        return []
    text = str(raw).strip().strip("[]")
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        return []


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _check_name(model: str) -> None:
    if not _NAME.match(model):
        raise RegistryError(f"invalid model name {model!r}: MLflow model names hold no quotes, "
                            "slashes or backslashes; name the model with --model (e.g. "
                            "Qwen3-8B for Qwen/Qwen3-8B)")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"
