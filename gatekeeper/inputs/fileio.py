"""Bundle-confined paths and streamed hashing. Everything that opens a file named inside a
bundle goes through ``confine`` so that ``../``, absolute paths and symlinks cannot leave it,
and through ``open_regular`` so that a FIFO, a device or a hard link is refused instead of
blocking the gate or reading a file from outside the bundle."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from gatekeeper.errors import BundleError, InputError, Location
from gatekeeper.inputs import limits

CHUNK = 1 << 20
# Score and trace files larger than this are refused (override: GATEKEEPER_MAX_FILE_BYTES).
DEFAULT_MAX_FILE_BYTES = limits.FILE_BYTES.default
# POSIX file systems: a name of at most 255 bytes, a path of at most 4096.
NAME_MAX = 255
PATH_MAX = 4096


def max_file_bytes() -> int:
    try:
        return limits.FILE_BYTES.value()
    except InputError as exc:
        raise BundleError(exc.message) from exc


def _check_length(relative: str, where: Location) -> None:
    """ENAMETOOLONG is the file system's answer; this is the same refusal with the field."""
    for part in relative.replace("\\", "/").split("/"):
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise BundleError(f"path component {part[:40]!r}... is {size:,} bytes; file names "
                              f"are at most {NAME_MAX}", where)
    size = len(os.fsencode(relative))
    if size > PATH_MAX:
        raise BundleError(f"path is {size:,} bytes; paths are at most {PATH_MAX}", where)


def resolve_inside(path: Path, where: Location) -> Path:
    """``path.resolve()``, with a symlink loop or an unreadable component as a located error."""
    try:
        return path.resolve()
    except RuntimeError as exc:  # Python < 3.13 reports a symlink loop this way
        raise BundleError("symlink loop", where) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BundleError("symlink loop", where) from exc
        raise BundleError(f"cannot resolve the path: {exc.strerror or exc}", where) from exc


def confine(root: Path, relative: str, where: Location) -> Path:
    """Resolve ``relative`` inside ``root`` (already resolved) or raise naming the field."""
    if not relative or "\x00" in relative:
        raise BundleError("empty or invalid path", where)
    _check_length(relative, where)
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (len(relative) > 1 and relative[1] == ":"):
        raise BundleError(f"absolute path {relative!r} is not allowed; use a path inside the "
                          "bundle", where)
    if ".." in pure.parts:
        raise BundleError(f"path {relative!r} leaves the bundle ('..' is not allowed)", where)
    candidate = root.joinpath(*pure.parts)
    resolved = resolve_inside(candidate, where)
    if not resolved.is_relative_to(root):
        raise BundleError(f"path {relative!r} leaves the bundle through a symlink", where)
    try:
        info = resolved.stat()
    except OSError:
        return resolved  # missing: the caller decides (a missing artifact is a check)
    check_regular(info, relative, where, allow_dir=True)
    return resolved


def check_regular(info: os.stat_result, relative: str, where: Location, *,
                  allow_dir: bool = False, allow_links: bool = False) -> None:
    """A bundle holds regular files, each its own copy of its bytes."""
    if stat.S_ISDIR(info.st_mode):
        if allow_dir:
            return
        raise BundleError(f"{relative!r} is a folder, not a file", where)
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket"
                if stat.S_ISSOCK(info.st_mode) else "a device")
        raise BundleError(f"{relative!r} is {kind}, not a regular file (reading it could block "
                          "the gate)", where)
    if info.st_nlink > 1 and not allow_links:
        # A hard link is a second name for bytes that may live outside the bundle (a registry
        # baseline, a system file): the bundle must hold its own copy.
        raise BundleError(f"{relative!r} has {info.st_nlink} hard links; a bundle file must be "
                          "its own copy (copy it instead of linking)", where)


def open_regular(path: Path, relative: str, where: Location, *,
                 allow_links: bool = False) -> BinaryIO:
    """Open a bundle file for reading, refusing what is not a regular file *after* opening it
    (O_NONBLOCK: opening a FIFO must not wait for a writer), so nothing can be swapped in
    between the check and the read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise BundleError(f"file {relative!r} not found in the bundle", where) from exc
    except OSError as exc:
        raise BundleError(f"cannot open {relative!r}: {exc.strerror or exc}", where) from exc
    try:
        check_regular(os.fstat(fd), relative, where, allow_links=allow_links)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_file(path: Path, relative: str | None = None, where: Location | None = None, *,
                allow_links: bool = False) -> tuple[str, int]:
    """Streamed: artifacts can be many GB; never read them whole."""
    digest = hashlib.sha256()
    size = 0
    with open_regular(path, relative or path.name, where or Location(str(path)),
                      allow_links=allow_links) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def size_guard(path: Path, shown: str) -> None:
    """A bundle file within ``GATEKEEPER_MAX_FILE_BYTES``, checked before it is read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleError(f"cannot read file: {exc.strerror or exc}", Location(shown)) from exc
    limit = limits.FILE_BYTES.value()
    if size > limit:
        raise BundleError(
            f"file is {size:,} bytes, over the limit of {limit:,} bytes "
            f"({limits.FILE_BYTES.env}); use a .npz score file for very large eval sets",
            Location(shown),
        )
