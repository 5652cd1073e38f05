"""`check --github`: turn a verdict into what GitHub shows — the sticky comment, the check run,
the job summary, annotations and step outputs. Failures here are warnings: a reporting problem
never changes the gate's exit code."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.github.publish import PublishRequest, client_for, publish
from gatekeeper.github.runner import Annotation
from gatekeeper.models.verdict import Verdict
from gatekeeper.report import get_reporter
from gatekeeper.report.comment import marker, render_comment
from gatekeeper.report.context import ReportContext
from gatekeeper.safe_text import one_line

if TYPE_CHECKING:
    from gatekeeper.github.settings import GitHubSettings

MAX_ANNOTATIONS = 50  # more is noise on a PR; the report has every check


def _comment_body(verdict: Verdict, ctx: ReportContext, policy_name: str) -> str:
    return render_comment(verdict, ctx, marker=marker(policy_name))


def annotations_for(verdict: Verdict) -> tuple[object, ...]:
    out = []
    for c in verdict.checks:
        if c.status == "pass" or not c.source or not c.source.file:
            continue
        line = c.source.line
        out.append(Annotation(level="error" if c.status == "block" else "warning",
                              message=c.message, file=c.source.file,
                              line=int(line) if isinstance(line, int) and line >= 1 else None,
                              title=f"gatekeeper {c.status}: {c.id}"))
        if len(out) >= MAX_ANNOTATIONS:
            break
    return tuple(out)


def publish_verdict(verdict: Verdict, ctx: ReportContext, settings: GitHubSettings, *,
                    comment: bool, check_name: str, output_dir: Path | None) -> None:
    """Publish on the route ``settings`` allow; problems are printed as warnings, never raised
    for reporting, so they cannot change the gate's exit code."""
    name = verdict.policy.name
    out_dir: Path = output_dir or Path(tempfile.mkdtemp(prefix="gatekeeper-report-"))
    rollback = ""
    if verdict.rollback_target is not None and verdict.rollback_target.version is not None:
        rollback = f"{verdict.rollback_target.model}:{verdict.rollback_target.version}"
    summary = get_reporter("markdown")(verdict, ctx)
    request = PublishRequest(
        status=verdict.verdict,
        policy_name=name,
        check_name=check_name,
        title=f"{verdict.verdict}: {verdict.counts.block} block, {verdict.counts.warn} warn, "
              f"{verdict.counts.passed} pass"
              + (f", {verdict.counts.waived} waived" if verdict.counts.waived else "")
              + f" ({name}@{verdict.policy.version})",
        comment_markdown=_comment_body(verdict, ctx, name),
        summary_markdown=summary,
        annotations=annotations_for(verdict),  # type: ignore[arg-type]
        outputs={
            "verdict": verdict.verdict,
            "exit-code": str(verdict.exit_code),
            "rollback-target": rollback,
            "report-path": str(out_dir / "report.md") if output_dir else "",
        },
        comment_enabled=comment,
        comment_file=out_dir / "relay" / "comment.md",
    )
    result = publish(settings, client_for(settings), request)
    for command in result.commands:
        sys.stdout.write(command + "\n")
    for warning in result.warnings:
        print(f"gatekeeper: warning: {one_line(warning)}", file=sys.stderr)
