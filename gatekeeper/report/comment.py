"""The sticky PR comment: the hidden marker line, then the Markdown report, within GitHub's limit.

When the report is too long the least important sections go first — the forest plot, "what
changed", the reproducibility details, the passing checks — then the listed checks are capped,
and as a last resort only the headline and a pointer to the full report remain. The comment
says what was cut and where the full report is.
"""

from __future__ import annotations

import re

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.report.escape import link_url, md
from gatekeeper.report.view import ICON

COMMENT_LIMIT = 65_536  # characters: GitHub's limit for an issue comment body
MARKER_PREFIX = "<!-- gatekeeper:comment"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._/@+-]")
# (omitted sections, their names for the note), least important first
_STEPS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((), ""),
    (("forest",), "the forest plot"),
    (("forest", "changes"), "the forest plot and what changed"),
    (("forest", "changes", "reproducibility"),
     "the forest plot, what changed and the reproducibility details"),
    (("forest", "changes", "reproducibility", "passing"),
     "the forest plot, what changed, the reproducibility details and the passing checks"),
)
_ITEM_CAPS = (200, 50, 10)


def marker(policy_name: str) -> str:
    """The hidden first line that identifies gatekeeper's sticky comment for ``policy_name``.

    It lives with the comment's rendering; the GitHub side finds and updates comments by it.
    """
    # "--" and ">" would end the HTML comment early; keep the name to a safe alphabet.
    safe = re.sub(r"-{2,}", "-", _NAME_UNSAFE.sub("_", policy_name)) or "_"
    return f"{MARKER_PREFIX} policy={safe} -->"


def _where(ctx: ReportContext) -> str:
    url = ctx.details_url
    if url and url.startswith(("https://", "http://")):
        target = link_url(url)
        return f"[the full report]({target})" if len(target) < 2000 else \
            "the full report in the job summary and the `gatekeeper-report` artifact"
    return "the full report in the job summary and the `gatekeeper-report` artifact"


def _note(what: str, ctx: ReportContext) -> str:
    return (f"This comment is shortened to fit GitHub's {COMMENT_LIMIT:,}-character limit: "
            f"{what} are left out. See {_where(ctx)}.")


def render_comment(
    verdict: Verdict, ctx: ReportContext, *, marker: str, limit: int = COMMENT_LIMIT
) -> str:
    """``marker`` + newline + the report, at most ``limit`` characters whatever the bundle."""
    # lazy: jinja2 (the markdown renderer) stays off `gatekeeper relay`, which imports this
    # module (through github.comment) for the marker only
    from gatekeeper.report.markdown import render_markdown

    if "\n" in marker or not marker.startswith("<!--") or not marker.endswith("-->"):
        raise ValueError("the marker must be a one-line HTML comment")
    head = marker + "\n"
    if len(head) >= limit:
        raise ValueError(f"comment limit {limit} is too small for the marker")

    def fits(body: str) -> bool:
        return len(head) + len(body) <= limit

    for omit, what in _STEPS:
        note = _note(what, ctx) if omit else None
        body = render_markdown(verdict, ctx, omit=omit, cut_note=note)
        if fits(body):
            return head + body
    omit = _STEPS[-1][0]
    for cap in _ITEM_CAPS:
        note = _note(_STEPS[-1][1] + f", and checks beyond the first {cap} of each list", ctx)
        body = render_markdown(verdict, ctx, omit=omit, max_items=cap, cut_note=note)
        if fits(body):
            return head + body
    return head + _minimal(verdict, ctx, limit - len(head))


def _minimal(verdict: Verdict, ctx: ReportContext, room: int) -> str:
    """Headline and counts only; every value is capped, so this fits any sane limit."""
    c = verdict.counts
    text = (
        f"## {ICON[verdict.verdict]} gatekeeper: **{verdict.verdict}** · policy "
        f"{md(verdict.policy.name, 100)}@{md(verdict.policy.version, 40)}\n\n"
        f"⛔ {c.block} block · ⚠️ {c.warn} warn · ✅ {c.passed} pass"
        + (f" · 🛡 {c.waived} waived" if c.waived else "") + "\n\n"
        f"> [!NOTE]\n> The report is too long for a PR comment. See {_where(ctx)}.\n"
    )
    if len(text) > room:
        # only reachable with a tiny custom limit: cut on a line boundary
        text = text[:room]
        text = text[: text.rfind("\n") + 1] if "\n" in text else ""
    return text
