"""Run a command that writes its evidence, and make a bundle of what it wrote.

The command gets ``GATEKEEPER_BUNDLE_DIR`` (a fresh folder), ``GATEKEEPER_COMMAND`` (its own
argv, as JSON) and, when given, ``GATEKEEPER_SEEDS``. It either writes a bundle there through
``gatekeeper.Run`` or leaves a ``metrics.json`` (``{"name": number, ...}``, or a list of
numbers per seed) with any other files, which become the bundle's artifacts.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from gatekeeper.errors import InputError, Location
from gatekeeper.importers.writer import Draft, install_folder, write_bundle
from gatekeeper.inputs.bundle import RUN_FILES

METRICS_FILE = "metrics.json"


def run_command(cmd: Sequence[str], folder: Path, environ: Mapping[str, str],
                seeds: Sequence[int] | None, stdout: IO[str] | None = None) -> int:
    env = dict(environ)
    env["GATEKEEPER_BUNDLE_DIR"] = str(folder.resolve())
    env["GATEKEEPER_COMMAND"] = json.dumps(list(cmd))
    if seeds:
        env["GATEKEEPER_SEEDS"] = json.dumps(list(seeds))
    else:
        env.pop("GATEKEEPER_SEEDS", None)
    try:
        proc = subprocess.run(list(cmd), env=env, check=False, text=True,
                              stdout=None if stdout is None else subprocess.PIPE,
                              stderr=None if stdout is None else subprocess.STDOUT)
    except OSError as exc:
        raise InputError(f"cannot run the command: {exc.strerror or exc}",
                         Location(field="command")) from exc
    if stdout is not None and proc.stdout:
        stdout.write(proc.stdout)
    return proc.returncode


def holds_bundle(folder: Path) -> bool:
    return any((folder / name).is_file() for name in RUN_FILES)


def _metrics(folder: Path, seeds: Sequence[int] | None) -> dict[str, Any]:
    path = folder / METRICS_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable: {exc}", Location(str(path))) from exc
    if not isinstance(doc, dict):
        raise InputError("must map metric names to numbers", Location(str(path)))
    out: dict[str, Any] = {}
    for name, value in doc.items():
        where = Location(str(path), str(name))
        if isinstance(value, list):
            if not seeds or len(value) != len(seeds):
                raise InputError("a list gives one value per seed: pass the seeds", where)
            out[str(name)] = {"replicates": [_number(v, where) for v in value]}
        else:
            out[str(name)] = {"value": _number(value, where)}
    return out


def _number(value: Any, where: Location) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(float(value)):
        raise InputError(f"must be a finite number, got {str(value)[:40]!r}", where)
    return float(value)


def wrap_folder(folder: Path | None, out: Path, run: dict[str, Any],
                seeds: Sequence[int] | None) -> Path:
    """``out`` from what the command left in ``folder``: its bundle as it is, or its
    ``metrics.json`` and files wrapped with ``run`` (model, envelope, command, status)."""
    if folder is not None and holds_bundle(folder):
        return install_folder(folder, out, force=True)
    doc = dict(run)
    draft = Draft(run=doc, label=str(run.get("model", "")), inputs=[])
    if folder is not None and (folder / METRICS_FILE).is_file():
        doc["metrics"] = _metrics(folder, seeds)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if rel != METRICS_FILE:
                draft.copies[f"artifacts/{rel}"] = path
    elif doc.get("status") != "failed":
        raise InputError("the command wrote no bundle and no metrics.json: write through "
                         "gatekeeper.Run (it honours $GATEKEEPER_BUNDLE_DIR) or leave a "
                         f"{METRICS_FILE} in $GATEKEEPER_BUNDLE_DIR", Location(field="command"))
    if seeds:
        doc["seeds"] = list(seeds)
    return write_bundle(draft, out, run_id=_run_id(doc), force=True)


def _run_id(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(b"gatekeeper-capture\0" + text.encode()).hexdigest()[:32]
