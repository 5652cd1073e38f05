"""Every file gatekeeper writes as output goes through here: all of it, or nothing.

A reader (the upload-artifact step, the fork relay, a person after a crash) must never find half
a file. So a file is written to a fresh temporary name in the same folder, fsynced and moved over
its target with ``os.replace`` (atomic on POSIX and Windows within one file system); a failure at
any point removes the temporary file and leaves the target as it was. The temporary name is
created with ``O_EXCL`` and the replace swaps the directory entry, so a symlink planted at the
target is replaced, never written through.

Files that are appended to (``$GITHUB_OUTPUT``, the job summary) stay appends, but each block
goes out in one ``write`` and is cut back to the old size if the write fails part way (a full
disk, ``RLIMIT_FSIZE``), so the runner never parses half a heredoc.

Failures raise :class:`OutputError` (exit 2) naming the file and what the system said.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from gatekeeper.errors import GatekeeperError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation on os.write
_TRIES = 100


class OutputError(GatekeeperError):
    """An output file could not be written (a read-only folder, a full disk, a size limit)."""

    def __init__(self, path: Path, exc: OSError, *, what: str | None = None) -> None:
        reason = exc.strerror or type(exc).__name__
        super().__init__(f"cannot write {what or path}: {reason}")
        self.path = path
        self.errno = exc.errno


def _payload(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` may write less than asked (a size limit reached part way); the next call
    then raises (``EFBIG``, ``ENOSPC``), which is what the caller must see."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - regular files do not do this
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some file systems cannot fsync a folder, which is harmless."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise OutputError(folder, exc) from exc
    finally:
        os.close(fd)


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new empty file beside ``path`` (``O_EXCL``: never an existing file or symlink)."""
    folder = path.parent
    for _ in range(_TRIES):
        tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            # 0o666 minus the umask, like any file a program creates (mkstemp would make 0o600).
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(path, exc) from exc
        return fd, tmp
    # 100 random 48-bit names all taken
    raise OutputError(path, FileExistsError(errno.EEXIST, "no free temporary name"))


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a new file beside ``path``, fsynced; its name is returned. On failure the
    temporary file is gone and ``OutputError`` names ``path``."""
    with _staged(path) as staged:
        staged.write(data)
    return staged.tmp


class StagedFile:
    """The temporary file behind :func:`atomic_stream`; ``write`` failures name the target."""

    def __init__(self, path: Path, fd: int, tmp: Path) -> None:
        self.path = path
        self.fd = fd
        self.tmp = tmp

    def write(self, data: bytes) -> None:
        try:
            _write_all(self.fd, data)
        except OSError as exc:
            raise OutputError(self.path, exc) from exc


@contextlib.contextmanager
def _staged(path: Path) -> Iterator[StagedFile]:
    """A temporary file beside ``path``: fsynced and closed when the block ends, removed if the
    block raises (the exception passes through unchanged)."""
    fd, tmp = _create_temp(path)
    staged = StagedFile(path, fd, tmp)
    try:
        yield staged
        try:
            os.fsync(fd)
        except OSError as exc:
            raise OutputError(path, exc) from exc
    except BaseException:
        os.close(fd)
        _discard(tmp)
        raise
    try:
        os.close(fd)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(path, exc) from exc


@contextlib.contextmanager
def atomic_stream(path: Path) -> Iterator[StagedFile]:
    """Write ``path`` piece by piece (a download) and move it into place when the block ends;
    if the block raises, ``path`` is left as it was and the exception passes through."""
    with _staged(path) as staged:
        yield staged
    _install(staged.tmp, path)
    _fsync_dir(path.parent)


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


def _install(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(path, exc) from exc


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (text as UTF-8, newlines untranslated), all or nothing."""
    tmp = _stage(path, _payload(data))
    _install(tmp, path)
    _fsync_dir(path.parent)


def write_all_atomic(files: Mapping[Path, str | bytes]) -> None:
    """Write several files so that a failure while writing leaves every target untouched: all
    are staged first and only then moved into place (each move is itself atomic)."""
    staged: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            staged[path] = _stage(path, _payload(data))
        for path in list(staged):
            _install(staged.pop(path), path)
    finally:
        for tmp in staged.values():
            _discard(tmp)
    for folder in {path.parent for path in files}:
        _fsync_dir(folder)


def append_block(path: Path, data: str | bytes) -> None:
    """Append ``data`` to ``path`` (created if missing) in one write; if the write fails part way
    the file is cut back to its old size, so it never ends in half a block.

    For files one process appends to at a time (the runner gives each step its own).
    """
    payload = _payload(data)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _BINARY, 0o666)
    except OSError as exc:
        raise OutputError(path, exc) from exc
    try:
        start = os.fstat(fd).st_size
        try:
            _write_all(fd, payload)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise
    except OSError as exc:
        raise OutputError(path, exc) from exc
    finally:
        os.close(fd)


def file_size(path: Path) -> int:
    """The size of ``path``, 0 when it does not exist yet."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise OutputError(path, exc) from exc


def stage_folder(target: Path, *, what: str | None = None) -> Path:
    """A fresh private sibling of ``target`` to fill, then move into place with
    :func:`replace_folder` (a folder of files, such as a run bundle, is all or nothing too)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise OutputError(target, exc, what=what) from exc


def replace_folder(tmp: Path, target: Path, *, what: str | None = None) -> None:
    """Move the filled folder ``tmp`` to ``target``, replacing an existing ``target``: the old
    one is moved aside first and put back if the move fails, and removed once it succeeded."""
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; what gatekeeper writes is shared
        if not target.exists():
            os.rename(tmp, target)
        else:
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old",
                                          dir=target.parent))
            os.rename(target, trash / "old")
            try:
                os.rename(tmp, target)
            except OSError:
                os.rename(trash / "old", target)
                raise
            finally:
                shutil.rmtree(trash, ignore_errors=True)
    except OSError as exc:
        raise OutputError(target, exc, what=what) from exc
    _fsync_dir(target.parent)
