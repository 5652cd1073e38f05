"""Credential-looking values are refused where a script hands them over, naming the field;
the value itself is never repeated."""

from __future__ import annotations

from typing import Any

from gatekeeper.errors import InputError, Location
from gatekeeper.safe_text import credential_kind


def find_credential(value: Any, where: str) -> tuple[str, str] | None:
    """(field path, credential kind) of the first credential-looking string in ``value``."""
    if isinstance(value, str):
        kind = credential_kind(value)
        return (where, kind) if kind else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_credential(str(key), f"{where} key") or find_credential(
                item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = find_credential(item, f"{where}[{i}]")
            if found:
                return found
    return None


def refuse_credentials(value: Any, where: str) -> None:
    found = find_credential(value, where)
    if found is not None:
        path, kind = found
        raise InputError(f"looks like a {kind}: credentials never belong in a bundle (the "
                         "value is not shown and was not written); remove it and rotate it",
                         Location(field=path))
