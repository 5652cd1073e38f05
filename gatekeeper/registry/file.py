"""The embedded file registry: a folder (in the repo or on a branch), no server.

Layout (docs/registry.md)::

    <root>/<model>/index.json          versions, aliases, alias history, revision counter
    <root>/<model>/versions/<v>/       the version's run bundle (run.yaml + files)
    <root>/<model>/.lock               present only while a writer commits (O_CREAT|O_EXCL)
    <root>/<model>/.staging-*/         a bundle being copied in (renamed into versions/<v>)
    <root>/.ledger/<time>-<uuid>.json  one gate decision each (the usage ledger)

``<model>`` is the model name with ``/``, backslash, ``%`` and the characters Windows forbids in
file names percent-encoded (``model_folder``), so Hugging Face names such as ``Qwen/Qwen3-8B``
are one folder (``Qwen%2FQwen3-8B``) and plain names keep their folder unchanged.

Writes: the bundle is copied into a staging folder first (slow, outside the lock); then, under
an exclusive lock file, the next version number is chosen, the staging folder is renamed into
``versions/<v>`` and the index is replaced atomically (temp file in the same folder, fsync,
``os.replace``). Before the replace the writer re-reads the on-disk revision: if something that
bypassed the lock (a hand edit, a ``git pull``) changed the index meanwhile, the write is retried
instead of overwriting it. A busy lock is retried with jittered backoff until ``max_attempts`` or
``lock_timeout`` run out, then ``ConcurrencyError``.

The usage ledger needs no lock: each decision is its own file with a unique name, written
atomically, so concurrent gates never overwrite each other, and two branches that both added
records merge in git without a conflict.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import socket
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from gatekeeper.errors import (
    ConcurrencyError,
    GatekeeperError,
    Location,
    RegistryError,
    RegistryNotFoundError,
)
from gatekeeper.inputs.atomic import OutputError, write_atomic
from gatekeeper.registry.interface import (
    AliasEvent,
    Approval,
    LedgerRecord,
    ModelVersion,
    RecordedEntry,
    Registry,
    RunInfo,
    check_repromotion,
)

INDEX_SCHEMA = "gatekeeper.registry/v1"
LOCK_NAME = ".lock"
MAX_FOLDER_BYTES = 255
STAGING_PREFIX = ".staging-"
LEDGER_DIR = ".ledger"
# Characters a model name may hold but a folder name may not (on any supported OS); "%" so
# that the encoding is reversible.
UNSAFE_IN_FOLDER = frozenset('/\\%:*?"<>|')

T = TypeVar("T")
# A change to the index; it may queue filesystem actions to run just before the index is written.
Mutation = Callable[[dict[str, Any], list[Callable[[], None]]], T]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Retry(Exception):
    """The index changed under us (a writer bypassed the lock): start the attempt over."""


class FileRegistry(Registry):
    def __init__(
        self,
        root: Path,
        *,
        uri: str | None = None,
        max_attempts: int = 400,
        lock_timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.root = root
        self.uri = uri or f"file:{root}"
        self.max_attempts = max(1, max_attempts)
        self.lock_timeout = lock_timeout
        self._sleep = sleep
        self._clock = clock

    # -- reading -----------------------------------------------------------------------
    def _model_dir(self, model: str) -> Path:
        try:
            return self.root / model_folder(model)
        except ValueError as exc:
            raise RegistryError(f"invalid model name {model!r} in registry {self.uri}: "
                                f"{exc}") from exc

    def index_path(self, model: str) -> Path:
        """Where ``model``'s index lives (the name is encoded into one folder name)."""
        return self._model_dir(model) / "index.json"

    _index_path = index_path

    def record_file(self, model: str) -> Path | None:
        return self.index_path(model)

    def read_record(self, text: str, version: str, alias: str | None) -> RecordedEntry:
        try:
            index = json.loads(text)
            entries = {str(v["version"]): v for v in index.get("versions", [])}
            target = (str(index.get("aliases", {}).get(alias)) if alias is not None
                      else version)
            sha = entries.get(version, {}).get("bundle_sha256")
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not a registry index: {exc}") from exc
        return RecordedEntry(alias_target=target, bundle_sha256=sha)

    def _read_index(self, model: str) -> dict[str, Any]:
        path = self._index_path(model)
        if not self.root.is_dir():
            raise RegistryError(f"registry {self.uri} not found (no folder {self.root})")
        if not path.is_file():
            raise RegistryNotFoundError(f"model {model!r} not found in registry {self.uri}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(f"cannot read registry index: {exc}", Location(str(path))) from exc
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"registry index is not valid JSON: {exc.msg}",
                Location(str(path), line=exc.lineno, column=exc.colno),
            ) from exc
        if not isinstance(data, dict) or data.get("schema") != INDEX_SCHEMA:
            raise RegistryError(f"not a {INDEX_SCHEMA} index", Location(str(path), "schema"))
        return data

    @staticmethod
    def _version_from(model: str, raw: dict[str, Any], aliases: dict[str, str]) -> ModelVersion:
        approval = raw.get("approval")
        first = Approval(**approval) if isinstance(approval, dict) else None
        later = tuple(Approval(**a) for a in raw.get("reapprovals") or [] if isinstance(a, dict))
        version = str(raw["version"])
        return ModelVersion(
            model=model,
            version=version,
            run_id=raw.get("run_id"),
            created_at=str(raw.get("created_at", "")),
            bundle_sha256=raw.get("bundle_sha256"),
            aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
            archived=bool(raw.get("archived", False)),
            verdict=raw.get("verdict"),
            approval=first,
            tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
            approvals=((first,) if first is not None else ()) + later,
        )

    def _versions_of(self, model: str, index: dict[str, Any]) -> list[ModelVersion]:
        aliases = {str(k): str(v) for k, v in (index.get("aliases") or {}).items()}
        try:
            versions = [self._version_from(model, v, aliases) for v in index.get("versions", [])]
        except (KeyError, TypeError) as exc:
            raise RegistryError(
                f"malformed version entry ({exc})", Location(str(self._index_path(model)))
            ) from exc
        return sorted(versions, key=lambda v: version_key(v.version))

    def list_models(self) -> list[str]:
        if not self.root.is_dir():
            raise RegistryError(f"registry {self.uri} not found (no folder {self.root})")
        return sorted(
            model_name(p.name) for p in self.root.iterdir()
            if not p.name.startswith(".") and (p / "index.json").is_file()
        )

    def list_versions(self, model: str) -> list[ModelVersion]:
        return self._versions_of(model, self._read_index(model))

    def get_version(self, model: str, version: str) -> ModelVersion:
        for v in self.list_versions(model):
            if v.version == str(version):
                return v
        raise RegistryNotFoundError(f"version {version} of model {model!r} not found in {self.uri}")

    def resolve_alias(self, model: str, alias: str) -> ModelVersion:
        index = self._read_index(model)
        target = (index.get("aliases") or {}).get(alias)
        if target is None:
            raise RegistryNotFoundError(
                f"alias {alias!r} of model {model!r} not found in registry {self.uri}"
            )
        return self.get_version(model, str(target))

    def alias_history(self, model: str, alias: str) -> list[AliasEvent]:
        index = self._read_index(model)
        return [
            AliasEvent(alias=e["alias"], version=str(e["version"]), since=e["since"],
                       until=e.get("until"), set_by=e.get("set_by"))
            for e in index.get("alias_history", [])
            if e.get("alias") == alias
        ]

    def bundle_path(self, version: ModelVersion, workdir: Path) -> Path:
        return self._model_dir(version.model) / "versions" / version.version

    def run_info(self, version: ModelVersion) -> RunInfo:
        # lazy: pydantic, yaml and the run model stay off `registry list`, `show`, `history`,
        # `set-alias` and `archive`; search reads each version's run
        from gatekeeper.inputs.bundle import load_bundle

        path = self.bundle_path(version, Path("."))
        if not path.is_dir():
            return RunInfo(run_id=version.run_id)
        try:
            bundle = load_bundle(path)
        except GatekeeperError:
            # A broken bundle must not break search over the others; its run fields are absent.
            return RunInfo(run_id=version.run_id)
        return run_info_from_run(bundle.run, bundle)

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
        model_dir = self._model_dir(model)
        if alias is not None:
            _check_alias(alias)
        try:
            model_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(model_dir, exc, what=f"the registry folder {model_dir}") from exc
        staging = model_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        try:
            _copy_bundle(bundle_dir, staging)
            _check_staged_hash(staging, bundle_sha256)

            def mutate(index: dict[str, Any], pending: list[Callable[[], None]]) -> str:
                when = iso(self._clock())
                for entry in index["versions"]:
                    if entry.get("bundle_sha256") == bundle_sha256:
                        # The same evidence promoted again (a re-run job): no second version,
                        # but the same guards as set_alias and a new promotion.
                        self._repromote(index, entry, model, alias, approval, verdict, tags,
                                        when)
                        return str(entry["version"])
                versions_dir = model_dir / "versions"
                versions_dir.mkdir(exist_ok=True)
                number = _next_version(index, versions_dir)

                def place() -> None:
                    os.rename(staging, versions_dir / number)
                    _fsync_dir(versions_dir)

                pending.append(place)
                index["versions"].append({
                    "version": number,
                    "run_id": run_id,
                    "created_at": when,
                    "bundle_sha256": bundle_sha256,
                    "archived": False,
                    "verdict": verdict,
                    "approval": _approval_dict(approval),
                    "tags": dict(tags or {}),
                })
                if alias is not None:
                    _move_alias(index, alias, number, when, approval.approved_by)
                return number

            number = self._commit(model, mutate, create=True)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return self.get_version(model, number)

    def _repromote(
        self,
        index: dict[str, Any],
        entry: dict[str, Any],
        model: str,
        alias: str | None,
        approval: Approval,
        verdict: str | None,
        tags: Mapping[str, str] | None,
        when: str,
    ) -> None:
        aliases = {str(k): str(v) for k, v in (index.get("aliases") or {}).items()}
        existing = self._version_from(model, entry, aliases)
        effective = check_repromotion(existing, verdict, approval, self.uri)
        entry["verdict"] = effective
        entry.setdefault("reapprovals", []).append(_approval_dict(approval))
        entry["tags"] = {**(entry.get("tags") or {}), **dict(tags or {})}
        if alias is not None:
            _move_alias(index, alias, str(entry["version"]), when, approval.approved_by)

    def set_alias(
        self, model: str, alias: str, version: str, *, set_by: str | None = None
    ) -> ModelVersion:
        _check_alias(alias)

        def mutate(index: dict[str, Any], pending: list[Callable[[], None]]) -> None:
            entry = _find(index, version, model, self.uri)
            if entry.get("archived"):
                raise RegistryError(
                    f"version {version} of model {model!r} is archived; it cannot take "
                    f"alias {alias!r}"
                )
            _move_alias(index, alias, str(version), iso(self._clock()), set_by)

        self._commit(model, mutate)
        return self.get_version(model, version)

    def archive(self, model: str, version: str) -> ModelVersion:
        def mutate(index: dict[str, Any], pending: list[Callable[[], None]]) -> None:
            entry = _find(index, version, model, self.uri)
            held = sorted(a for a, v in (index.get("aliases") or {}).items() if v == str(version))
            if held:
                raise RegistryError(
                    f"version {version} of model {model!r} holds alias "
                    f"{', '.join(held)}; point the alias at another version before archiving"
                )
            if not entry.get("archived"):
                entry["archived"] = True
                entry["archived_at"] = iso(self._clock())

        self._commit(model, mutate)
        return self.get_version(model, version)

    # -- the commit protocol -----------------------------------------------------------
    # -- the usage ledger --------------------------------------------------------------
    def append_decision(self, record: LedgerRecord) -> LedgerRecord:
        when = self._clock()
        rid = f"{when.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex}"
        stamped = LedgerRecord(**{**record.as_dict(), "data": tuple(sorted(record.data)),
                                  "recorded_at": iso(when), "id": rid})
        folder = self.root / LEDGER_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(folder, exc) from exc
        # A unique name per record: no lock and no read-modify-write, so no lost record.
        _atomic_write_json(folder / f"{rid}.json", stamped.as_dict())
        return stamped

    def decisions(self, *, model: str | None = None,
                  data: str | None = None) -> list[LedgerRecord]:
        folder = self.root / LEDGER_DIR
        if not folder.is_dir():
            return []
        out: list[LedgerRecord] = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.suffix != ".json":
                continue  # a record being written (its temp file)
            record = _read_ledger_file(path)
            if record.matches(model=model, data=data):
                out.append(record)
        return sorted(out, key=lambda r: (r.recorded_at, r.id))

    def _commit(self, model: str, mutate: Mutation[T], *, create: bool = False) -> T:
        model_dir = self._model_dir(model)
        index_path = model_dir / "index.json"
        if not create and not index_path.is_file():
            self._read_index(model)  # raises the "not found" error with the URI
        lock_path = model_dir / LOCK_NAME
        deadline = time.monotonic() + self.lock_timeout
        for attempt in range(self.max_attempts):
            with self._lock(lock_path) as acquired:
                if acquired:
                    try:
                        return self._commit_locked(model, index_path, mutate)
                    except _Retry:
                        pass
            if attempt + 1 < self.max_attempts and time.monotonic() < deadline:
                # Jitter spreads writers that woke up together.
                self._sleep(min(0.2, 0.005 * (1.5 ** min(attempt, 12))) * random.uniform(0.5, 1.5))
            else:
                break
        holder = _read_holder(lock_path)
        raise ConcurrencyError(
            f"could not write model {model!r} in registry {self.uri}: another promotion held "
            f"the lock for all {attempt + 1} attempts"
            + (f" (lock held by {holder})" if holder else "")
            + f"; retry later, or remove {lock_path} if no gatekeeper process is running"
        )

    def _commit_locked(
        self, model: str, index_path: Path, mutate: Mutation[T]
    ) -> T:
        if index_path.is_file():
            index = self._read_index(model)
        else:
            index = {"schema": INDEX_SCHEMA, "model": model, "revision": 0, "versions": [],
                     "aliases": {}, "alias_history": []}
        index.setdefault("versions", [])
        index.setdefault("aliases", {})
        index.setdefault("alias_history", [])
        existed = index_path.is_file()
        revision = int(index.get("revision", 0))
        pending: list[Callable[[], None]] = []
        result = mutate(index, pending)
        index["revision"] = revision + 1
        if _disk_revision(index_path) != (revision if existed else None):
            raise _Retry
        for action in pending:  # e.g. the bundle rename: done before the index names it
            action()
        _atomic_write_json(index_path, index)
        return result

    @contextlib.contextmanager
    def _lock(self, lock_path: Path) -> Iterator[bool]:
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            yield False
            return
        except OSError as exc:  # a read-only registry folder, say
            raise OutputError(lock_path, exc) from exc
        try:
            holder = f"pid {os.getpid()} on {socket.gethostname()} since {iso(self._clock())}"
            try:
                os.write(fd, holder.encode())
            except OSError as exc:
                raise OutputError(lock_path, exc) from exc
            finally:
                os.close(fd)
            yield True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock_path)


# -- helpers ---------------------------------------------------------------------------
def version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)


_version_key = version_key  # the name used before the write side existed


def model_folder(name: str) -> str:
    """The one folder name ``name`` is stored under: characters in ``UNSAFE_IN_FOLDER`` are
    percent-encoded (UTF-8), everything else is kept, so ``model_name`` reverses it. Raises
    ValueError for names that are empty, hold control characters, start with ".", or have an
    empty, "." or ".." part between slashes."""
    if not name:
        raise ValueError("the name is empty")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError("control characters are not allowed")
    if name.startswith("."):
        raise ValueError("a name may not start with '.'")
    if any(part in {"", ".", ".."} for part in name.replace("\\", "/").split("/")):
        raise ValueError("empty, '.' and '..' parts between slashes are not allowed")
    folder = "".join(
        "".join(f"%{b:02X}" for b in c.encode("utf-8")) if c in UNSAFE_IN_FOLDER else c
        for c in name
    )
    # A folder name longer than the file system allows (255 bytes on Linux and macOS) would
    # be an OSError at the first look-up, not "not found".
    if any(len(part.encode("utf-8")) > MAX_FOLDER_BYTES for part in folder.split("/")):
        raise ValueError(f"longer than the {MAX_FOLDER_BYTES} bytes a folder name may have")
    return folder


def model_name(folder: str) -> str:
    """The model name stored under ``folder`` (the inverse of ``model_folder``)."""
    return unquote(folder) if "%" in folder else folder


def run_info_from_run(run: Any, bundle: Any = None) -> RunInfo:
    """``run`` is a ``gatekeeper.models.run.Run``; metrics are values, replicate means, and,
    when ``bundle`` (an ``inputs.bundle.Bundle``) is given, the mean of per-example scores.
    An unreadable score file leaves that one metric out."""
    metrics: dict[str, float] = {}
    for name, spec in run.metrics.items():
        if spec.value is not None:
            metrics[name] = float(spec.value)
        elif spec.replicates:
            metrics[name] = float(sum(spec.replicates) / len(spec.replicates))
        elif spec.kind == "per_example" and bundle is not None:
            mean = per_example_mean(bundle, name)
            if mean is not None:
                metrics[name] = mean
    return RunInfo(
        run_id=run.run_id,
        name=run.name,
        parent_run_id=run.parent_run_id,
        params=dict(run.params),
        metrics=metrics,
        tags=dict(run.tags),
        commit=run.code.commit if run.code is not None else None,
    )


def per_example_mean(bundle: Any, name: str) -> float | None:
    """The mean per-example score of metric ``name``; None when its file cannot be read."""
    # lazy: numpy (inputs.scores) stays off every registry command but search and a promote to
    # MLflow, the two that summarise a run's scores
    from gatekeeper.inputs.scores import load_metric

    try:
        values = load_metric(bundle, name).values
    except (GatekeeperError, OSError, ValueError, KeyError):
        return None
    if values.size == 0:
        return None
    mean = float(values.mean())
    return mean if math.isfinite(mean) else None


def _check_alias(alias: str) -> None:
    if not alias or not all(c.isalnum() or c in "-_." for c in alias):
        raise RegistryError(f"invalid alias {alias!r}: use letters, digits, '-', '_' or '.'")


def _find(index: dict[str, Any], version: str, model: str, uri: str) -> dict[str, Any]:
    for entry in index.get("versions", []):
        if str(entry.get("version")) == str(version):
            return entry
    raise RegistryNotFoundError(f"version {version} of model {model!r} not found in {uri}")


def _move_alias(
    index: dict[str, Any], alias: str, version: str, when: str, set_by: str | None
) -> None:
    _check_alias(alias)
    aliases: dict[str, str] = index["aliases"]
    if aliases.get(alias) == version:
        return
    for event in index["alias_history"]:
        if event.get("alias") == alias and event.get("until") is None:
            event["until"] = when
    index["alias_history"].append(
        {"alias": alias, "version": version, "since": when, "until": None, "set_by": set_by}
    )
    aliases[alias] = version


def _next_version(index: dict[str, Any], versions_dir: Path) -> str:
    numbers = [int(str(e["version"])) for e in index["versions"] if str(e["version"]).isdigit()]
    candidate = max(numbers, default=0) + 1
    # A folder without an index entry is the leftover of a crash between rename and index
    # write: never reuse its number, so nothing is written over it.
    while (versions_dir / str(candidate)).exists():
        candidate += 1
    return str(candidate)


def _approval_dict(approval: Approval) -> dict[str, Any]:
    return {k: v for k, v in vars(approval).items() if v is not None}


def _copy_bundle(source: Path, dest: Path) -> None:
    if not source.is_dir():
        raise RegistryError(f"bundle folder {source} not found")
    root = source.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            if p.is_symlink() and not p.resolve().is_relative_to(root):
                raise RegistryError(
                    f"bundle {source} holds a symlink leaving it: {p.relative_to(root)}"
                )
    where = f"the bundle into the registry folder {dest.parent}"
    try:
        shutil.copytree(root, dest, symlinks=False, copy_function=_copy_synced)
        _fsync_dir(dest)
    except _CopyFailed as failed:
        rel = Path(failed.dst).relative_to(dest).as_posix()
        raise OutputError(dest.parent, failed.exc, what=f"{where} ({rel})") from failed.exc
    except OSError as exc:  # creating the staging folder (copytree gathers file errors)
        raise OutputError(dest.parent, exc, what=where) from exc


class _CopyFailed(Exception):
    """Not an OSError, so that copytree stops at the first file it cannot write (a full disk)
    instead of collecting every failure into one unreadable message."""

    def __init__(self, dst: str, exc: OSError) -> None:
        super().__init__(dst)
        self.dst = dst
        self.exc = exc


def _copy_synced(src: str, dst: str) -> str:
    try:
        shutil.copy2(src, dst)
        fd = os.open(dst, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _CopyFailed(dst, exc) from exc
    return dst


def _check_staged_hash(staging: Path, expected: str) -> None:
    # lazy: pydantic, yaml and the run model stay off `registry list`, `show`, `history`,
    # `set-alias` and `archive`; promote re-reads the staged bundle
    from gatekeeper.inputs.bundle import load_bundle

    actual = load_bundle(staging).sha256()
    if actual != expected:
        raise RegistryError(
            f"the bundle copied into the registry hashes to {actual}, not {expected}: "
            "it changed while being promoted (or the given hash belongs to another bundle)"
        )


def _disk_revision(index_path: Path) -> int | None:
    try:
        data = json.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return -1
    return int(data.get("revision", 0)) if isinstance(data, dict) else -1


def _read_ledger_file(path: Path) -> LedgerRecord:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        return LedgerRecord.from_dict(raw)
    except (OSError, ValueError) as exc:
        raise RegistryError(f"usage ledger record {path} is unreadable: {exc}") from exc


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    """Temp file beside the index, fsync, ``os.replace``, fsync of the folder: the shared
    helper every output goes through (a failure is an ``OutputError`` naming the index)."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_holder(lock_path: Path) -> str | None:
    try:
        return lock_path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None
