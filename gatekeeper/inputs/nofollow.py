"""Read a file inside a folder without following a symlink on the way.

User templates (``--template-dir``) and the fork relay's artifact are folders whose content
someone else may have prepared; a symlink in them could make gatekeeper read (and then render or
post) a file from anywhere on the runner. Each path component below the folder is opened with
``O_NOFOLLOW`` relative to its parent's descriptor, so neither a symlinked file nor a symlinked
sub-folder is followed, and nothing can be swapped in between a check and the open. The folder
itself is the caller's choice and may be reached through a symlink.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from gatekeeper.errors import InputError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted as the file must not hang the open
_CHUNK = 1 << 16


class SymlinkRefused(InputError):
    """A path inside a confined folder is a symlink."""


class TooLarge(InputError):
    """The file is larger than the caller allows."""


def _refuse(path: Path) -> SymlinkRefused:
    return SymlinkRefused(f"{path} is a symlink; gatekeeper does not follow symlinks here")


def _open_below(root: Path, parts: Sequence[str]) -> int:
    """A descriptor of ``root/parts...`` opened component by component without following."""
    if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
        raise FileNotFoundError(errno.ENOENT, "not a plain relative path", str(root))
    if not _NOFOLLOW or os.open not in os.supports_dir_fd:  # pragma: no cover - not POSIX
        return _open_checked(root, parts)
    fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    here = root
    try:
        for i, part in enumerate(parts):
            here = here / part
            last = i == len(parts) - 1
            flags = os.O_RDONLY | _NOFOLLOW | (_NONBLOCK if last else _DIRECTORY)
            try:
                child = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                # ELOOP: the last component is a symlink; ENOTDIR: a directory one is.
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK) and _is_link(here):
                    raise _refuse(here) from None
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _open_checked(root: Path, parts: Sequence[str]) -> int:  # pragma: no cover - not POSIX
    here = root
    for part in parts:
        here = here / part
        if _is_link(here):
            raise _refuse(here)
    return os.open(here, os.O_RDONLY | getattr(os, "O_BINARY", 0))


def read_below(root: Path, parts: Sequence[str], *, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``root/parts...``; symlinks below ``root`` are refused
    (``SymlinkRefused``), a missing file is ``FileNotFoundError``, more than ``limit`` bytes
    is ``TooLarge``."""
    fd = _open_below(root, parts)
    path = root.joinpath(*parts)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file")
        if limit is not None and info.st_size > limit:
            raise TooLarge(f"{path}: larger than {limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, _CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:  # it grew while being read
                raise TooLarge(f"{path}: larger than {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
