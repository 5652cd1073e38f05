"""Reporters: a name → function table, so a new format is one module and one entry.

Every reporter renders from the ``Verdict`` (plus optional context for richer reports) and
returns text; writing files and posting is the caller's job.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext

Reporter = Callable[[Verdict, ReportContext], str]

# module path, function name — imported lazily so `--format json` never loads jinja2.
REPORTERS: dict[str, tuple[str, str]] = {
    "json": ("gatekeeper.report.json_report", "render"),
    "text": ("gatekeeper.report.text", "render"),
    "markdown": ("gatekeeper.report.markdown", "render"),
    "html": ("gatekeeper.report.html", "render"),
    "junit": ("gatekeeper.report.junit", "render"),
    "model-card": ("gatekeeper.report.model_card", "render"),
}


def get_reporter(name: str) -> Reporter:
    module_name, func = REPORTERS[name]
    module = importlib.import_module(module_name)
    reporter: Reporter = getattr(module, func)
    return reporter
