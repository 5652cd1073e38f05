"""The replay envelope E(r) = {D_v, c, e, s, H}: dotted paths with ``[*]`` wildcards over the
run, and which required ones are missing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from gatekeeper.models.run import Run

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """``data[*].sha256`` → ['data', '*', 'sha256']; raises ValueError on a malformed path."""
    parts: list[str | int] = []
    pos = 0
    text = path.strip()
    while pos < len(text):
        if text[pos] == ".":
            if pos == 0 or pos == len(text) - 1 or text[pos + 1] in ".[":
                raise ValueError(f"malformed envelope path {path!r} at column {pos + 1}")
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"malformed envelope path {path!r} at column {pos + 1}")
        if m.group(1) is not None:
            parts.append(m.group(1))
        else:
            idx = m.group(2)
            parts.append("*" if idx == "*" else int(idx))
        pos = m.end()
    if not parts:
        raise ValueError("empty envelope path")
    return parts


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _join(here: str, parts: list[str | int]) -> str:
    out = here
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "*":
            out += "[*]"
        else:
            out += f".{part}" if out else part
    return out


def _walk(value: Any, parts: list[str | int], here: str, out: list[str]) -> None:
    if not parts:
        if not _present(value):
            out.append(here)
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if not isinstance(value, list) or not value:
            out.append(f"{here}[*] (no entries)")
            return
        for i, item in enumerate(value):
            _walk(item, rest, f"{here}[{i}]", out)
        return
    if isinstance(head, int):
        if not isinstance(value, list) or head >= len(value):
            out.append(f"{here}[{head}]")
            return
        _walk(value[head], rest, f"{here}[{head}]", out)
        return
    child = value.get(head) if isinstance(value, dict) else None
    here_child = f"{here}.{head}" if here else head
    if child is None and rest:
        out.append(_join(here_child, rest))
        return
    _walk(child, rest, here_child, out)


def missing_fields(run: Run, required: Sequence[str]) -> list[str]:
    """Concrete paths that are absent or empty, e.g. ``data[1].sha256``."""
    doc = run.model_dump(mode="json", by_alias=True)
    out: list[str] = []
    for path in required:
        _walk(doc, parse_path(path), "", out)
    return out
