"""Text files of a bundle (CSV, JSONL) read line by line within limits: a line longer than
``GATEKEEPER_MAX_LINE_BYTES`` is refused before it is held in memory, JSONL records are bounded in
nesting, and ids are one-line text."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.fileio import open_regular

# An id is printed in reports and logs: control characters (terminal escapes, line breaks that
# start a GitHub workflow command) and lone surrogates (not text: no UTF-8 file can hold them)
# are refused.
BAD_ID = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def open_text(path: Path, shown: str) -> io.TextIOWrapper:
    """A bundle's text file: regular, UTF-8, newlines kept as written (the csv module's need)."""
    return io.TextIOWrapper(open_regular(path, shown.rsplit("/", 1)[-1], Location(shown)),
                            encoding="utf-8", newline="")


def bounded_lines(fh: io.TextIOWrapper, shown: str, first_line: int = 1) -> Iterator[str]:
    """The file's lines, refusing one longer than the limit before reading the rest of it."""
    most = limits.LINE_BYTES.value()
    line_no = first_line
    try:
        while line := fh.readline(most + 1):
            if len(line) > most and not line.endswith(("\n", "\r")):
                raise limits.LINE_BYTES.refuse(f"line {line_no:,} is longer than {most:,} "
                                               "characters", Location(shown, None, line_no),
                                               BundleError)
            yield line
            line_no += 1
    except UnicodeDecodeError as exc:
        raise BundleError("not UTF-8 text (at or after this line)",
                          Location(shown, None, line_no)) from exc


def check_id(ident: str, shown: str, field: str, line: int | None) -> None:
    bad = BAD_ID.search(ident)
    if bad is not None:
        raise BundleError(f"id {ident!r} holds the character U+{ord(bad.group()):04X}: ids are "
                          "one line of text, without control characters",
                          Location(shown, field, line))


def check_ids(ids: list[str], lines: list[int] | None, shown: str, field: str) -> None:
    """All ids at once (one regex over their concatenation); the first bad one located."""
    if BAD_ID.search("".join(ids)) is None:
        return
    for i, ident in enumerate(ids):
        check_id(ident, shown, field, lines[i] if lines is not None else None)


def depth_exceeds(value: Any, most: int) -> bool:
    """Whether ``value`` (parsed JSON) nests deeper than ``most`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > most:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def parse_json_record(line: str, shown: str, line_no: int) -> Any:
    """One JSON value, with every way ``json.loads`` can fail as a located error."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BundleError(f"invalid JSON: {exc.msg}",
                          Location(shown, None, line_no, exc.colno)) from exc
    except RecursionError as exc:
        raise limits.DEPTH.refuse("the record is nested too deeply", Location(
            shown, None, line_no), BundleError) from exc
    except ValueError as exc:  # an integer past Python's digit limit for int()
        raise BundleError(f"invalid JSON: {exc}", Location(shown, None, line_no)) from exc
    most = limits.DEPTH.value()
    if line.count("[") + line.count("{") > most and depth_exceeds(record, most):
        raise limits.DEPTH.refuse(f"the record is nested deeper than {most} levels",
                                  Location(shown, None, line_no), BundleError)
    if _SURROGATE_ESCAPE.search(line) and _has_lone_surrogate(record):
        raise BundleError("a lone surrogate escape (\\ud800-\\udfff) is not text",
                          Location(shown, None, line_no))
    return record


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def iter_jsonl_records(path: Path, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-blank line; at most ``GATEKEEPER_MAX_ROWS`` of them."""
    most = limits.ROWS.value()
    count = 0
    with open_text(path, shown) as fh:
        for line_no, line in enumerate(bounded_lines(fh, shown), start=1):
            if not line.strip():
                continue
            record = parse_json_record(line, shown, line_no)
            if not isinstance(record, dict):
                raise BundleError("each line must be a JSON object",
                                  Location(shown, None, line_no))
            count += 1
            if count > most:
                raise limits.ROWS.refuse(f"more than {most:,} records", Location(
                    shown, None, line_no), BundleError)
            yield line_no, record
