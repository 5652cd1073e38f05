"""The embedded file registry: a folder (in the repo or on a branch), no server.

Layout (docs/registry.md)::

    <root>/<model>/index.json          versions, aliases, alias history, revision counter
    <root>/<model>/versions/<v>/       the version's run bundle (run.yaml + files)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gatekeeper.errors import Location, RegistryError
from gatekeeper.registry.interface import AliasEvent, Approval, ModelVersion, Registry

INDEX_SCHEMA = "gatekeeper.registry/v1"


class FileRegistry(Registry):
    def __init__(self, root: Path, *, uri: str | None = None) -> None:
        self.root = root
        self.uri = uri or f"file:{root}"

    # -- reading -----------------------------------------------------------------------
    def _index_path(self, model: str) -> Path:
        if "/" in model or "\\" in model or model in {"", ".", ".."}:
            raise RegistryError(f"invalid model name {model!r} in registry {self.uri}")
        return self.root / model / "index.json"

    def _read_index(self, model: str) -> dict[str, Any]:
        path = self._index_path(model)
        if not self.root.is_dir():
            raise RegistryError(f"registry {self.uri} not found (no folder {self.root})")
        if not path.is_file():
            raise RegistryError(f"model {model!r} not found in registry {self.uri}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(f"cannot read registry index: {exc}", Location(str(path))) from exc
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"registry index is not valid JSON: {exc.msg}",
                Location(str(path), line=exc.lineno, column=exc.colno),
            ) from exc
        if not isinstance(data, dict) or data.get("schema") != INDEX_SCHEMA:
            raise RegistryError(f"not a {INDEX_SCHEMA} index", Location(str(path), "schema"))
        return data

    @staticmethod
    def _version_from(model: str, raw: dict[str, Any], aliases: dict[str, str]) -> ModelVersion:
        approval = raw.get("approval")
        version = str(raw["version"])
        return ModelVersion(
            model=model,
            version=version,
            run_id=raw.get("run_id"),
            created_at=str(raw.get("created_at", "")),
            bundle_sha256=raw.get("bundle_sha256"),
            aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
            archived=bool(raw.get("archived", False)),
            verdict=raw.get("verdict"),
            approval=Approval(**approval) if isinstance(approval, dict) else None,
            tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
        )

    def list_versions(self, model: str) -> list[ModelVersion]:
        index = self._read_index(model)
        aliases = {str(k): str(v) for k, v in (index.get("aliases") or {}).items()}
        try:
            versions = [self._version_from(model, v, aliases) for v in index.get("versions", [])]
        except (KeyError, TypeError) as exc:
            raise RegistryError(
                f"malformed version entry ({exc})", Location(str(self._index_path(model)))
            ) from exc
        return sorted(versions, key=lambda v: _version_key(v.version))

    def get_version(self, model: str, version: str) -> ModelVersion:
        for v in self.list_versions(model):
            if v.version == str(version):
                return v
        raise RegistryError(f"version {version} of model {model!r} not found in {self.uri}")

    def resolve_alias(self, model: str, alias: str) -> ModelVersion:
        index = self._read_index(model)
        target = (index.get("aliases") or {}).get(alias)
        if target is None:
            raise RegistryError(
                f"alias {alias!r} of model {model!r} not found in registry {self.uri}"
            )
        return self.get_version(model, str(target))

    def alias_history(self, model: str, alias: str) -> list[AliasEvent]:
        index = self._read_index(model)
        return [
            AliasEvent(alias=e["alias"], version=str(e["version"]), since=e["since"],
                       until=e.get("until"))
            for e in index.get("alias_history", [])
            if e.get("alias") == alias
        ]

    def bundle_path(self, version: ModelVersion, workdir: Path) -> Path:
        return self.root / version.model / "versions" / version.version


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)
