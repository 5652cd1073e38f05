"""Name → "module:attribute" tables for the plugin families: commands, reporters, importers.

A family lists every member by name but imports one only when it is used, so `gatekeeper
check` never loads the registry, GitHub or importer code and `--format json` never loads
jinja2. Adding a member is one module and one entry in its family's table.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class UnknownName(KeyError):
    """A name the table does not list; the message names the ones it does."""

    def __str__(self) -> str:
        # KeyError would show the repr of the message, quotes and all.
        return str(self.args[0])


# eq=False keeps Mapping's equality (by items); a frozen dataclass's would hash the proxy.
@dataclass(frozen=True, eq=False)
class LazyTable(Mapping[str, str], Generic[T]):
    """Read-only mapping of name → "module:attribute", in the order given.

    ``kind`` is what a name names ("command", "format", "tool"), for the unknown-name error.
    ``T`` is what every attribute is (a reporter function, an importer class, ...): declared by
    the table's owner, not checked when the table is built, since checking would mean importing.
    """

    kind: str
    targets: Mapping[str, str]

    def __post_init__(self) -> None:
        for name, target in self.targets.items():
            module, colon, attribute = target.partition(":")
            if not (module and colon and attribute):
                raise ValueError(
                    f"{self.kind} {name!r}: target {target!r} is not 'module:attribute'"
                )
        # A private read-only copy: the caller's dict can change, the table cannot.
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

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
        return cast(T, getattr(importlib.import_module(module), attribute))
