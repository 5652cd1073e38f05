"""The error tree. Library code raises these; only ``cli.py`` turns them into exit codes.

Every user-facing error carries *where* it happened (file, field path, line/column) so the
one-line message tells a user what to fix without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_PASS = 0
EXIT_BLOCK = 1
EXIT_INPUT = 2
EXIT_UNEXPECTED = 3
# 128 + SIGINT, what shells report for a command stopped by Ctrl-C (so `set -e` scripts and
# CI runners see an interruption, not a gate failure).
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, a dotted field path, and (for YAML/JSON/CSV) a line."""

    file: str | None = None
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def render(self) -> str:
        parts: list[str] = []
        if self.file:
            pos = self.file
            if self.line is not None:
                pos += f":{self.line}"
                if self.column is not None:
                    pos += f":{self.column}"
            parts.append(pos)
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


class GatekeeperError(Exception):
    """Base class. ``exit_code`` is what the CLI returns for it."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __str__(self) -> str:
        where = self.location.render()
        return f"{where}: {self.message}" if where else self.message


class InputError(GatekeeperError):
    """A bundle, policy or score file is malformed or missing."""


class BundleError(InputError):
    """The run bundle is invalid (format, paths, hashes)."""


class PolicyError(InputError):
    """The policy is invalid (YAML, schema, extends)."""


class UnsupportedRuleError(PolicyError):
    """A policy rule this version of gatekeeper cannot evaluate: never a silent pass."""


class RegistryError(GatekeeperError):
    """The registry is unreachable, or a model/alias/version cannot be resolved."""


class RegistryNotFoundError(RegistryError):
    """The registry answered: the model, version or alias does not exist (the policy's
    ``baseline.on_missing`` decides), as opposed to a registry that cannot be reached."""


class ConcurrencyError(RegistryError):
    """An optimistic write lost the race too many times."""


class GitHubError(GatekeeperError):
    """A GitHub API call failed after retries."""


class ImporterError(InputError):
    """An evaluation tool's output could not be imported ."""
