"""Write drafts as run bundles: deterministic bytes, all-or-nothing, never over a stranger's folder.

A bundle is first written into a temporary sibling folder and renamed into place
(``gatekeeper.inputs.atomic``), so a failed import leaves nothing half-written; a write that
fails (a full disk, a read-only folder) is an ``OutputError`` (exit 2) naming the bundle file.
The same input gives the same bytes: keys are sorted, numbers use their shortest round-trip
text, and nothing reads the wall clock.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gatekeeper.errors import GatekeeperError, ImporterError
from gatekeeper.importers.sources import fail, format_score
from gatekeeper.inputs.atomic import OutputError, replace_folder, stage_folder
from gatekeeper.inputs.fileio import CHUNK, sha256_file
from gatekeeper.models.run import RUN_SCHEMA, Run

RUN_FILE = "run.yaml"
_BUNDLE_MARKERS = ("run.yaml", "run.yml", "run.json")


@dataclass(frozen=True)
class ImportOptions:
    model_name: str | None = None  # overrides the model name the tool recorded
    run_id: str | None = None  # default: derived from a sha256 of the input files
    provider: str | None = None  # promptfoo: which provider's results
    tasks: tuple[str, ...] = ()  # lm-eval: which tasks (default: all)
    model: str | None = None  # Inspect eval-set: which model's log
    force: bool = False  # replace an existing bundle at --out


@dataclass
class Draft:
    """One bundle before it is written: run.yaml content plus the files it names."""

    run: dict[str, Any]  # run.yaml without run_id (the writer fills it in)
    label: str  # the model, for `--out DIR/{model}`
    inputs: list[Path]  # source files whose bytes identify the run
    files: dict[str, bytes] = field(default_factory=dict)  # bundle-relative path -> content
    copies: dict[str, Path] = field(default_factory=dict)  # bundle-relative path -> source file
    notes: list[str] = field(default_factory=list)  # what was skipped, and why
    copy_kinds: dict[str, str] = field(default_factory=dict)  # copies' artifact kind, if not
    # "artifact" (the Python API's `log_artifact(path, kind=...)`)


def slug(text: str) -> str:
    """A file-name-safe rendering of a tool's name for a task, metric or model."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned or "_"


def score_csv(rows: Iterable[tuple[str, float]], clusters: Sequence[str] | None = None) -> bytes:
    """``id,score`` (and ``cluster``) with a header; ids quoted only when they need it."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if clusters is None:
        writer.writerow(["id", "score"])
        for ident, score in rows:
            writer.writerow([ident, format_score(score)])
    else:
        writer.writerow(["id", "score", "cluster"])
        for (ident, score), cluster in zip(rows, clusters, strict=True):
            writer.writerow([ident, format_score(score), cluster])
    return buf.getvalue().encode("utf-8")


def jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False, allow_nan=False) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def derive_run_id(tool: str, draft: Draft, options: ImportOptions) -> str:
    """A stable id from what was imported and how, so re-importing gives the same bundle."""
    digest = hashlib.sha256()
    digest.update(f"gatekeeper-import\0{tool}\0".encode())
    chosen = {"provider": options.provider, "tasks": sorted(options.tasks),
              "model": options.model, "model_name": options.model_name, "label": draft.label}
    digest.update(json.dumps(chosen, sort_keys=True).encode())
    for path in draft.inputs:
        digest.update(b"\0")
        digest.update(sha256_file(path, allow_links=True)[0].encode())
    return digest.hexdigest()[:32]


def write_drafts(tool: str, drafts: list[Draft], out: Path, options: ImportOptions) -> list[Path]:
    if not drafts:
        raise fail("nothing to import", out)
    templated = "{model}" in str(out)
    if not templated and len(drafts) > 1:
        labels = ", ".join(d.label for d in drafts)
        raise fail(f"the source holds {len(drafts)} runs ({labels}); choose one, or write each "
                   "to its own bundle with --out DIR/{model}", out)
    targets = [Path(str(out).replace("{model}", slug(d.label))) for d in drafts]
    if len(set(targets)) != len(targets):
        raise fail("two runs map to the same --out folder", out)
    for target in targets:
        _check_target(target, options.force)
    written: list[Path] = []
    for draft, target in zip(drafts, targets, strict=True):
        run_id = options.run_id or derive_run_id(tool, draft, options)
        written.append(write_bundle(draft, target, run_id=run_id, force=options.force))
    return written


def write_bundle(draft: Draft, out: Path, *, run_id: str, force: bool = False) -> Path:
    _check_target(out, force)
    tmp = staging_folder(out)
    try:
        run = _prune(dict(draft.run))
        run["schema"] = RUN_SCHEMA
        run["run_id"] = run_id
        for rel, content in sorted(draft.files.items()):
            target = _inside(tmp, rel)
            with _writing(out, rel):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        artifacts = list(run.get("artifacts", []))
        for rel, source in sorted(draft.copies.items()):
            digest, size = _copy_hashed(source, _inside(tmp, rel), out, rel)
            artifacts.append({"path": rel, "sha256": digest, "size": size,
                              "kind": draft.copy_kinds.get(rel, "artifact")})
        if artifacts:
            run["artifacts"] = sorted(artifacts, key=lambda a: str(a["path"]))
        try:
            Run.model_validate(run)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise fail(f"the imported run is not a valid bundle: {first['msg']}", out,
                       field=where) from exc
        text = yaml.safe_dump(run, sort_keys=True, allow_unicode=True, default_flow_style=False,
                              width=100)
        with _writing(out, RUN_FILE):
            (tmp / RUN_FILE).write_text(text, encoding="utf-8")
        _loads_back(tmp, out)
        replace_folder(tmp, out, what=f"the bundle to {out}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _loads_back(tmp: Path, out: Path) -> None:
    """Read the written bundle as `check` will: a tool's output that gives a bundle the gate
    refuses (an id with a control character, a look-alike metric name, a number past 64 bits)
    fails the import now, naming what is wrong, rather than the first check that reads it."""
    # lazy: reading a bundle back (numpy) stays off `gatekeeper import --help` and --help
    from gatekeeper.inputs.bundle import load_bundle
    from gatekeeper.inputs.scores import load_metric
    from gatekeeper.inputs.traces import read_traces

    try:
        bundle = load_bundle(tmp, display=str(out))
        for name in bundle.run.metrics:
            load_metric(bundle, name)
        read_traces(bundle)
    except GatekeeperError as exc:
        raise ImporterError(f"the imported run would be refused by the gate: {exc.message}",
                            exc.location) from exc


def check_target(out: Path, *, force: bool = False) -> None:
    """Refuse ``out`` early (before any download) as ``write_bundle`` would."""
    _check_target(out, force)


def staging_folder(out: Path) -> Path:
    """A fresh temporary sibling of ``out`` to fill with a finished bundle."""
    return stage_folder(out, what=f"the bundle to {out}")


def install_folder(tmp: Path, out: Path, *, force: bool = False) -> Path:
    """Move a finished bundle from its staging folder into place, all or nothing: for a bundle
    that is copied as it is (its bytes, and so its sha256, must not change)."""
    _check_target(out, force)
    replace_folder(tmp, out, what=f"the bundle to {out}")
    return out


@contextlib.contextmanager
def _writing(out: Path, rel: str) -> Iterator[None]:
    """Name the bundle file (not its staging copy) when writing it fails."""
    try:
        yield
    except OSError as exc:
        raise OutputError(out / rel, exc, what=f"the bundle to {out} ({rel})") from exc


def _check_target(out: Path, force: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise fail("--out exists and is not a folder", out)
    if not any(out.iterdir()):
        return
    if not force:
        raise fail("--out exists and is not empty; pass --force to replace it", out)
    if not any((out / m).is_file() for m in _BUNDLE_MARKERS):
        # --force replaces a bundle, never an arbitrary folder someone pointed --out at.
        raise fail("--out is not empty and holds no run bundle; refusing to replace it", out)


def _inside(root: Path, rel: str) -> Path:
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise fail(f"refusing to write outside the bundle: {rel!r}")
    return root.joinpath(*parts)


def _copy_hashed(source: Path, target: Path, out: Path, rel: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src:
        with _writing(out, rel):
            target.parent.mkdir(parents=True, exist_ok=True)
            dst = target.open("wb")
        with dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                with _writing(out, rel):
                    dst.write(chunk)
            with _writing(out, rel):
                dst.flush()
    return digest.hexdigest(), size


def _prune(value: Any, *, keep_nulls: bool = False) -> Any:
    """Drop unset fields so run.yaml shows only what the tool recorded.

    Inside ``params`` and ``tags`` a null is the tool's own value and is kept.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if v is None and not keep_nulls:
                continue
            out[k] = _prune(v, keep_nulls=keep_nulls or k in ("params",))
        return out
    if isinstance(value, list):
        return [_prune(v, keep_nulls=keep_nulls) for v in value]
    return value
