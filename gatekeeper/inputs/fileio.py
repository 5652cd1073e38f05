"""Bundle-confined paths and streamed hashing. Everything that opens a file named inside a
bundle goes through ``confine`` so that ``../``, absolute paths and symlinks cannot leave it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

from gatekeeper.errors import BundleError, Location

CHUNK = 1 << 20
# Score and trace files larger than this are refused (override: GATEKEEPER_MAX_FILE_BYTES).
DEFAULT_MAX_FILE_BYTES = 4 * 1024**3


def max_file_bytes() -> int:
    raw = os.environ.get("GATEKEEPER_MAX_FILE_BYTES")
    if raw is None:
        return DEFAULT_MAX_FILE_BYTES
    try:
        return max(1, int(raw))
    except ValueError as exc:
        raise BundleError(
            f"GATEKEEPER_MAX_FILE_BYTES must be a whole number of bytes, got {raw!r}"
        ) from exc


def confine(root: Path, relative: str, where: Location) -> Path:
    """Resolve ``relative`` inside ``root`` (already resolved) or raise naming the field."""
    if not relative or "\x00" in relative:
        raise BundleError("empty or invalid path", where)
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (len(relative) > 1 and relative[1] == ":"):
        raise BundleError(f"absolute path {relative!r} is not allowed; use a path inside the "
                          "bundle", where)
    if ".." in pure.parts:
        raise BundleError(f"path {relative!r} leaves the bundle ('..' is not allowed)", where)
    candidate = root.joinpath(*pure.parts)
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise BundleError(f"path {relative!r} leaves the bundle through a symlink", where)
    return resolved


def sha256_file(path: Path) -> tuple[str, int]:
    """Streamed: artifacts can be many GB; never read them whole."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
