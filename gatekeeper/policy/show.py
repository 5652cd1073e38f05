"""``gatekeeper policy show``: the effective policy, each value with the file and line it came from.

After ``extends`` and the target branch's overrides a value may come from any file of the
chain; ``LoadedPolicy.sources`` records where. A value no file sets is the model's default.
"""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.policy.loader import LoadedPolicy

PathKey = tuple[str | int, ...]
DEFAULT = "(default)"


def effective(loaded: LoadedPolicy) -> dict[str, Any]:
    # ``extends`` is resolved: the effective policy has none of its own.
    data: dict[str, Any] = loaded.policy.model_dump(mode="json", by_alias=True,
                                                    exclude={"extends"})
    return data


def origin(loaded: LoadedPolicy, path: PathKey) -> tuple[str | None, int | None]:
    found = loaded.sources.get(path)
    if found is None:
        return None, None
    return found[0], found[1]


def annotated(loaded: LoadedPolicy) -> Any:
    """The effective policy with each leaf replaced by ``{"value", "file", "line"}``."""
    def walk(value: Any, path: PathKey) -> Any:
        if isinstance(value, dict) and value:
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list) and value and not _scalar_pair(value):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        file, line = origin(loaded, path)
        return {"value": value, "file": file, "line": line}

    return walk(effective(loaded), ())


def _scalar_pair(value: list[Any]) -> bool:
    """A range ``[low, high]`` is one value, shown on one line."""
    return len(value) == 2 and all(isinstance(v, int | float) for v in value)


def _scalar(value: Any) -> str:
    # JSON scalars and flow collections are valid YAML, and quote what YAML would misread.
    return json.dumps(value)


def _key(key: str | int) -> str:
    text = str(key)
    return text if text.replace("_", "").isalnum() else json.dumps(text)


def _comment(loaded: LoadedPolicy, path: PathKey) -> str:
    file, line = origin(loaded, path)
    return f"  # {file}:{line}" if file else f"  # {DEFAULT}"


def _is_leaf(value: Any) -> bool:
    if isinstance(value, dict):
        return not value
    if isinstance(value, list):
        return not value or _scalar_pair(value)
    return True


def as_yaml(loaded: LoadedPolicy) -> str:
    lines: list[str] = []
    _emit(loaded, effective(loaded), (), 0, lines)
    return "\n".join(lines) + "\n"


def _emit(loaded: LoadedPolicy, value: Any, path: PathKey, indent: int,
          lines: list[str]) -> None:
    pad = " " * indent
    items: list[tuple[str | int, Any]] = (list(value.items()) if isinstance(value, dict)
                                         else list(enumerate(value)))
    for key, item in items:
        head = f"{pad}{_key(key)}:" if isinstance(value, dict) else f"{pad}-"
        child = (*path, key)
        if _is_leaf(item):
            lines.append(f"{head} {_scalar(item)}{_comment(loaded, child)}")
        else:
            lines.append(head)
            _emit(loaded, item, child, indent + 2, lines)


def as_json(loaded: LoadedPolicy) -> str:
    return json.dumps(annotated(loaded), indent=2) + "\n"
