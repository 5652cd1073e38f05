"""``gatekeeper.Run``: a training or evaluation script writes its bundle through this.

    with gatekeeper.Run("out/bundle", model="sentiment-clf", params=cfg, seeds=[0, 1, 2]) as run:
        for seed in run.seeds:
            run.log_metric("accuracy", train(seed), seed=seed)

On entry the environment and code are captured (``gatekeeper.capture``); on exit the bundle is
written all at once (``importers.writer.write_bundle``: a staging folder renamed into place), so
a killed process leaves no bundle that loads as complete. An exception inside the block writes
the bundle with ``status: failed`` (which the gate blocks) and then propagates.

``GATEKEEPER_BUNDLE_DIR`` (set by ``gatekeeper capture`` and ``gatekeeper replay``) overrides the
folder, ``GATEKEEPER_SEEDS`` (a JSON list) the seeds and ``GATEKEEPER_COMMAND`` (a JSON list) the
recorded command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from gatekeeper.api import parts
from gatekeeper.api.collected import Collected, Scores, build_draft
from gatekeeper.api.secrets import find_credential, refuse_credentials
from gatekeeper.api.values import as_list, as_number, as_seed
from gatekeeper.capture import capture_envelope
from gatekeeper.errors import GatekeeperError, InputError, Location
from gatekeeper.importers.writer import Draft, write_bundle
from gatekeeper.inputs.fileio import CHUNK
from gatekeeper.models.run import RUN_SCHEMA
from gatekeeper.models.run import Run as RunModel
from gatekeeper.safe_text import one_line

BUNDLE_DIR_ENV = "GATEKEEPER_BUNDLE_DIR"
SEEDS_ENV = "GATEKEEPER_SEEDS"
COMMAND_ENV = "GATEKEEPER_COMMAND"
_FAILURE_CHARS = 500


def _json_list(name: str, environ: Mapping[str, str]) -> list[Any] | None:
    if name not in environ:
        return None
    try:
        value = json.loads(environ[name])
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", Location(field=f"${name}")) from exc
    if not isinstance(value, list):
        raise InputError("must be a JSON list", Location(field=f"${name}"))
    return value


def _script_command() -> list[str] | None:
    """``[python, script.py, args...]`` when the process runs a script file, else None (an
    interactive session or a test runner is no command to replay)."""
    main = sys.modules.get("__main__")
    argv0 = sys.argv[0] if sys.argv else ""
    if main is None or getattr(main, "__spec__", None) is not None:
        return None
    if not argv0.endswith(".py") or not Path(argv0).is_file():
        return None
    return [sys.executable, *sys.argv]


def _sha256_file(path: Path, what: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}",
                         Location(str(path), what)) from exc
    return digest.hexdigest(), size


class Run:
    """One run's evidence, written as a bundle when the ``with`` block ends."""

    def __init__(self, out: str | os.PathLike[str] | None = None, *, model: str,
                 params: Mapping[str, Any] | None = None, seeds: Sequence[int] | None = None,
                 tags: Mapping[str, str] | None = None, run_id: str | None = None,
                 name: str | None = None, allow_env: Sequence[str] = (),
                 command: Sequence[str] | None = None, description: str | None = None,
                 repo: str | os.PathLike[str] | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        target = self._environ.get(BUNDLE_DIR_ENV) or out
        if not target:
            raise InputError(f"no bundle folder: give Run(out, ...) or set ${BUNDLE_DIR_ENV}")
        self.out = Path(target)
        self.model = model
        self.params = dict(params or {})
        refuse_credentials(self.params, "params")
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        refuse_credentials(self.tags, "tags")
        env_seeds = _json_list(SEEDS_ENV, self._environ)
        chosen = env_seeds if env_seeds is not None else seeds
        self.seeds: list[int] = [as_seed(s, f"seeds[{i}]") for i, s in enumerate(chosen or [])]
        self.run_id = run_id
        self.name = name
        self.description = description
        self.allow_env = tuple(allow_env)
        # Where the code and lockfile are read from: the working directory unless given.
        self.repo = Path(repo) if repo is not None else None
        env_command = _json_list(COMMAND_ENV, self._environ)
        cmd = list(command) if command is not None else env_command or _script_command()
        self.command = [str(c) for c in cmd] if cmd else None
        refuse_credentials(self.command, "command")
        self._envelope: dict[str, Any] = {}
        self._c = Collected()
        self._part: int | None = None
        self._declared: list[int] = list(self.seeds)
        self._open = False
        self.written: Path | None = None

    # -- one process per seed ---------------------------------------------------------------

    def seed(self, k: int) -> Run:
        """Make this run the part for seed ``k`` (one process per seed): it is written beside
        the bundle, in ``OUT.parts/seed-K``, and ``Run.merge(OUT)`` joins the parts."""
        k = as_seed(k, "seed")
        if self._declared and k not in self._declared:
            raise InputError(f"seed {k} is not one of the run's seeds "
                             f"({', '.join(map(str, self._declared))})", Location(field="seed"))
        self._part = k
        self.seeds = [k]
        self.out = parts.part_folder(self.out, k)
        return self

    @staticmethod
    def merge(out: str | os.PathLike[str] | None = None) -> Path:
        """Join the per-seed parts in ``OUT.parts/`` into the bundle ``OUT``
        (``$GATEKEEPER_BUNDLE_DIR`` wins, as it does for the parts)."""
        target = os.environ.get(BUNDLE_DIR_ENV) or out
        if not target:
            raise InputError(f"no bundle folder: give Run.merge(out) or set ${BUNDLE_DIR_ENV}")
        return parts.merge(Path(target))

    # -- the with block ---------------------------------------------------------------------

    def __enter__(self) -> Run:
        self._envelope = self._capture()
        self._open = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._open = False
        if exc is None:
            self.written = self._write(failure=None)
            return
        try:
            self.written = self._write(failure=_describe(exc))
        except GatekeeperError:
            # What was logged does not make a valid bundle: record the failure alone.
            self._c = Collected()
            self.written = self._write(failure=_describe(exc))
        # returning None lets the exception propagate

    def close(self) -> Path:
        """Write the bundle without a ``with`` block (the envelope is captured now if it was
        not on entry)."""
        if not self._envelope:
            self._envelope = self._capture()
        self.written = self._write(failure=None)
        return self.written

    def _capture(self) -> dict[str, Any]:
        return capture_envelope(self.repo or Path.cwd(), self._environ, self.allow_env).as_dict()

    # -- logging ----------------------------------------------------------------------------

    def log_metric(self, name: str, value: float, *, seed: int | None = None,
                   unit: str | None = None, range: tuple[float, float] | None = None) -> None:
        """One number; with ``seed`` (or in a per-seed part) one replicate of it."""
        number = as_number(value, f"metrics.{name}")
        if seed is None and self._part is not None:
            seed = self._part
        if seed is None:
            self._name(name, "value")
            self._c.values[name] = number
        else:
            self._name(name, "seeded")
            s = as_seed(seed, f"metrics.{name}.seed")
            self._c.seeded.setdefault(name, {})[s] = number
            if s not in self.seeds and self._part is None:
                self.seeds.append(s)
        self._spec(name, unit, range)

    def log_scores(self, name: str, ids: Any, scores: Any, *, clusters: Any = None,
                   unit: str | None = None, range: tuple[float, float] | None = None) -> None:
        """Per-example scores (lists or numpy arrays), written as CSV, or ``.npz`` past
        100,000 examples."""
        self._name(name, "scores")
        id_list = as_list(ids, f"metrics.{name}.ids")
        values = [as_number(v, f"metrics.{name}.scores[{i}]")
                  for i, v in enumerate(as_list(scores, f"metrics.{name}.scores"))]
        if len(id_list) != len(values):
            raise InputError(f"{len(id_list)} ids but {len(values)} scores",
                             Location(field=f"metrics.{name}"))
        cluster_list = None
        if clusters is not None:
            cluster_list = [str(x) for x in as_list(clusters, f"metrics.{name}.clusters")]
            if len(cluster_list) != len(values):
                raise InputError(f"{len(cluster_list)} clusters for {len(values)} scores",
                                 Location(field=f"metrics.{name}"))
        self._c.scores[name] = Scores(id_list, values, cluster_list)
        self._spec(name, unit, range)

    def log_series(self, name: str, step: Any, value: Any) -> None:
        """A point of a curve (``step``, ``value``), or whole sequences of them."""
        self._name(name, "series")
        if isinstance(step, int | float) or (hasattr(step, "item")
                                             and getattr(step, "ndim", 1) == 0):
            steps, values = [step], [value]
        else:
            steps, values = as_list(step, f"metrics.{name}.step"), as_list(
                value, f"metrics.{name}.value")
        if len(steps) != len(values):
            raise InputError(f"{len(steps)} steps but {len(values)} values",
                             Location(field=f"metrics.{name}"))
        points = self._c.series.setdefault(name, [])
        for s, v in zip(steps, values, strict=True):
            points.append((as_number(s, f"metrics.{name}.step"),
                           as_number(v, f"metrics.{name}.value")))

    def log_artifact(self, path: str | os.PathLike[str], *, kind: str = "artifact") -> None:
        """Copy a file (relative to the working directory) into ``artifacts/`` when the bundle
        is written; its sha256 and size are computed while it is copied."""
        source = Path(path)
        if not source.is_file():
            raise InputError("not a file", Location(str(source), "artifacts"))
        rel = f"artifacts/{source.name}"
        if rel in self._c.artifacts and self._c.artifacts[rel][0] != source:
            raise InputError(f"two artifacts named {source.name!r}",
                             Location(str(source), "artifacts"))
        self._c.artifacts[rel] = (source, kind)

    def log_trace(self, record: Mapping[str, Any]) -> None:
        """One request: ``latency_ms``, ``input_tokens``, ``output_tokens``, ``cost_usd``,
        ``success``, ``error``; an ``id`` is given when the record has none."""
        i = len(self._c.traces)
        rec = dict(record)
        refuse_credentials(rec, f"traces[{i}]")
        if "id" not in rec:
            rec["id"] = f"req-{i + 1:06d}" if self._part is None else f"s{self._part}-{i + 1:06d}"
        self._c.traces.append(rec)

    def log_data(self, name: str, *, uri: str | None = None,
                 path: str | os.PathLike[str] | None = None, split: str | None = None,
                 version: str | None = None, rows: int | None = None,
                 sha256: str | None = None) -> None:
        """A data set the run used; its sha256 is read from ``path`` (a local copy)."""
        entry: dict[str, Any] = {"name": name, "uri": uri, "split": split, "version": version,
                                 "rows": rows, "sha256": sha256}
        refuse_credentials({k: v for k, v in entry.items() if isinstance(v, str)},
                           f"data.{name}")
        if path is not None:
            entry["sha256"], _ = _sha256_file(Path(path), f"data.{name}.path")
        self._c.data[name] = {k: v for k, v in entry.items() if v is not None}

    # -- writing ----------------------------------------------------------------------------

    def _name(self, name: str, shape: str) -> None:
        if not isinstance(name, str) or not name:
            raise InputError("a metric name is a non-empty string", Location(field="metrics"))
        shapes: dict[str, Mapping[str, Any]] = {
            "value": self._c.values, "seeded": self._c.seeded, "scores": self._c.scores,
            "series": self._c.series}
        if any(name in logged for kind, logged in shapes.items() if kind != shape):
            raise InputError("logged in two different shapes (a value, per-seed values, "
                             "scores or a series): give each its own name",
                             Location(field=f"metrics.{name}"))

    def _spec(self, name: str, unit: str | None, rng: tuple[float, float] | None) -> None:
        extra = self._c.specs.setdefault(name, {})
        if unit is not None:
            extra["unit"] = unit
        if rng is not None:
            extra["range"] = [float(rng[0]), float(rng[1])]

    def _document(self, failure: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {"model": self.model, "name": self.name, "tags": self.tags,
                               "params": self.params, "seeds": self.seeds or None,
                               "command": self.command, "description": self.description,
                               **self._envelope}
        if self._part is not None and self._declared:
            doc["tags"] = {**self.tags, parts.SEEDS_TAG: ",".join(map(str, self._declared))}
        doc["status"] = "failed" if failure is not None else "complete"
        if failure is not None:
            doc["failure"] = failure
        return doc

    def _write(self, failure: str | None) -> Path:
        draft = build_draft(self._c, self._document(failure), self.seeds,
                            strict=failure is None and self._part is None)
        run_id = self.run_id or derive_run_id(draft)
        _validate(draft, run_id, self.out)
        return write_bundle(draft, self.out, run_id=run_id, force=True)


def _describe(exc: BaseException) -> str:
    text = one_line(f"{type(exc).__name__}: {exc}")[:_FAILURE_CHARS]
    # The message may quote a secret (a failed request's URL): then only the type is kept.
    return type(exc).__name__ if find_credential(text, "failure") else text


def derive_run_id(draft: Draft) -> str:
    """A stable id from the run's content, so the same run gives the same bytes."""
    digest = hashlib.sha256(b"gatekeeper-run\0")
    digest.update(json.dumps(draft.run, sort_keys=True, default=str).encode("utf-8"))
    for rel in sorted(draft.files):
        digest.update(f"\0{rel}\0".encode())
        digest.update(draft.files[rel])
    for rel in sorted(draft.copies):
        digest.update(f"\0{rel}\0".encode())
        digest.update(_sha256_file(draft.copies[rel], "artifacts")[0].encode())
    return digest.hexdigest()[:32]


def _validate(draft: Draft, run_id: str, out: Path) -> None:
    """The run.yaml the writer will write, validated now so that an error names the field as
    the script gave it."""
    doc = {k: v for k, v in draft.run.items() if v is not None}
    doc.update({"schema": RUN_SCHEMA, "run_id": run_id})
    try:
        RunModel.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"the run cannot be written: {first['msg']}",
                         Location(str(out), where)) from exc
