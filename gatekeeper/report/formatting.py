"""How numbers, hashes and outcomes read in every report."""

from __future__ import annotations

import math
import re

from gatekeeper.models.verdict import Check

_HEX = re.compile(r"^[0-9a-f]{7,64}$")


def num(value: object) -> str:
    """A metric value: 4 significant digits, or the text as given."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        if 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def step(value: float) -> str:
    """A series step: an integer with thousands separators, else 6 significant digits."""
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.6g}"


def signed(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return f"{0:.{digits}f}"
    if abs(value) < 10 ** (-digits):
        return f"{value:+.2e}"
    return f"{value:+.{digits}f}"


OUTCOME_WORDS = {"non_inferior": "non-inferior", "not_improved": "not improved",
                 "no_information": "no information",
                 "worse_before_adjustment": "worse before the multiplicity adjustment"}


def outcome_text(c: Check) -> str:
    """The comparison's outcome in words (falls back to the status)."""
    raw = c.outcome or c.status
    return OUTCOME_WORDS.get(raw, raw.replace("_", " "))


def short_sha(value: object, length: int = 12) -> str:
    text = str(value) if value is not None else ""
    return text[:length] if _HEX.match(text) else text


