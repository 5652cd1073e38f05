"""The importer contract: read a tool's output into drafts; the writer turns drafts into bundles."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from gatekeeper.errors import ImporterError, Location
from gatekeeper.plugins import LazyTable, UnknownName


@dataclass(frozen=True)
class ImportOptions:
    model_name: str | None = None  # overrides the model name the tool recorded
    run_id: str | None = None  # default: derived from a sha256 of the input files
    provider: str | None = None  # promptfoo: which provider's results
    tasks: tuple[str, ...] = ()  # lm-eval: which tasks (default: all)
    model: str | None = None  # Inspect eval-set: which model's log
    force: bool = False  # replace an existing bundle at --out


@dataclass
class Draft:
    """One bundle before it is written: run.yaml content plus the files it names."""

    run: dict[str, Any]  # run.yaml without run_id (the writer fills it in)
    label: str  # the model, for `--out DIR/{model}`
    inputs: list[Path]  # source files whose bytes identify the run
    files: dict[str, bytes] = field(default_factory=dict)  # bundle-relative path -> content
    copies: dict[str, Path] = field(default_factory=dict)  # bundle-relative path -> source file
    notes: list[str] = field(default_factory=list)  # what was skipped, and why


class Importer(ABC):
    name: ClassVar[str]

    @abstractmethod
    def read(self, source: Path, options: ImportOptions) -> list[Draft]:
        """Parse ``source``; one draft per bundle it holds (several only for a set of logs)."""

    def import_(self, source: Path, out: Path, *, options: ImportOptions) -> Path:
        """Write the bundle(s); returns the bundle, or the folder of ``{model}`` bundles."""
        from gatekeeper.importers.writer import write_drafts

        written = write_drafts(self.name, self.read(source, options), out, options)
        return written[0] if len(written) == 1 and "{model}" not in str(out) else out.parent


# Imported on use so one tool's parser never loads the others.
IMPORTERS: LazyTable[type[Importer]] = LazyTable("tool", {
    "lm-eval": "gatekeeper.importers.lm_eval:LmEvalImporter",
    "promptfoo": "gatekeeper.importers.promptfoo:PromptfooImporter",
    "inspect": "gatekeeper.importers.inspect_ai:InspectImporter",
    "mlflow": "gatekeeper.importers.mlflow_run:MlflowRunImporter",
})


def get_importer(name: str) -> Importer:
    try:
        cls = IMPORTERS.load(name)
    except UnknownName as exc:
        # An ImporterError, so the CLI reports it as a usage problem, not a crash.
        raise ImporterError(str(exc)) from None
    return cls()


def slug(text: str) -> str:
    """A file-name-safe rendering of a tool's name for a task, metric or model."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned or "_"


def fail(message: str, file: Path | str | None = None, *, line: int | None = None,
         field: str | None = None) -> ImporterError:
    return ImporterError(message, Location(file=str(file) if file is not None else None,
                                           line=line, field=field))
