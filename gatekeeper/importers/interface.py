"""The importer contract: read a tool's output into drafts; the writer turns drafts into bundles."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from gatekeeper.errors import ImporterError
from gatekeeper.importers.sources import fail
from gatekeeper.importers.writer import Draft, ImportOptions, slug, write_drafts
from gatekeeper.plugins import LazyTable, UnknownName

# The tools' modules take the whole contract from here: what a reader returns (Draft), the
# options it reads (ImportOptions) and the helpers every reader uses. Draft, ImportOptions and
# slug belong to the writer, fail to sources; this module uses the writer, never the reverse.
__all__ = ["IMPORTERS", "Draft", "ImportOptions", "Importer", "fail", "get_importer", "slug"]


class Importer(ABC):
    name: ClassVar[str]

    @abstractmethod
    def read(self, source: Path, options: ImportOptions) -> list[Draft]:
        """Parse ``source``; one draft per bundle it holds (several only for a set of logs)."""

    def import_(self, source: Path, out: Path, *, options: ImportOptions) -> Path:
        """Write the bundle(s); returns the bundle, or the folder of ``{model}`` bundles."""
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
