"""Helpers for building checks consistently."""

from __future__ import annotations

import math
from typing import Any

from gatekeeper.errors import Location
from gatekeeper.models.common import Status
from gatekeeper.models.verdict import Check


def source_of(location: Location) -> dict[str, Any] | None:
    """Where an annotation should point: the policy or bundle file and line."""
    if not location.file:
        return None
    out: dict[str, Any] = {"file": location.file}
    if location.line is not None:
        out["line"] = location.line
    return out


def clean(value: float | None, digits: int = 10) -> float | None:
    """Round for stable bytes across platforms (last-ulp differences in BLAS/libm)."""
    if value is None or not math.isfinite(value):
        return None
    out = round(float(value), digits)
    return 0.0 if out == 0 else out


def check(check_id: str, status: Status, message: str, **fields: Any) -> Check:
    return Check(id=check_id, status=status, message=message, **fields)


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"
