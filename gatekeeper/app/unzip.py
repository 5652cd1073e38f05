"""Unpack the bundle artifact's zip, refusing what could hurt the service.

Every limit is checked against what the archive *claims* before anything is written and again
against what is actually decompressed (a zip's sizes are written by whoever made it). No entry
may leave the destination (``../``, absolute paths, drive letters, backslashes) and symbolic
links (Unix mode bits in ``external_attr``) are refused, never created.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from gatekeeper.app import limits
from gatekeeper.errors import BundleError, Location

CHUNK = 1024 * 1024


class UnsafeArtifactError(BundleError):
    """The artifact's zip is refused: too big, too many entries, a bomb, an escape, a link."""


def safe_extract(archive: Path, dest: Path, environ: Mapping[str, str] | None = None) -> int:
    """Unpack ``archive`` into ``dest`` (which must exist, empty); return the files written."""
    where = Location(archive.name)
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            limits.ARCHIVE_ENTRIES.check(len(infos), f"the artifact holds {len(infos):,} entries",
                                         where, UnsafeArtifactError, environ)
            claimed = sum(i.file_size for i in infos)
            limits.UNPACKED_BYTES.check(claimed, f"the artifact unpacks to {claimed:,} bytes",
                                        where, UnsafeArtifactError, environ)
            targets = [(_target(dest, info), info) for info in infos]
            written = 0
            budget = limits.UNPACKED_BYTES.value(environ)
            for target, info in targets:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                budget -= _copy_entry(zf, info, target, budget, environ)
                written += 1
            return written
    except zipfile.BadZipFile as exc:
        raise UnsafeArtifactError(f"the artifact is not a valid zip: {exc}", where) from None


def _target(dest: Path, info: zipfile.ZipInfo) -> Path:
    name = info.filename
    where = Location(name)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArtifactError("the artifact holds a symbolic link; links are refused", where)
    if info.flag_bits & 0x1:
        raise UnsafeArtifactError("the artifact holds an encrypted entry", where)
    parts = PurePosixPath(name).parts
    # upload-artifact refuses ':' in paths and writes '/' as the separator, so an honest bundle
    # has neither ':' nor a backslash; both mean more on some file systems (drive, stream).
    if ("\\" in name or name.startswith("/") or ":" in name or "\x00" in name
            or any(p in ("..", "") for p in parts) or not parts):
        raise UnsafeArtifactError("an entry of the artifact would leave the bundle folder", where)
    target = dest.joinpath(*parts)
    if not target.resolve().is_relative_to(dest.resolve()):
        raise UnsafeArtifactError("an entry of the artifact would leave the bundle folder", where)
    return target


def _copy_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int,
                environ: Mapping[str, str] | None) -> int:
    """Decompress one entry, counting real bytes against the ratio and the total budget."""
    ratio = limits.COMPRESSION_RATIO.value(environ)
    allowed = min(budget, max(info.compress_size, 1) * ratio, info.file_size)
    where = Location(info.filename)
    if info.file_size > max(info.compress_size, 1) * ratio:
        raise limits.COMPRESSION_RATIO.refuse(
            f"the entry unpacks {info.file_size / max(info.compress_size, 1):,.0f} times its "
            "packed size (a zip bomb)", where, UnsafeArtifactError, environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    try:
        out = open(target, "xb")  # noqa: SIM115 - closed below; "x": never over a file
    except FileExistsError:
        raise UnsafeArtifactError("the artifact holds this entry twice", where) from None
    with zf.open(info) as src, out:
        while chunk := src.read(CHUNK):
            total += len(chunk)
            if total > allowed:
                raise UnsafeArtifactError(
                    f"the entry unpacks to more than its declared {info.file_size:,} bytes "
                    "or past the limits", where)
            out.write(chunk)
    return total
