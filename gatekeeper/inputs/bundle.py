"""Load and validate a run bundle: ``run.yaml`` (or ``run.json``) plus the files it names."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs.fileio import confine, sha256_file
from gatekeeper.inputs.yamlio import LineMap, read_document, validation_error
from gatekeeper.models.run import RUN_SCHEMA, Run

RUN_FILES = ("run.yaml", "run.yml", "run.json")


@dataclass(frozen=True)
class ArtifactStatus:
    path: str
    ok: bool
    expected_sha256: str
    actual_sha256: str | None
    expected_size: int
    actual_size: int | None
    problem: str | None = None


@dataclass
class Bundle:
    root: Path  # resolved
    run: Run
    run_file: Path
    lines: LineMap
    display: str  # how to name the bundle in messages (as the user gave it)
    _hashes: dict[str, tuple[str, int]] = field(default_factory=dict, repr=False)

    def location(self, *path: str | int) -> Location:
        from gatekeeper.inputs.yamlio import render_path

        line, col = self.lines.get(tuple(path), (None, None))
        return Location(self.run_file_display, render_path(path) or None, line, col)

    @property
    def run_file_display(self) -> str:
        return os.path.join(self.display, self.run_file.name)

    def resolve(self, relative: str, *field_path: str | int) -> Path:
        return confine(self.root, relative, self.location(*field_path))

    def file_hash(self, path: Path) -> tuple[str, int]:
        key = str(path)
        if key not in self._hashes:
            self._hashes[key] = sha256_file(path)
        return self._hashes[key]

    def files(self) -> list[Path]:
        """Every regular file under the bundle, sorted by POSIX relative path."""
        out: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames.sort()
            base = Path(dirpath)
            for name in dirnames:
                target = base / name
                if target.is_symlink() and not target.resolve().is_relative_to(self.root):
                    rel = target.relative_to(self.root).as_posix()
                    raise BundleError(f"symlink {rel!r} points outside the bundle",
                                      Location(self.display))
            for name in filenames:
                p = base / name
                if p.is_symlink():
                    if not p.resolve().is_relative_to(self.root):
                        rel = p.relative_to(self.root).as_posix()
                        raise BundleError(f"symlink {rel!r} points outside the bundle",
                                          Location(self.display))
                    if not p.resolve().is_file():
                        continue
                out.append(p)
        return sorted(out, key=lambda p: p.relative_to(self.root).as_posix())

    def sha256(self) -> str:
        """Hash of a canonical listing: ``<sha256> <size> <posix path>`` per file, sorted.

        Independent of file order on disk, mtimes and the bundle's location, so the same
        evidence gives the same id everywhere.
        """
        listing = hashlib.sha256()
        for p in self.files():
            digest, size = self.file_hash(p.resolve())
            rel = p.relative_to(self.root).as_posix()
            listing.update(f"{digest} {size} {rel}\n".encode())
        return listing.hexdigest()

    def verify_artifacts(self) -> list[ArtifactStatus]:
        out: list[ArtifactStatus] = []
        for i, art in enumerate(self.run.artifacts):
            path = self.resolve(art.path, "artifacts", i, "path")
            if not path.is_file():
                out.append(ArtifactStatus(art.path, False, art.sha256, None, art.size, None,
                                          "file is missing"))
                continue
            digest, size = self.file_hash(path)
            problem = None
            if digest != art.sha256:
                problem = f"sha256 mismatch: expected {art.sha256}, found {digest}"
            elif size != art.size:
                problem = f"size mismatch: expected {art.size} bytes, found {size}"
            out.append(ArtifactStatus(art.path, problem is None, art.sha256, digest, art.size,
                                      size, problem))
        return out


def find_run_file(root: Path, display: str) -> Path:
    present = [root / n for n in RUN_FILES if (root / n).is_file()]
    if not present:
        raise BundleError("no run.yaml or run.json in the bundle", Location(display))
    if len(present) > 1:
        names = ", ".join(p.name for p in present)
        raise BundleError(f"the bundle has several run files ({names}); keep one",
                          Location(display))
    return present[0]


def load_bundle(path: Path, display: str | None = None) -> Bundle:
    shown = display or str(path)
    if not path.exists():
        raise BundleError("bundle folder not found", Location(shown))
    if not path.is_dir():
        raise BundleError("a bundle is a folder holding run.yaml", Location(shown))
    root = path.resolve()
    run_file = find_run_file(root, shown)
    file_display = os.path.join(shown, run_file.name)
    if run_file.is_symlink() and not run_file.resolve().is_relative_to(root):
        raise BundleError("run file is a symlink leaving the bundle", Location(file_display))
    data, lines, _raw = read_document(run_file, file_display)
    if not isinstance(data, dict):
        raise BundleError("the run file must be a mapping", Location(file_display, line=1))
    if data.get("schema") != RUN_SCHEMA:
        line, col = lines.get(("schema",), (1, 1))
        raise BundleError(
            f"schema must be {RUN_SCHEMA!r} (got {data.get('schema')!r})",
            Location(file_display, "schema", line, col),
        )
    try:
        run = Run.model_validate(data)
    except ValidationError as exc:
        err = validation_error(exc, file_display, lines)
        raise BundleError(err.message, err.location) from exc
    bundle = Bundle(root=root, run=run, run_file=run_file, lines=lines, display=shown)
    _check_paths(bundle)
    return bundle


def _check_paths(bundle: Bundle) -> None:
    """Confine every path the run names, and require score/trace files to exist."""
    run = bundle.run
    for name, spec in run.metrics.items():
        for kind in ("per_example", "samples", "series"):
            rel = getattr(spec, kind)
            if rel is None:
                continue
            target = bundle.resolve(rel, "metrics", name, kind)
            if not target.is_file():
                raise BundleError(f"file {rel!r} not found in the bundle",
                                  bundle.location("metrics", name, kind))
    for i, art in enumerate(run.artifacts):
        bundle.resolve(art.path, "artifacts", i, "path")  # missing files are a check, not an error
    if run.llm is not None:
        for i, rel in enumerate(run.llm.traces):
            target = bundle.resolve(rel, "llm", "traces", i)
            if not target.is_file():
                raise BundleError(f"trace file {rel!r} not found in the bundle",
                                  bundle.location("llm", "traces", i))
        for i, prompt in enumerate(run.llm.prompts):
            if prompt.path is not None:
                bundle.resolve(prompt.path, "llm", "prompts", i, "path")
    if run.environment and run.environment.lockfile:
        pass  # a lockfile path names a file in the repo, not necessarily in the bundle
