from __future__ import annotations

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.verdict import verdict_json


def render(verdict: Verdict, context: ReportContext) -> str:
    return verdict_json(verdict)
