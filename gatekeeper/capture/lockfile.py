"""The lockfile of the repository (its sha256), else a hash over the installed distributions."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

from gatekeeper.inputs.fileio import CHUNK

# In the order one is preferred when a repository holds several.
LOCKFILES: tuple[tuple[str, str], ...] = (
    ("uv.lock", "uv"),
    ("poetry.lock", "poetry"),
    ("Pipfile.lock", "pipfile"),
    ("pdm.lock", "pdm"),
    ("conda-lock.yml", "conda"),
    ("environment.yml", "conda"),
    ("environment.yaml", "conda"),
    ("requirements.lock", "requirements"),
    ("requirements.txt", "requirements"),
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def find_lockfile(root: Path) -> dict[str, Any] | None:
    """The first lockfile in ``root`` (then ``requirements*.txt``, sorted), with its kind."""
    for name, kind in LOCKFILES:
        path = root / name
        if path.is_file():
            return {"path": name, "sha256": _sha256(path), "kind": kind}
    extra = sorted(p for p in root.glob("requirements*.txt") if p.is_file())
    if extra:
        return {"path": extra[0].name, "sha256": _sha256(extra[0]), "kind": "requirements"}
    return None


def installed_distributions() -> list[tuple[str, str]]:
    """(name, version) of every installed distribution, normalised and sorted."""
    seen: set[tuple[str, str]] = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            seen.add((name.lower().replace("_", "-"), dist.version))
    return sorted(seen)


def distributions_sha256() -> str:
    lines = "".join(f"{name}=={version}\n" for name, version in installed_distributions())
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
