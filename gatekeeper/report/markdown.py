"""Markdown report (minimal renderer; see report/templates for the full one)."""

from __future__ import annotations

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext

ICON = {"pass": "✅", "warn": "⚠️", "block": "⛔"}


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render(verdict: Verdict, context: ReportContext) -> str:
    lines = [f"## {ICON[verdict.verdict]} gatekeeper: **{verdict.verdict}**", "",
             "| check | status | message |", "| --- | --- | --- |"]
    for c in verdict.checks:
        lines.append(f"| `{_esc(c.id)}` | {ICON[c.status]} {c.status} | {_esc(c.message)} |")
    return "\n".join(lines) + "\n"
