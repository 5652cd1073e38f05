"""The Markdown report: the PR comment body, the job summary and report.md.

Rendered from ``templates/report.md.j2`` (or a user's override in ``ctx.template_dir``) in a
sandboxed jinja2 environment that Markdown-escapes every value from a bundle or a PR.
"""

from __future__ import annotations

from collections.abc import Collection

from markupsafe import Markup

from gatekeeper.models.verdict import Verdict
from gatekeeper.report import templating
from gatekeeper.report.context import ReportContext
from gatekeeper.report.view import build_view

TEMPLATE = "report.md.j2"
SECTIONS = ("forest", "changes", "reproducibility", "passing")  # the ones a comment may drop


def render_markdown(
    verdict: Verdict,
    ctx: ReportContext,
    *,
    omit: Collection[str] = (),
    max_items: int | None = None,
    cut_note: str | None = None,
) -> str:
    """The report; ``omit`` leaves out whole sections and ``max_items`` caps listed checks."""
    unknown = set(omit) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown report sections: {sorted(unknown)}")
    text = templating.render(
        "markdown", TEMPLATE, ctx.template_dir,
        v=build_view(verdict, ctx), omit=frozenset(omit), max_items=max_items,
        # the note is gatekeeper's own text, already Markdown
        cut_note=Markup(cut_note) if cut_note else None,
    )
    return _tidy(text)


def _tidy(text: str) -> str:
    """Collapse runs of blank lines left by skipped blocks; end with exactly one newline."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() and lines and not lines[-1].strip():
            continue
        lines.append(line.rstrip() if not line.strip() else line)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines).rstrip("\n") + "\n"


def render(verdict: Verdict, context: ReportContext) -> str:
    return render_markdown(verdict, context)
