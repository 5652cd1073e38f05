"""Safe YAML/JSON loading that remembers where every value came from.

PyYAML keeps the last of two duplicate keys without a word; a policy with two ``min:`` lines
would then silently drop one. Here duplicates are errors, and every mapping key and sequence item
is mapped to its line so validation errors can say ``policy.yaml:14:7, field 'metrics[0].min'``.

A run bundle comes from the pull request it gates, so the reader also assumes the document may be
hostile: explicit tags (``!!binary``, ``!!python/...``) are refused, nesting, node count and the
size after alias expansion are bounded (``gatekeeper.inputs.limits``), numbers are bounded in
length and range, and every value the constructor cannot build (an impossible date, ``0x_``) is
an error naming its line — never an exception from the YAML library.
"""

from __future__ import annotations

import math
import re
import stat
from collections.abc import Container, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from gatekeeper.errors import InputError, Location
from gatekeeper.inputs import limits

try:  # libyaml scans and parses in C (about 5x faster); composing stays in Python, bounded
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

PathKey = tuple[str | int, ...]
LineMap = dict[PathKey, tuple[int, int]]

# An int64 holds 19 digits and a float round-trips in 17; a number written with more characters
# than this is no measurement, and int() of a long enough one is refused by Python (or, for
# YAML 1.1's base-60 integers, quadratic).
MAX_NUMBER_CHARS = 100
INT64 = 2**63
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What the YAML reader accepts (YAML 1.1 "printable"); the rest is refused before parsing.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                            "\U00010000-\U0010ffff]")


class _Refused(Exception):
    """A bounded-reader refusal, raised inside the composer and located by ``parse_text``."""

    def __init__(self, error: InputError, mark: Any) -> None:
        super().__init__(error.message)
        self.error = error
        self.mark = mark


class _Loader(_Parser, Composer, SafeConstructor, Resolver):
    """libyaml events composed in Python, so that tags and depth are checked per node."""

    def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
        _Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.depth = 0
        self.nodes = 0

    def get_single_node(self) -> Node | None:
        return Composer.get_single_node(self)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()
        if isinstance(event, AliasEvent):
            return Composer.compose_node(self, parent, index)
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise _Refused(InputError(f"explicit YAML tag {tag!r} is not allowed (write plain "
                                      "values)"), event.start_mark)
        # Counted here too, not only once aliases are expanded: composing holds every node in
        # memory (about half a kilobyte each), so 10 MB of "1," would take gigabytes.
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Refused(limits.NODES.refuse(f"the document holds more than "
                                               f"{self.max_nodes:,} values", Location()),
                           event.start_mark)
        if not isinstance(event, CollectionStartEvent):
            return Composer.compose_node(self, parent, index)
        self.depth += 1  # the depth of a document is how many collections nest
        if self.depth > self.max_depth:
            raise _Refused(limits.DEPTH.refuse(f"nested deeper than {self.max_depth} levels",
                                               Location()), event.start_mark)
        try:
            return Composer.compose_node(self, parent, index)
        finally:
            self.depth -= 1


class _Builder:
    """Python values from the node graph, with a line for every path; aliases are expanded
    here, so the node count and the text size are counted here."""

    def __init__(self, file: str, loader: _Loader) -> None:
        self.file = file
        self.loader = loader
        self.lines: LineMap = {}
        self.nodes = 0
        self.size = 0
        self.merging = 0
        self.max_nodes = limits.NODES.value()
        self.max_bytes = limits.DOCUMENT_BYTES.value()
        self.max_depth = loader.max_depth

    def _at(self, node: Node, path: PathKey) -> Location:
        return Location(self.file, _render(path) or None, node.start_mark.line + 1,
                        node.start_mark.column + 1)

    def _refuse(self, message: str, node: Node, path: PathKey) -> NoReturn:
        raise InputError(message, self._at(node, path))

    def build(self, node: Node, path: PathKey) -> Any:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise limits.NODES.refuse(f"the document expands to more than {self.max_nodes:,} "
                                      "values", self._at(node, path))
        collection = isinstance(node, MappingNode | SequenceNode)
        if collection and len(path) + 1 + self.merging > self.max_depth:
            raise limits.DEPTH.refuse(f"nested deeper than {self.max_depth} levels",
                                      self._at(node, path))
        self.lines.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._merge(merged, value_node, path)
                continue
            key = self._key(key_node, path)
            child = (*path, str(key))
            if key in out:
                self._refuse(f"duplicate key {key!r} (YAML would silently keep only the last "
                             "one)", key_node, child)
            self.lines[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, child)
        if not merged:
            return out
        # `<<` merge keys (YAML 1.1): the mapping's own keys win over merged ones.
        return {**{k: v for k, v in merged.items() if k not in out}, **out}

    def _merge(self, merged: dict[Any, Any], value: Node, path: PathKey) -> None:
        """The mappings a ``<<`` key names, earlier ones first; counted as one level deeper
        (a chain of merges nests like mappings, and a merge may name itself)."""
        sources = value.value if isinstance(value, SequenceNode) else [value]
        self.merging += 1
        try:
            for source in sources:
                if not isinstance(source, MappingNode):
                    self._refuse("a '<<' merge key takes a mapping or a list of mappings",
                                 source, path)
                built = self.build(source, path)
                for k, v in built.items():
                    merged.setdefault(k, v)
        finally:
            self.merging -= 1

    def _key(self, key_node: Node, path: PathKey) -> Any:
        if not isinstance(key_node, ScalarNode):
            self._refuse("mapping keys must be plain scalars", key_node, path)
        key = self._scalar(key_node, path)
        if not isinstance(key, str | int | float | bool) and key is not None:
            self._refuse("mapping keys must be plain scalars", key_node, path)
        return key

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        self.size += len(node.value) + 1
        if self.size > self.max_bytes:
            raise limits.DOCUMENT_BYTES.refuse(
                f"its aliases expand the document to more than {self.max_bytes:,} bytes",
                self._at(node, path))
        if node.tag in (_INT, _FLOAT) and len(node.value) > MAX_NUMBER_CHARS:
            self._refuse(f"a number written with {len(node.value):,} characters (at most "
                         f"{MAX_NUMBER_CHARS}) is not a measurement", node, path)
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, ArithmeticError) as exc:
            # Only implicit tags get here: an impossible date (2026-02-30), an offset past a day,
            # an empty base-2/16 integer (0b_).
            what = node.tag.rsplit(":", 1)[-1]
            self._refuse(f"{node.value[:40]!r} is not a valid {what}: {exc}", node, path)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int) and not -INT64 <= value < INT64:
            self._refuse(f"integer {node.value[:40]} does not fit in 64 bits", node, path)
        if isinstance(value, float) and not math.isfinite(value):
            # NaN compares unequal to everything, so a NaN floor or metric would make every
            # check pass; 1e400 reads as inf.
            self._refuse(f"{node.value[:40]} is not a finite number", node, path)
        if isinstance(value, str) and node.style == '"' and _SURROGATE.search(value):
            self._refuse("a lone surrogate escape (\\ud800-\\udfff) is not text", node, path)
        return value


def parse_text(text: str, file: str) -> tuple[Any, LineMap]:
    try:
        loader = _Loader(text, limits.DEPTH.value(), limits.NODES.value())
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, file, exc) from exc
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        builder = _Builder(file, loader)
        return builder.build(node, ()), builder.lines
    except _Refused as exc:
        mark = exc.mark
        raise type(exc.error)(exc.error.message,
                              Location(file, None, mark.line + 1, mark.column + 1)) from exc
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, file, exc) from exc
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(file, exc) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML/JSON: {exc}", Location(file)) from exc
    finally:
        loader.dispose()


def _marked_error(file: str, exc: yaml.MarkedYAMLError) -> InputError:
    """A YAML syntax error, with the line and column of its mark."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem and exc.context_mark is not exc.problem_mark:
        # "found duplicate anchor 'a'; first occurrence" / "second occurrence"
        problem = f"{exc.context.rstrip(':; ')}: {exc.problem}"
    if "maximum nesting depth" in problem:  # libyaml's own bound, past ours
        return limits.DEPTH.refuse("nested too deeply", Location(file, None, line, column))
    return InputError(f"malformed YAML/JSON: {problem}", Location(file, None, line, column))


def _reader_error(text: str, file: str, exc: yaml.reader.ReaderError) -> InputError:
    """A character YAML does not allow (a control character, U+FFFE): named, with its line."""
    bad = _NOT_PRINTABLE.search(text)
    if bad is None:
        return InputError(f"malformed YAML/JSON: {exc.reason}", Location(file))
    pos = bad.start()
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return InputError(f"character U+{ord(bad.group()):04X} is not allowed in YAML (control "
                      "characters are refused)", Location(file, None, line, column))


def read_document(path: Path, display: str | None = None) -> tuple[Any, LineMap, bytes]:
    """Parse a YAML or JSON file; returns (data, line map, raw bytes for hashing)."""
    name = display or str(path)
    raw = read_bounded(path, name, limits.DOCUMENT_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", Location(name)) from exc
    data, lines = parse_text(text, name)
    return data, lines, raw


def read_bounded(path: Path, name: str, limit: limits.Limit) -> bytes:
    """A regular file's bytes, at most ``limit`` of them: a FIFO or device would block or
    never end, and a file may grow between ``stat`` and ``read``."""
    most = limit.value()
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError("expected a file, found a directory", Location(name))
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file (a FIFO, socket or device)", Location(name))
        limit.check(info.st_size, f"file is {info.st_size:,} bytes", Location(name))
        with path.open("rb") as fh:
            raw = fh.read(most + 1)
    except FileNotFoundError as exc:
        raise InputError("file not found", Location(name)) from exc
    except IsADirectoryError as exc:
        raise InputError("expected a file, found a directory", Location(name)) from exc
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", Location(name)) from exc
    limit.check(len(raw), f"file is over {most:,} bytes", Location(name))
    return raw


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
