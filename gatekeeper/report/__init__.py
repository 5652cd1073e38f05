"""Reporters: a name → function table, so a new format is one module and one entry.

Every reporter renders from the ``Verdict`` (plus optional context for richer reports) and
returns text; writing files and posting is the caller's job.
"""

from __future__ import annotations

from collections.abc import Callable

from gatekeeper.models.verdict import Verdict
from gatekeeper.plugins import LazyTable
from gatekeeper.report.context import ReportContext

Reporter = Callable[[Verdict, ReportContext], str]

# Imported lazily so `--format json` never loads jinja2.
REPORTERS: LazyTable[Reporter] = LazyTable("format", {
    "json": "gatekeeper.report.json_report:render",
    "text": "gatekeeper.report.text:render",
    "markdown": "gatekeeper.report.markdown:render",
    "html": "gatekeeper.report.html:render",
    "junit": "gatekeeper.report.junit:render",
    "model-card": "gatekeeper.report.model_card:render",
})


def get_reporter(name: str) -> Reporter:
    return REPORTERS.load(name)
