"""Name → "module:attribute" tables for the plugin families: commands, reporters, importers.

A family lists every member by name but imports one only when it is used, so `gatekeeper
check` never loads the registry, GitHub or importer code and `--format json` never loads
jinja2. Adding a member is one module and one entry in its family's table.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import GenericAlias, MappingProxyType

# typing.TYPE_CHECKING without importing typing, which would be a tenth of `gatekeeper
# --version` (mypy treats any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, TypeVar

    T = TypeVar("T")

    class _Typed(Generic[T]):
        """mypy's view: ``LazyTable[T].load`` returns a ``T``."""

else:
    T = object

    class _Typed:
        """The runtime's view: ``LazyTable[X]`` subscripts, like any generic class."""

        __slots__ = ()
        __class_getitem__ = classmethod(GenericAlias)


class UnknownName(KeyError):
    """A name the table does not list; the message names the ones it does."""

    def __str__(self) -> str:
        # KeyError would show the repr of the message, quotes and all.
        return str(self.args[0])


class LazyTable(Mapping[str, str], _Typed[T]):
    """Read-only mapping of name → "module:attribute", in the order given.

    ``kind`` is what a name names ("command", "format", "tool"), for the unknown-name error.
    ``T`` is what every attribute is (a reporter function, an importer class, ...): declared by
    the table's owner, not checked when the table is built, since checking would mean importing.

    A plain class rather than a frozen dataclass: `gatekeeper --version` and `--help` import
    this module, and ``dataclasses`` (with ``inspect``) would be a third of their start-up.
    Equality is Mapping's (by items).
    """

    __slots__ = ("kind", "targets")
    kind: str
    targets: Mapping[str, str]

    def __init__(self, kind: str, targets: Mapping[str, str]) -> None:
        for name, target in targets.items():
            module, colon, attribute = target.partition(":")
            if not (module and colon and attribute):
                raise ValueError(
                    f"{kind} {name!r}: target {target!r} is not 'module:attribute'"
                )
        object.__setattr__(self, "kind", kind)
        # A private read-only copy: the caller's dict can change, the table cannot.
        object.__setattr__(self, "targets", MappingProxyType(dict(targets)))

    def __setattr__(self, name: str, value: object) -> None:
        # lazy: the error type of a frozen dataclass, needed only when code tries to mutate
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        # lazy: as in __setattr__
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        return f"LazyTable(kind={self.kind!r}, targets={self.targets!r})"

    def __getitem__(self, name: str) -> str:
        try:
            return self.targets[name]
        except KeyError:
            raise UnknownName(
                f"unknown {self.kind} {name!r}; choose one of {', '.join(sorted(self.targets))}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    def names(self) -> tuple[str, ...]:
        """Every name, in the order the table lists them."""
        return tuple(self.targets)

    def load(self, name: str) -> T:
        """Import the module behind ``name`` and return its attribute (UnknownName if unlisted)."""
        module, _, attribute = self[name].partition(":")
        loaded: T = getattr(importlib.import_module(module), attribute)
        return loaded
