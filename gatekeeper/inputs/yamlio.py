"""Safe YAML/JSON loading that remembers where every value came from.

PyYAML keeps the last of two duplicate keys without a word; a policy with two ``min:`` lines
would then silently drop one. Here duplicates are errors, and every mapping key and sequence item
is mapped to its line so validation errors can say ``policy.yaml:14:7, field 'metrics[0].min'``.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gatekeeper.errors import InputError, Location

PathKey = tuple[str | int, ...]
LineMap = dict[PathKey, tuple[int, int]]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # run.yaml / policy.yaml are small; refuse surprises
MAX_NODES = 1_000_000  # bounds alias expansion ("billion laughs")


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader) -> None:
        self.file = file
        self.loader = loader
        self.lines: LineMap = {}
        self.nodes = 0

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InputError("document expands to too many nodes", Location(self.file))
        self.lines.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise InputError(
                        "mapping keys must be plain scalars",
                        Location(self.file, _render(path), key_node.start_mark.line + 1,
                                 key_node.start_mark.column + 1),
                    )
                if key in out:
                    raise InputError(
                        f"duplicate key {key!r} (YAML would silently keep only the last one)",
                        Location(self.file, _render((*path, str(key))),
                                 key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                    )
                child = (*path, str(key))
                self.lines[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = self.build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)


def parse_text(text: str, file: str) -> tuple[Any, LineMap]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        builder = _Builder(file, loader)
        return builder.build(node, ()), builder.lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"malformed YAML/JSON: {problem}", Location(file, None, line, column)) \
            from exc
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML/JSON: {exc}", Location(file)) from exc
    finally:
        loader.dispose()


def read_document(path: Path, display: str | None = None) -> tuple[Any, LineMap, bytes]:
    """Parse a YAML or JSON file; returns (data, line map, raw bytes for hashing)."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise InputError(
                f"file is {size:,} bytes; the limit for this document is {MAX_DOCUMENT_BYTES:,}",
                Location(name),
            )
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("file not found", Location(name)) from exc
    except IsADirectoryError as exc:
        raise InputError("expected a file, found a directory", Location(name)) from exc
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Location(name)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", Location(name)) from exc
    data, lines = parse_text(text, name)
    _reject_non_finite(data, (), lines, name)
    return data, lines, raw


def _reject_non_finite(value: Any, path: PathKey, lines: LineMap, file: str) -> None:
    # NaN compares unequal to everything, so a NaN floor or metric would make every check pass.
    if isinstance(value, float) and not math.isfinite(value):
        line, col = lines.get(path, (0, 0))
        raise InputError(f"{value} is not a finite number",
                         Location(file, _render(path), line or None, col or None))
    if isinstance(value, Mapping):
        for k, v in value.items():
            _reject_non_finite(v, (*path, str(k)), lines, file)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for i, v in enumerate(value):
            _reject_non_finite(v, (*path, i), lines, file)


def _render(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def render_path(path: Sequence[str | int]) -> str:
    return _render(path)


def first_problem(exc: ValidationError, schema: str) -> tuple[tuple[str | int, ...], str]:
    """The first problem's field path and a one-line message (and how many more there are)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    # "[key]" marks a bad mapping key: the path up to the key names it already.
    loc = tuple(p for p in first["loc"] if isinstance(p, str | int) and p != "[key]")
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = f"unknown field (check the spelling; see `gatekeeper schema {schema}`)"
    elif first["type"] == "missing":
        msg = "required field is missing"
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return loc, msg


def nearest(loc: tuple[str | int, ...], known: Container[tuple[str | int, ...]]
            ) -> tuple[str | int, ...]:
    """Pydantic appends union members / validator names to loc: trim to what the file has."""
    while loc and loc not in known:
        loc = loc[:-1]
    return loc


def validation_error(exc: ValidationError, file: str, lines: LineMap,
                     schema: str = "run") -> InputError:
    """One line for the first problem, with the YAML line of the field."""
    loc, msg = first_problem(exc, schema)
    line, col = lines.get(nearest(loc, lines), (0, 0))
    return InputError(msg, Location(file, _render(loc) or None, line or None, col or None))
