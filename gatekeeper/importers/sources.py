"""Bounded, located reading of tool output: every parse error names the file and the record."""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from gatekeeper.errors import ImporterError, InputError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.fileio import open_regular
from gatekeeper.inputs.textio import depth_exceeds

# Tool outputs are parsed whole (JSON) or line by line (JSONL); refuse what cannot be sane
# (GATEKEEPER_MAX_IMPORT_BYTES, GATEKEEPER_MAX_IMPORT_LINE_BYTES: gatekeeper/inputs/limits.py).
MAX_JSON_BYTES = limits.IMPORT_BYTES.default
MAX_LINE_BYTES = limits.IMPORT_LINE_BYTES.default
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
INT64 = 2**63


def fail(message: str, file: Path | str | None = None, *, line: int | None = None,
         field: str | None = None) -> ImporterError:
    return ImporterError(message, Location(file=str(file) if file is not None else None,
                                           line=line, field=field))


def check_size(path: Path, limit: int | None = None) -> int:
    """The size of a regular file of the tool's output, within ``limit`` (default: the
    import limit)."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise fail("file not found", path) from exc
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror}", path) from exc
    if not stat.S_ISREG(info.st_mode):
        raise fail("not a regular file (a folder, FIFO, socket or device)", path)
    most = limits.IMPORT_BYTES.value() if limit is None else limit
    if info.st_size > most:
        raise fail(f"file is {info.st_size:,} bytes, over the limit of {most:,} bytes"
                   + (f" ({limits.IMPORT_BYTES.env})" if limit is None else ""), path)
    return info.st_size


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """A regular file's bytes (a FIFO named as a tool's output would block the import)."""
    check_size(path, limit)
    try:
        with open_regular(path, path.name, Location(str(path)), allow_links=True) as fh:
            return fh.read()
    except InputError as exc:
        raise fail(exc.message, path) from exc
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror}", path) from exc


def parse_json_text(text: str | bytes, path: Path | str, *, field: str | None = None,
                    line: int | None = None) -> Any:
    """JSON from a tool, every failure a located ImporterError: malformed or truncated text,
    an integer past Python's digit limit, nesting past GATEKEEPER_MAX_DEPTH, a lone surrogate
    escape (no UTF-8 file can hold the string it makes)."""
    try:
        value = json.loads(text, parse_constant=_keep_constant)
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if _truncated(exc) else "malformed JSON"
        raise fail(f"{what}: {exc.msg} (column {exc.colno})", path,
                   line=exc.lineno if line is None else line, field=field) from exc
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})", path, line=line, field=field) from exc
    except RecursionError as exc:
        raise _too_deep(path, line, field) from exc
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise fail(f"malformed JSON: {exc}", path, line=line, field=field) from exc
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    most = limits.DEPTH.value()
    if raw.count(b"[") + raw.count(b"{") > most and depth_exceeds(value, most):
        raise _too_deep(path, line, field)
    if _SURROGATE_ESCAPE.search(raw) and _lone_surrogate(value):
        raise fail("a lone surrogate escape (\\ud800-\\udfff) is not text", path, line=line,
                   field=field)
    return value


def _too_deep(path: Path | str, line: int | None, field: str | None) -> ImporterError:
    most = limits.DEPTH.value()
    error = limits.DEPTH.refuse(f"nested deeper than {most} levels",
                                Location(str(path), field, line), ImporterError)
    assert isinstance(error, ImporterError)
    return error


def _lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def load_json(path: Path) -> Any:
    return parse_json_text(read_bytes(path), path)


def iter_records(path: Path) -> Iterator[tuple[str, int | None, Any]]:
    """Yield (record label, line, record) from JSONL, or from a file holding one JSON array.

    lm-eval 0.4.0 wrote its ``.jsonl`` samples as one pretty-printed array; later versions
    write one object per line. The label names the record in messages.
    """
    check_size(path)
    with open_file(path) as fh:
        head = fh.read(4096).lstrip()
    if head.startswith(b"["):
        data = load_json(path)
        if not isinstance(data, list):
            raise fail("expected a JSON array of records", path)
        for i, item in enumerate(data):
            yield f"record [{i}]", None, item
        return
    most = limits.IMPORT_LINE_BYTES.value()
    with open_file(path) as fh:
        lineno = 0
        while raw := fh.readline(most + 1):
            lineno += 1
            if len(raw) > most:
                raise fail(f"line is longer than {most:,} bytes, the limit "
                           f"({limits.IMPORT_LINE_BYTES.env})", path, line=lineno)
            if not raw.strip():
                continue
            yield f"line {lineno}", lineno, _parse_line(raw, path, lineno)


def open_file(path: Path) -> BinaryIO:
    """A tool's file, opened without blocking on a FIFO and refused unless regular."""
    try:
        return open_regular(path, path.name, Location(str(path)), allow_links=True)
    except InputError as exc:
        raise fail(exc.message, path) from exc


def _parse_line(raw: bytes, path: Path, lineno: int) -> Any:
    try:
        return parse_json_text(raw, path, line=lineno)
    except ImporterError as exc:
        if exc.message.startswith(("malformed JSON:", "truncated JSON:")):
            what, _, rest = exc.message.partition(":")
            raise fail(f"{what} record:{rest}", path, line=lineno) from exc
        raise


def _truncated(exc: json.JSONDecodeError) -> bool:
    """Did the input stop mid-document (cut short) rather than hold a wrong character?"""
    if exc.msg.startswith("Unterminated string"):
        return True  # a string that never closes ran into the end of the input
    rest = exc.doc[exc.pos:].strip()
    return rest == "" or any(word.startswith(rest) for word in ("true", "false", "null"))


def _keep_constant(name: str) -> float:
    # NaN/Infinity are legal in Python's JSON dialect; keep them so callers can refuse them
    # with a located message instead of silently accepting a non-number.
    return float(name)


def as_number(value: Any) -> float | None:
    """A score as a float, or None when it is not a number (a [gold, pred] pair, text, NaN).

    Tools write booleans and the strings "True"/"False"/"0"/"0.5" for scores; all are numbers.
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = to_float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in ("True", "true"):
            return 1.0
        if text in ("False", "false"):
            return 0.0
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def format_score(value: float) -> str:
    """Shortest round-trip text, so the same number always gives the same bytes."""
    return repr(float(value))


def finite_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = to_float(value)
    return number if math.isfinite(number) else None


def to_float(value: int | float) -> float:
    """``float(value)``, with an integer past 1.8e308 (JSON allows 4,300 digits) as inf rather
    than an OverflowError; callers refuse or skip non-finite numbers."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def plain(value: Any) -> Any:
    """JSON-ish data made safe for run.yaml: non-finite floats and odd keys become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        return str(value)  # run.yaml holds 64-bit integers; a longer one is kept as text
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def walk_files(folder: Path) -> list[Path]:
    """The regular files under ``folder``, sorted, walked with an explicit stack (a recursive
    walk overflows on folders nested a thousand deep); symlinks are never followed, so a link in
    a tool's output cannot pull a file from elsewhere into the bundle."""
    out: list[Path] = []
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except OSError as exc:
            raise fail(f"cannot list the folder: {exc.strerror or exc}", current) from exc
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                out.append(Path(entry.path))
    return sorted(out)


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (absent and malformed alike)."""
    return value if isinstance(value, dict) else {}


def listing(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one (absent and malformed alike)."""
    return value if isinstance(value, list) else []
