"""`gatekeeper check BUNDLE`: parse → ``gate.run_gate`` → render → publish → exit code."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper import startup
from gatekeeper.errors import InputError, Location
from gatekeeper.github.settings import report_server_url, settings_for_check
from gatekeeper.models.verdict import Verdict
from gatekeeper.report import REPORTERS, get_reporter
from gatekeeper.report.context import ReportContext

if TYPE_CHECKING:
    from gatekeeper.gate import GateInputs
    from gatekeeper.github.settings import GitHubSettings

DEFAULT_POLICY = Path("policies/default.yaml")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="gate a run bundle against a policy",
                       description="Check a run bundle against a policy and the registry "
                                   "baseline; exit 0 pass/warn, 1 block, 2 bad input.")
    p.add_argument("bundle", type=Path, help="run bundle folder (holds run.yaml)")
    p.add_argument("--policy", type=Path, default=None,
                   help=f"policy file (default: {DEFAULT_POLICY})")
    p.add_argument("--registry", default=None,
                   help="registry URI, overriding the policy's baseline.registry")
    p.add_argument("--target-branch", default=None,
                   help="branch being merged into; selects the policy's branches: overrides")
    p.add_argument("--fail-on", choices=("warn", "block"), default="block",
                   help="which verdict makes the exit code 1 (default: block)")
    p.add_argument("--format", choices=sorted(REPORTERS), default="text",
                   help="what to print on stdout (default: text)")
    p.add_argument("--output-dir", type=Path, default=None,
                   help="also write every report here: verdict.json, report.md, "
                        "report.html, junit.xml, model_card.md, comment.md")
    p.add_argument("--as-of", type=date.fromisoformat, default=None,
                   help="judge waiver expiry and baseline age on this date (YYYY-MM-DD; "
                        "default: today, UTC)")
    p.add_argument("--github", action="store_true",
                   help="publish to GitHub: sticky PR comment, check run, summary, outputs")
    p.add_argument("--comment", choices=("on", "off"), default="on",
                   help="with --github: post the sticky PR comment (default: on)")
    p.add_argument("--check-name", default="gatekeeper",
                   help="with --github: name of the check run / status context")
    p.add_argument("--template-dir", type=Path, default=None,
                   help="folder with report templates that override or {%% extends %%} the "
                        "built-in ones (docs/reports.md)")
    p.add_argument("--base-ref", default=None,
                   help="read the policy (and what it extends) from this git ref instead of the "
                        "working tree; with --github on pull requests the PR's base commit is "
                        "used automatically")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with startup.imports():
        # lazy: numpy and the check families (the gate) stay off `gatekeeper --help` and
        # `--version`, which import every command module to list it
        from gatekeeper.gate import run_gate

    if args.template_dir is not None and not args.template_dir.is_dir():
        raise InputError(f"--template-dir {args.template_dir}: no such folder")
    environ = os.environ  # read here only; everything below gets what it needs passed in
    settings = settings_for_check(environ) if args.github else None
    inputs = gate_inputs(args, settings)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-") as workdir:
        result = run_gate(inputs, Path(workdir))
        report_ctx = ReportContext(
            candidate=result.candidate, baseline=result.baseline, policy=result.policy,
            template_dir=args.template_dir, as_of=inputs.as_of.isoformat(),
            details_url=settings.run_url if settings is not None else None,
            server_url=report_server_url(environ))
        _print(get_reporter(args.format)(result.verdict, report_ctx), github=args.github)
        if args.output_dir is not None:
            _write_outputs(args.output_dir, result.verdict, report_ctx)
        if settings is not None:
            # lazy: requests and the GitHub publishing code stay off checks without --github
            from gatekeeper.commands.check_github import publish_verdict

            # Reporting problems are printed as warnings; they never change the exit code.
            publish_verdict(result.verdict, report_ctx, settings, comment=args.comment == "on",
                            check_name=args.check_name, output_dir=args.output_dir)
    return result.verdict.exit_code


def gate_inputs(args: argparse.Namespace, settings: GitHubSettings | None) -> GateInputs:
    """The command line (and, with --github, the event) as the gate's inputs."""
    # lazy: numpy and the check families stay off `gatekeeper --help` and `--version`
    from gatekeeper.gate import GateInputs

    base_ref, target_branch = args.base_ref, args.target_branch
    if settings is not None:
        # Pull requests, merge groups and pushes are gated by the commit they land on, and the
        # event names it and the target branch: a flag of the workflow (which the change can
        # edit) may not move either.
        trusted = settings.trusted_base()
        if trusted is not None:
            _agrees("--base-ref", base_ref, trusted, "base commit")
            _agrees("--target-branch", target_branch, settings.base_ref, "target branch")
            base_ref = trusted
            target_branch = settings.base_ref or target_branch
        elif target_branch is None:
            target_branch = settings.base_ref
    approvals = None
    if base_ref is not None and settings is not None:
        # lazy: requests and the GitHub client stay off checks without --github
        from gatekeeper.github.reviews import fetch_approvals

        # Read here, passed in as a value: the gate itself asks no platform anything.
        approvals = fetch_approvals(settings)
    return GateInputs(
        bundle=args.bundle, policy=args.policy or DEFAULT_POLICY,
        as_of=args.as_of or datetime.now(timezone.utc).date(), fail_on=args.fail_on,
        registry=args.registry, target_branch=target_branch, base_ref=base_ref,
        github=settings, approvals=approvals)


def _agrees(flag: str, given: str | None, event: str | None, what: str) -> None:
    if given is not None and event is not None and given != event:
        raise InputError(f"{flag} {given} disagrees with the event's {what} {event}: on a "
                         "gating event the event names it (drop the flag)",
                         Location("GITHUB_EVENT_PATH", flag))


def _print(report: str, *, github: bool) -> None:
    if github:
        # The report quotes bundle text; the runner must not read any of it as a workflow
        # command (a line starting with "::"), so commands stop around it.
        token = secrets.token_hex(16)
        sys.stdout.write(f"::stop-commands::{token}\n{report}::{token}::\n")
    else:
        sys.stdout.write(report)


def _write_outputs(out_dir: Path, verdict: Verdict, report_ctx: ReportContext) -> None:
    # lazy: jinja2 and the html, markdown, junit and model-card renderers stay off checks
    # without --output-dir
    from gatekeeper.report.files import write_report_files

    try:
        write_report_files(out_dir, verdict, report_ctx)
    except OSError as exc:
        raise InputError(f"cannot write to output folder {out_dir}: {exc.strerror}") from exc
