"""Hypothesis strategies for hostile input, and the property every reader must keep: an input
either loads or is refused with gatekeeper's documented user error, a ``GatekeeperError`` whose
message names what is wrong. Any other exception (or warning: pytest turns them into errors) is
a crash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from gatekeeper.errors import GatekeeperError

# Derandomized and small: the same examples on every run, a few seconds for the whole module.
FAST = settings(derandomize=True, max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

HOSTILE_TEXT = (
    "", " ", "\x00", "\x1b[2J", "a\nb", "::error::x", "\u202eevil", "\u200b", "\ud800",
    "аccuracy", "ａccuracy", "ﬁ", "../x", "/etc/passwd", "x" * 300, "2026-02-30", "nan",
    "1e400", "9" * 5000, "true", "!!binary", "&a", "*a", "<<", "{a: 1}", "[1",
)
HOSTILE_NUMBERS = (0, -1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 10**400, 1e308, -1e308,
                   5e-324, float("nan"), float("inf"), float("-inf"), True, False)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=6),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)


def paths(doc: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a parsed document (a key of a mapping, an item of a list)."""
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*here, i))
    return out


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``doc`` with the value at ``path`` replaced (the root too)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: replaced(doc[head], rest, value)}
    out = list(doc)
    out[head] = replaced(doc[head], rest, value)
    return out


def loads_or_refuses(read: Callable[[], Any]) -> None:
    """The property: ``read()`` returns, or raises a GatekeeperError with a message."""
    try:
        read()
    except GatekeeperError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
