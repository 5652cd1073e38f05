"""Every limit on what gatekeeper reads, with its environment variable and default.

The gate reads files a pull request controls (its bundle, and with ``import`` a tool's output).
A limit turns "as much as the input asks for" into a bounded amount of memory and time: an input
past one is refused with exit 2 and a message naming the limit and the variable that raises it.
docs/formats.md lists them; a test keeps that table and this module in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from gatekeeper.errors import InputError, Location

KIB = 1024
MIB = 1024**2
GIB = 1024**3

# No score, latency, cost or curve value reaches 10^50; past it the statistics' powers of the
# values (Δ^3 summed over 10^7 examples, sd^4) would overflow to inf or raise. Not a setting.
MAX_ABS_SCORE = 1e50


@dataclass(frozen=True)
class Limit:
    env: str  # GATEKEEPER_MAX_...
    default: int
    unit: str  # what is counted: "bytes", "rows", "levels", ...
    what: str  # what is bounded, for the docs

    def value(self, environ: Mapping[str, str] | None = None) -> int:
        """The limit in force: the environment variable when set, else the default."""
        raw = (os.environ if environ is None else environ).get(self.env)
        if raw is None or raw.strip() == "":
            return self.default
        try:
            out = int(raw.strip().replace("_", ""), 10)
        except ValueError:
            out = 0
        if out < 1 or len(raw) > 30:
            raise InputError(f"{self.env} must be a whole number of {self.unit} (at least 1), "
                             f"got {raw[:40]!r}")
        return out

    def refuse(self, got: str, where: Location, cls: type[InputError] = InputError,
               environ: Mapping[str, str] | None = None) -> InputError:
        """The error for an input past the limit: ``got`` says what the input holds."""
        limit = self.value(environ)
        return cls(f"{got}, over the limit of {limit:,} {self.unit} ({self.env})", where)

    def check(self, count: int, got: str, where: Location, cls: type[InputError] = InputError,
              environ: Mapping[str, str] | None = None) -> None:
        """Raise ``cls`` when ``count`` is past the limit."""
        if count > self.value(environ):
            raise self.refuse(got, where, cls, environ)


FILE_BYTES = Limit(
    "GATEKEEPER_MAX_FILE_BYTES", 4 * GIB, "bytes",
    "size of a score, trace or array file in a bundle (use `.npz` for very large eval sets)")
DOCUMENT_BYTES = Limit(
    "GATEKEEPER_MAX_DOCUMENT_BYTES", 10 * MIB, "bytes",
    "size of `run.yaml` / `run.json` and of each policy file, also after YAML aliases are "
    "expanded (a \"billion laughs\" of long strings)")
NODES = Limit(
    "GATEKEEPER_MAX_NODES", 250_000, "nodes",
    "values (mappings, lists, scalars) in one YAML/JSON document after aliases are expanded")
DEPTH = Limit(
    "GATEKEEPER_MAX_DEPTH", 64, "levels",
    "nesting of mappings and lists in a YAML/JSON document, a JSONL record or a tool's JSON")
LINE_BYTES = Limit(
    "GATEKEEPER_MAX_LINE_BYTES", 16 * MIB, "characters",
    "one line of a CSV or JSONL file in a bundle")
ROWS = Limit(
    "GATEKEEPER_MAX_ROWS", 20_000_000, "rows",
    "per-example scores, samples or trace records in one file (and elements of an array)")
ARRAY_BYTES = Limit(
    "GATEKEEPER_MAX_ARRAY_BYTES", 2 * GIB, "bytes",
    "memory one `.npy` / `.npz` array takes once loaded (an `.npz` member is decompressed to "
    "this size at most, whatever the archive claims)")
METRICS = Limit(
    "GATEKEEPER_MAX_METRICS", 10_000, "metrics",
    "metrics in a run; metric rules, budgets and waivers in a policy")
ARTIFACTS = Limit(
    "GATEKEEPER_MAX_ARTIFACTS", 10_000, "entries",
    "entries of `artifacts`, `data`, `llm.traces` and `llm.prompts` in a run")
BUNDLE_FILES = Limit(
    "GATEKEEPER_MAX_BUNDLE_FILES", 100_000, "files",
    "files in a bundle (each is hashed into the bundle's sha256)")
IMPORT_BYTES = Limit(
    "GATEKEEPER_MAX_IMPORT_BYTES", 2 * GIB, "bytes",
    "one file of an evaluation tool's output read by `gatekeeper import` (an Inspect `.eval` "
    "archive: its decompressed size)")
IMPORT_LINE_BYTES = Limit(
    "GATEKEEPER_MAX_IMPORT_LINE_BYTES", 256 * MIB, "bytes",
    "one line of a tool's JSONL output read by `gatekeeper import`")

ALL: tuple[Limit, ...] = (FILE_BYTES, DOCUMENT_BYTES, NODES, DEPTH, LINE_BYTES, ROWS,
                          ARRAY_BYTES, METRICS, ARTIFACTS, BUNDLE_FILES, IMPORT_BYTES,
                          IMPORT_LINE_BYTES)
