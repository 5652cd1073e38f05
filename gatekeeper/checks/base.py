"""Helpers for building checks consistently."""

from __future__ import annotations

import math
from typing import Any

from gatekeeper.checks.ids import CheckKey
from gatekeeper.errors import Location
from gatekeeper.models.common import Status
from gatekeeper.models.verdict import Check, Source


def source_of(location: Location) -> Source | None:
    """Where an annotation should point: the policy or bundle file and line."""
    if not location.file:
        return None
    return Source(file=location.file, line=location.line)


def clean(value: float | None, digits: int = 10) -> float | None:
    """Round for stable bytes across platforms (last-ulp differences in BLAS/libm)."""
    if value is None or not math.isfinite(value):
        return None
    out = round(float(value), digits)
    return 0.0 if out == 0 else out


def check(key: CheckKey, status: Status, message: str, **fields: Any) -> Check:
    return Check(id=key.id, family=key.family, subject=key.subject, metric=key.metric,
                 status=status, message=message, **fields)


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"
