from __future__ import annotations

from gatekeeper.models.verdict import Verdict, verdict_json
from gatekeeper.report.context import ReportContext


def render(verdict: Verdict, context: ReportContext) -> str:
    return verdict_json(verdict)
