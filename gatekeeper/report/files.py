"""Write every report format into one folder (``check --output-dir``), atomically.

All six files are rendered first, then written to temporary names beside their targets
(``gatekeeper.inputs.atomic``) and only then moved into place with ``os.replace``: a reader (the
upload-artifact step, the relay) never sees half a file, and a write that fails (a full disk, a
read-only folder) leaves the folder as it was and raises ``OutputError`` (exit 2) naming the
file. Nothing here reads the clock: identical input gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.inputs.atomic import OutputError, write_all_atomic
from gatekeeper.models.verdict import Verdict, verdict_json
from gatekeeper.report import html, junit
from gatekeeper.report.comment import marker, render_comment
from gatekeeper.report.context import ReportContext
from gatekeeper.report.markdown import render_markdown
from gatekeeper.report.model_card import render_model_card

FILES = ("verdict.json", "report.md", "report.html", "junit.xml", "model_card.md", "comment.md")


def comment_marker(policy_name: str) -> str:
    """The sticky comment's marker, as the GitHub client looks for it."""
    return marker(policy_name)


def write_report_files(out_dir: Path, verdict: Verdict, ctx: ReportContext) -> dict[str, Path]:
    """verdict.json, report.md, report.html, junit.xml, model_card.md (with Hugging Face front
    matter) and comment.md (marker + report, within GitHub's comment limit)."""
    contents = {
        "verdict.json": verdict_json(verdict),
        "report.md": render_markdown(verdict, ctx),
        "report.html": html.render(verdict, ctx),
        "junit.xml": junit.render(verdict, ctx),
        "model_card.md": render_model_card(verdict, ctx, front=True),
        "comment.md": render_comment(verdict, ctx, marker=comment_marker(verdict.policy.name)),
    }
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(out_dir, exc) from exc
    written = {name: out_dir / name for name in FILES}
    write_all_atomic({written[name]: contents[name] for name in FILES})
    return written
