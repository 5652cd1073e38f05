"""Load and validate a run bundle: ``run.yaml`` (or ``run.json``) plus the files it names."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gatekeeper.errors import BundleError, InputError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.fileio import check_regular, confine, resolve_inside, sha256_file
from gatekeeper.inputs.names import name_problem
from gatekeeper.inputs.yamlio import LineMap, read_document, render_path, validation_error
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
            try:
                rel = path.relative_to(self.root).as_posix()
            except ValueError:
                rel = path.name
            self._hashes[key] = sha256_file(path, rel, Location(self.display))
        return self._hashes[key]

    def files(self) -> list[Path]:
        """Every regular file under the bundle, sorted by POSIX relative path.

        Walked with an explicit stack (a recursive walk overflows on folders nested a thousand
        deep), without following symlinked folders; a symlink to a file is followed only inside
        the bundle (a dangling one is skipped). A FIFO, socket or device, a hard link, a symlink
        loop and a folder that cannot be listed are errors: a file left out would change the
        bundle's hash without a word."""
        out: list[Path] = []
        where = Location(self.display)
        most = limits.BUNDLE_FILES.value()
        seen = 0
        stack = [self.root]
        while stack:
            folder = stack.pop()
            for entry in self._entries(folder, where):
                seen += 1
                limits.BUNDLE_FILES.check(seen, f"the bundle holds more than {most:,} files "
                                          "and folders", where, BundleError)
                p = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(p)
                elif entry.is_symlink() and self._inside(p, where).is_dir():
                    continue  # a symlinked folder inside the bundle: not followed
                elif self._listed(p, where):
                    out.append(p)
        return sorted(out, key=lambda p: p.relative_to(self.root).as_posix())

    def _entries(self, folder: Path, where: Location) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as exc:
            rel = folder.relative_to(self.root).as_posix()
            raise BundleError(f"cannot list the folder {rel!r}: {exc.strerror or exc}",
                              where) from exc

    def _inside(self, link: Path, where: Location) -> Path:
        rel = link.relative_to(self.root).as_posix()
        target = resolve_inside(link, Location(self.display, rel))
        if not target.is_relative_to(self.root):
            raise BundleError(f"symlink {rel!r} points outside the bundle", where)
        return target

    def _listed(self, p: Path, where: Location) -> bool:
        """Whether ``p`` is a file of the bundle's listing (and an error when it cannot be)."""
        rel = p.relative_to(self.root).as_posix()
        try:
            info = p.lstat()
        except OSError as exc:
            raise BundleError(f"cannot read {rel!r}: {exc.strerror or exc}", where) from exc
        if stat.S_ISLNK(info.st_mode):
            target = self._inside(p, where)
            try:
                info = target.stat()
            except OSError:
                return False  # dangling
            if not stat.S_ISREG(info.st_mode):
                return False
        check_regular(info, rel, where)
        return True

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
    try:
        if not path.exists():
            raise BundleError("bundle folder not found", Location(shown))
        is_dir = path.is_dir()
    except OSError as exc:
        raise BundleError(f"cannot read the bundle folder: {exc.strerror or exc}",
                          Location(shown)) from exc
    if not is_dir:
        raise BundleError("a bundle is a folder holding run.yaml", Location(shown))
    root = resolve_inside(path, Location(shown))
    run_file = find_run_file(root, shown)
    file_display = os.path.join(shown, run_file.name)
    if run_file.is_symlink() and not resolve_inside(
            run_file, Location(file_display)).is_relative_to(root):
        raise BundleError("run file is a symlink leaving the bundle", Location(file_display))
    try:
        data, lines, _raw = read_document(run_file, file_display)
    except BundleError:
        raise
    except InputError as exc:  # the run file's problems are the bundle's (baseline lookups
        raise BundleError(exc.message, exc.location) from exc  # report them as such)
    if not isinstance(data, dict):
        raise BundleError("the run file must be a mapping", Location(file_display, line=1))
    if data.get("schema") != RUN_SCHEMA:
        line, col = lines.get(("schema",), (1, 1))
        raise BundleError(
            f"schema must be {RUN_SCHEMA!r} (got {data.get('schema')!r})",
            Location(file_display, "schema", line, col),
        )
    _check_counts(data, lines, file_display)
    try:
        run = Run.model_validate(data)
    except ValidationError as exc:
        err = validation_error(exc, file_display, lines)
        raise BundleError(err.message, err.location) from exc
    bundle = Bundle(root=root, run=run, run_file=run_file, lines=lines, display=shown)
    _check_metric_names(bundle)
    _check_paths(bundle)
    return bundle


def _check_counts(data: dict[str, Any], lines: LineMap, shown: str) -> None:
    """How many metrics and files a run may list, before validating each of them."""
    llm = data.get("llm")
    llm = llm if isinstance(llm, dict) else {}
    bounded: list[tuple[tuple[str, ...], Any, limits.Limit]] = [
        (("metrics",), data.get("metrics"), limits.METRICS),
        (("artifacts",), data.get("artifacts"), limits.ARTIFACTS),
        (("data",), data.get("data"), limits.ARTIFACTS),
        (("llm", "traces"), llm.get("traces"), limits.ARTIFACTS),
        (("llm", "prompts"), llm.get("prompts"), limits.ARTIFACTS),
    ]
    for path, value, limit in bounded:
        if isinstance(value, dict | list):
            line, col = lines.get(path, (0, 0))
            limit.check(len(value), f"{len(value):,} entries",
                        Location(shown, ".".join(path), line or None, col or None), BundleError)


def _check_metric_names(bundle: Bundle) -> None:
    for name in bundle.run.metrics:
        problem = name_problem(name)
        if problem is not None:
            raise BundleError(f"metric name {name!r} {problem}",
                              bundle.location("metrics", name))


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
