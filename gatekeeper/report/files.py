"""Write every report format into one folder (``check --output-dir``), atomically.

Each file is written to a temporary name beside its target and moved into place with
``os.replace``, so a reader (the upload-artifact step, the relay) never sees half a file.
Nothing here reads the clock: identical input gives byte-identical files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext

FILES = ("verdict.json", "report.md", "report.html", "junit.xml", "model_card.md", "comment.md")


def comment_marker(policy_name: str) -> str:
    """The sticky comment's marker, as the GitHub client looks for it."""
    from gatekeeper.report.comment import marker

    return marker(policy_name)


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report_files(out_dir: Path, verdict: Verdict, ctx: ReportContext) -> dict[str, Path]:
    """verdict.json, report.md, report.html, junit.xml, model_card.md (with Hugging Face front
    matter) and comment.md (marker + report, within GitHub's comment limit)."""
    from gatekeeper.models.verdict import verdict_json
    from gatekeeper.report import html, junit
    from gatekeeper.report.comment import render_comment
    from gatekeeper.report.markdown import render_markdown
    from gatekeeper.report.model_card import render_model_card

    contents = {
        "verdict.json": verdict_json(verdict),
        "report.md": render_markdown(verdict, ctx),
        "report.html": html.render(verdict, ctx),
        "junit.xml": junit.render(verdict, ctx),
        "model_card.md": render_model_card(verdict, ctx, front=True),
        "comment.md": render_comment(verdict, ctx, marker=comment_marker(verdict.policy.name)),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in FILES:
        path = out_dir / name
        atomic_write(path, contents[name])
        written[name] = path
    return written
