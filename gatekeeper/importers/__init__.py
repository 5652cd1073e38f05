"""Importers: turn an evaluation tool's own output into a run bundle.

``IMPORTERS`` maps a tool name to its importer class, imported on use; a new tool is one module
and one entry.
"""

from __future__ import annotations

from gatekeeper.importers.interface import (
    IMPORTERS,
    Draft,
    Importer,
    ImportOptions,
    get_importer,
)

__all__ = ["IMPORTERS", "Draft", "ImportOptions", "Importer", "get_importer"]
