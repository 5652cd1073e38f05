"""Bounded, located reading of tool output: every parse error names the file and the record."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gatekeeper.errors import ImporterError, Location

# Tool outputs are parsed whole (JSON) or line by line (JSONL); refuse what cannot be sane.
MAX_JSON_BYTES = 2 * 1024**3
MAX_LINE_BYTES = 256 * 1024**2


def fail(message: str, file: Path | str | None = None, *, line: int | None = None,
         field: str | None = None) -> ImporterError:
    return ImporterError(message, Location(file=str(file) if file is not None else None,
                                           line=line, field=field))


def check_size(path: Path, limit: int = MAX_JSON_BYTES) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise fail("file not found", path) from exc
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror}", path) from exc
    if size > limit:
        raise fail(f"file is {size:,} bytes; the limit is {limit:,}", path)
    return size


def parse_json_text(text: str | bytes, path: Path | str, *, field: str | None = None) -> Any:
    try:
        return json.loads(text, parse_constant=_keep_constant)
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if _truncated(exc) else "malformed JSON"
        raise fail(f"{what}: {exc.msg} (column {exc.colno})", path, line=exc.lineno,
                   field=field) from exc
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})", path, field=field) from exc


def load_json(path: Path) -> Any:
    check_size(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror}", path) from exc
    return parse_json_text(raw, path)


def iter_records(path: Path) -> Iterator[tuple[str, int | None, Any]]:
    """Yield (record label, line, record) from JSONL, or from a file holding one JSON array.

    lm-eval 0.4.0 wrote its ``.jsonl`` samples as one pretty-printed array; later versions
    write one object per line. The label names the record in messages.
    """
    check_size(path)
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    if head.startswith(b"["):
        data = load_json(path)
        if not isinstance(data, list):
            raise fail("expected a JSON array of records", path)
        for i, item in enumerate(data):
            yield f"record [{i}]", None, item
        return
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise fail(f"line is longer than {MAX_LINE_BYTES:,} bytes", path, line=lineno)
            if not raw.strip():
                continue
            yield f"line {lineno}", lineno, _parse_line(raw, path, lineno)


def _parse_line(raw: bytes, path: Path, lineno: int) -> Any:
    try:
        return json.loads(raw, parse_constant=_keep_constant)
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if _truncated(exc) else "malformed JSON"
        raise fail(f"{what} record: {exc.msg} (column {exc.colno})", path, line=lineno) from exc
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})", path, line=lineno) from exc


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
        number = float(value)
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
    number = float(value)
    return number if math.isfinite(number) else None


def plain(value: Any) -> Any:
    """JSON-ish data made safe for run.yaml: non-finite floats and odd keys become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (absent and malformed alike)."""
    return value if isinstance(value, dict) else {}
