"""`gatekeeper check BUNDLE`: load → resolve baseline → evaluate → verdict → report → exit."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.checks.base import check as make_check
from gatekeeper.checks.context import Context
from gatekeeper.checks.waivers import apply_waivers
from gatekeeper.errors import InputError
from gatekeeper.gate import build_verdict
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.models.verdict import CandidateRef, Check, PolicyRef, Verdict
from gatekeeper.policy.loader import LoadedPolicy, load_policy
from gatekeeper.report import REPORTERS, get_reporter
from gatekeeper.report.context import ReportContext

if TYPE_CHECKING:
    from gatekeeper.github.settings import GitHubSettings
    from gatekeeper.policy.source import Fetch

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
    policy_path: Path = args.policy or DEFAULT_POLICY
    if args.template_dir is not None and not args.template_dir.is_dir():
        raise InputError(f"--template-dir {args.template_dir}: no such folder")
    settings = _github_settings() if args.github else None
    base_ref = args.base_ref
    if base_ref is None and settings is not None and settings.pr_number is not None:
        base_ref = settings.base_sha or settings.base_ref
    target_branch = args.target_branch
    if target_branch is None and settings is not None and settings.base_ref:
        target_branch = settings.base_ref
    as_of = args.as_of or datetime.now(timezone.utc).date()

    with tempfile.TemporaryDirectory(prefix="gatekeeper-") as workdir:
        fetch, repo_root = _base_fetcher(base_ref, settings)
        loaded, extra = _load_policy(policy_path, base_ref, target_branch, Path(workdir), fetch,
                                     repo_root)
        bundle = load_bundle(args.bundle)
        policy = loaded.policy
        ctx = Context(policy=loaded, bundle=bundle, as_of=as_of)
        ref = policy.baseline
        registry_uri = args.registry or (ref.registry if ref else None)
        if ref is not None and registry_uri:
            from gatekeeper.baseline.checks import attach

            # A --registry typed on the command line is relative to the cwd; a registry named
            # in the policy is relative to the repository that holds the policy.
            base_dir = Path.cwd() if args.registry else _policy_root(policy_path)
            extra.extend(attach(ctx, registry_uri, Path(workdir), base_dir=base_dir,
                                base_fetch=fetch, repo_root=repo_root))
        elif any(r.vs_baseline for r in policy.metrics):
            raise InputError(
                "the policy compares with a baseline but names no registry: set "
                "baseline.registry or pass --registry", loaded.location("baseline"))
        from gatekeeper.checks.families import evaluate

        checks = [*extra, *evaluate(ctx)]
        checks = apply_waivers(checks, policy.waivers, as_of)
        verdict = build_verdict(
            checks=checks,
            fail_on=args.fail_on,
            policy=PolicyRef(name=policy.metadata.name, version=policy.metadata.version,
                             sha256=loaded.sha256, path=str(policy_path),
                             target_branch=target_branch),
            candidate=CandidateRef(run_id=bundle.run.run_id, model=bundle.run.model,
                                   bundle_sha256=bundle.sha256(), path=str(args.bundle)),
            baseline=ctx.baseline_info,
            rollback_target=ctx.rollback_target,
            rng_seed=policy.stats.seed,
        )
        report_ctx = ReportContext(
            candidate=bundle, baseline=ctx.baseline, policy=loaded,
            template_dir=args.template_dir, as_of=as_of.isoformat(),
            details_url=_run_url(settings),
            server_url=os.environ.get("GITHUB_SERVER_URL", "https://github.com"))
        report = get_reporter(args.format)(verdict, report_ctx)
        if args.github:
            # The report quotes bundle text; the runner must not read any of it as a workflow
            # command (a line starting with "::"), so commands stop around it.
            token = secrets.token_hex(16)
            sys.stdout.write(f"::stop-commands::{token}\n{report}::{token}::\n")
        else:
            sys.stdout.write(report)
        if args.output_dir is not None:
            _write_outputs(args.output_dir, verdict, report_ctx)
        if args.github:
            from gatekeeper.commands.check_github import publish_verdict

            # Reporting problems are printed as warnings; they never change the exit code.
            publish_verdict(verdict, report_ctx, args, os.environ)
    return verdict.exit_code


def _github_settings() -> GitHubSettings | None:
    from gatekeeper.errors import GitHubError
    from gatekeeper.github.settings import PULL_REQUEST_EVENTS, GitHubSettings

    try:
        return GitHubSettings.from_environ(os.environ)
    except GitHubError:
        if os.environ.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS:
            # Without the event we cannot find the PR's base: gating with the PR's own policy
            # instead would let the PR choose its rules. Stop rather than downgrade.
            raise
        print("gatekeeper: warning: GitHub settings unavailable; reporting locally",
              file=sys.stderr)
        return None


def _policy_root(policy_path: Path) -> Path:
    from gatekeeper.repo.git import git_toplevel

    folder = policy_path.resolve().parent
    return git_toplevel(folder) or folder


def _base_fetcher(base_ref: str | None, settings: GitHubSettings | None
                  ) -> tuple[Fetch | None, Path | None]:
    """How to read files at the PR's base commit (git, or the contents API), and the repo."""
    if base_ref is None:
        return None, None
    from gatekeeper.policy.source import fetcher_for
    from gatekeeper.repo.git import git_toplevel

    repo = git_toplevel(Path.cwd())
    if repo is None:
        raise InputError(f"--base-ref {base_ref} needs a git checkout (none at {Path.cwd()})")
    return fetcher_for(repo, base_ref, settings), repo


def _load_policy(policy_path: Path, base_ref: str | None, target_branch: str | None,
                 workdir: Path, fetch: Fetch | None, repo: Path | None
                 ) -> tuple[LoadedPolicy, list[Check]]:
    """The policy to gate with, and checks that describe how it changed in this PR."""
    if base_ref is None or fetch is None or repo is None:
        return load_policy(policy_path, target_branch=target_branch), []
    from gatekeeper.policy.diff import loosenings
    from gatekeeper.policy.source import materialize, repo_relative

    rel = repo_relative(policy_path, repo)
    base_path = materialize(rel, fetch, workdir / "base-policy")
    if base_path is None:
        head = load_policy(policy_path, target_branch=target_branch)
        return head, [make_check("policy:changed", "warn",
                                 f"{rel} does not exist on the base ({base_ref}): this PR adds "
                                 "the policy that gates it, so it needs approval")]
    base = load_policy(base_path, target_branch=target_branch, display=f"{rel}@{base_ref[:12]}",
                       root=workdir / "base-policy")
    from gatekeeper.policy.textdiff import unified_diff

    base_text = base_path.read_text(encoding="utf-8")
    try:
        head_text = policy_path.read_text(encoding="utf-8")
    except OSError:
        head_text = None
    diff = unified_diff(base_text, head_text, rel)
    if not diff:
        return base, []
    notes = [f"diff of {rel} (the base version gates this PR):", *diff.splitlines()[:80]]
    try:
        head = load_policy(policy_path, target_branch=target_branch)
    except InputError as exc:
        return base, [make_check("policy:changed", "warn",
                                 f"this PR changes {rel} and the new version does not load "
                                 f"({exc}); the base version was used", notes=notes)]
    loose = loosenings(base.policy, head.policy)
    if loose:
        return base, [make_check("policy:loosened", "warn",
                                 f"this PR loosens {rel} ({'; '.join(loose)}): the base version "
                                 "was used, and the change needs approval", notes=notes)]
    return base, [make_check("policy:changed", "pass",
                             f"this PR changes {rel} without loosening it; the base version "
                             "was used", notes=notes)]


def _run_url(settings: GitHubSettings | None) -> str | None:
    """Where the full report lives when the comment had to be cut: the workflow run."""
    if settings is None or not settings.repository or not settings.run_id:
        return None
    return f"{settings.server_url}/{settings.repository}/actions/runs/{settings.run_id}"


def _write_outputs(out_dir: Path, verdict: Verdict, report_ctx: ReportContext) -> None:
    from gatekeeper.report.files import write_report_files

    try:
        write_report_files(out_dir, verdict, report_ctx)
    except OSError as exc:
        raise InputError(f"cannot write to output folder {out_dir}: {exc.strerror}") from exc
