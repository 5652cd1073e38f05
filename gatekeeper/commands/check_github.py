"""`check --github`: turn a verdict into what GitHub shows — the sticky comment, the check run,
the job summary, annotations and step outputs. Failures here are warnings: a reporting problem
never changes the gate's exit code."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from gatekeeper.models.verdict import Verdict
from gatekeeper.report import get_reporter
from gatekeeper.report.context import ReportContext
from gatekeeper.safe_text import one_line

MAX_ANNOTATIONS = 50  # more is noise on a PR; the report has every check


def _comment_body(verdict: Verdict, ctx: ReportContext, policy_name: str) -> str:
    from gatekeeper.github.comment import marker
    from gatekeeper.report.comment import render_comment

    return render_comment(verdict, ctx, marker=marker(policy_name))


def annotations_for(verdict: Verdict) -> tuple[object, ...]:
    from gatekeeper.github.runner import Annotation

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


def publish_verdict(verdict: Verdict, ctx: ReportContext, args: argparse.Namespace,
                    environ: Mapping[str, str]) -> None:
    from gatekeeper.github.publish import PublishRequest, publish_from_environ

    name = verdict.policy.name
    out_dir: Path = args.output_dir or Path(tempfile.mkdtemp(prefix="gatekeeper-report-"))
    rollback = ""
    if verdict.rollback_target is not None and verdict.rollback_target.version is not None:
        rollback = f"{verdict.rollback_target.model}:{verdict.rollback_target.version}"
    summary = get_reporter("markdown")(verdict, ctx)
    request = PublishRequest(
        status=verdict.verdict,
        policy_name=name,
        check_name=args.check_name,
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
            "report-path": str(out_dir / "report.md") if args.output_dir else "",
        },
        comment_enabled=args.comment == "on",
        comment_file=out_dir / "relay" / "comment.md",
    )
    result = publish_from_environ(environ, request)
    for command in result.commands:
        sys.stdout.write(command + "\n")
    for warning in result.warnings:
        print(f"gatekeeper: warning: {one_line(warning)}", file=sys.stderr)
