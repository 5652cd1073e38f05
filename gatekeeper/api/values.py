"""Turning what a script logs (numbers, lists, numpy arrays) into plain Python values."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from gatekeeper.errors import InputError, Location


def as_list(values: Any, what: str) -> list[Any]:
    """A list from a list, tuple, numpy array or any iterable (numpy is not imported here)."""
    if hasattr(values, "tolist"):
        out = values.tolist()
        return out if isinstance(out, list) else [out]
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InputError(f"expected a sequence of values, got {type(values).__name__}",
                         Location(field=what))
    return list(values)


def as_number(value: Any, what: str) -> float:
    """A finite float; booleans and NaN are refused (no measurement is one)."""
    if hasattr(value, "item") and not isinstance(value, bool):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"must be a number, got {type(value).__name__}", Location(field=what))
    out = float(value)
    if not math.isfinite(out):
        raise InputError(f"must be a finite number, got {out}", Location(field=what))
    return out


def as_seed(value: Any, what: str) -> int:
    if hasattr(value, "item") and not isinstance(value, bool):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"a seed is a whole number, got {value!r}", Location(field=what))
    return int(value)
