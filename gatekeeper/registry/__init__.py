"""Model registries: one interface (``interface.py``), one module per backend.

``open_registry(uri)`` picks the backend from the URI scheme: ``file:PATH`` (embedded default),
``mlflow+http://`` / ``mlflow+https://`` (an MLflow tracking server's model registry).
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.errors import RegistryError
from gatekeeper.registry.interface import Registry


def open_registry(uri: str, *, base_dir: Path | None = None) -> Registry:
    """``base_dir`` resolves a relative ``file:`` path (the policy's folder, or the cwd)."""
    if uri.startswith("file:"):
        # lazy: the file backend stays off checks whose policy names no registry and off
        # `registry list`, `show`, `history` and `search` on an MLflow registry
        from gatekeeper.registry.file import FileRegistry

        raw = uri[len("file:"):]
        if raw.startswith("//"):
            raw = raw[2:]
        path = Path(raw)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return FileRegistry(path, uri=uri)
    if uri.startswith(("mlflow+http://", "mlflow+https://")):
        try:
            # lazy: the MLflow backend (requests, the REST client) stays off every check and
            # registry command on a file registry
            from gatekeeper.registry.mlflow import MlflowRegistry
        except ModuleNotFoundError as exc:  # pragma: no cover - shipped with the package
            raise RegistryError(f"MLflow backend unavailable: {exc}") from exc
        return MlflowRegistry(uri)
    raise RegistryError(
        f"unknown registry URI {uri!r}: use file:PATH or mlflow+http(s)://HOST:PORT"
    )
