"""One job, start to end: the installation's client → the PR(s) → the bundle artifact → the
policy and registry entry at the base commit → ``run_gate`` → the check run and the comment.

Anything that stops an evaluation (a refused artifact, a missing policy, GitHub failing after
its retries) becomes a failing check that says why: a required check must never pass, or go
missing silently, because the evidence could not be judged.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gatekeeper.app import basefiles
from gatekeeper.app.artifact import NoRedirects, download_artifact, find_artifact
from gatekeeper.app.auth import AppAuth
from gatekeeper.app.config import AppConfig
from gatekeeper.app.events import Job
from gatekeeper.app.publish import CheckOutput, find_check_run, upsert_check_run, upsert_sticky
from gatekeeper.app.unzip import safe_extract
from gatekeeper.errors import GatekeeperError, GitHubError
from gatekeeper.gate import GateInputs, GateResult, run_gate
from gatekeeper.github.client import GitHubClient
from gatekeeper.github.reviews import approving_reviews
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.policy.changes import Approvals, BaseSource
from gatekeeper.policy.loader import load_policy
from gatekeeper.report import get_reporter
from gatekeeper.report.comment import marker, render_comment
from gatekeeper.report.context import ReportContext


@dataclass
class Service:
    """What every job of a process shares: the settings and the App's credentials."""

    config: AppConfig
    auth: AppAuth
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Outcome:
    verdict: str  # pass | warn | block | error | superseded | no-pr | no-run
    prs: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    message: str = ""


def evaluate(job: Job, svc: Service) -> Outcome:
    installation = svc.auth.installation_id(job.repo, job.installation_id)
    client = svc.auth.installation_client(installation)
    # Every open PR with this head, not only those the payload names: the check run belongs to
    # the commit, so it must hold for each PR it is required on (see _publish).
    prs = sorted(set(job.prs) | set(_open_prs(client, job)))
    if not prs:
        return Outcome("no-pr", message=f"no open pull request has head {job.head_sha[:12]}")
    run_id = job.run_id or _judged_run(client, job, svc.config)
    if run_id is None:
        # A review or re-request before the evidence workflow finished: nothing to judge yet,
        # and nothing to post (the required check is simply not there until it finishes).
        return Outcome("no-run", list(prs), message=f"no {svc.config.workflow} run has been "
                                                   f"judged on {job.head_sha[:12]} yet")
    judged: list[Judged] = []
    skipped: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="gatekeeper-app-") as tmp:
        work = Path(tmp)
        evidence = _evidence(svc, installation, job, run_id, work)
        for pr in prs:
            one = _one_pr(svc, client, job, pr, run_id, evidence, work / f"pr-{pr}")
            if isinstance(one, Judged):
                judged.append(one)
            else:
                skipped.append(one)
    return _publish(svc, client, job, run_id, judged, skipped)


@dataclass(frozen=True)
class Judged:
    """One PR's verdict on the commit, not yet posted."""

    pr: int
    status: str  # pass | warn | block
    judged: bool  # False: could not evaluate (status is block)
    title: str
    summary: str
    comment: str
    policy_name: str
    details: str | None


STRICTNESS = ("pass", "warn", "block")


def _publish(svc: Service, client: GitHubClient, job: Job, run_id: int,
             judged: list[Judged], skipped: list[Outcome]) -> Outcome:
    """One check run per commit, carrying the strictest of its PRs' verdicts: two PRs of one
    head to different base branches (one to a laxer policy or branch rule) must not let the
    lax one's success stand for the strict one's. One comment per PR, each with its own."""
    if not judged:
        return _combine(skipped)
    config = svc.config
    worst = max(judged, key=lambda j: STRICTNESS.index(j.status))
    summary = worst.summary
    if len(judged) > 1:
        summary = (f"This commit is the head of PRs {', '.join(f'#{j.pr}' for j in judged)}; "
                   f"the check carries the strictest verdict, PR #{worst.pr}'s.\n\n{summary}")
    # A failed evidence run is not recorded: a re-request must not judge its artifact.
    external = run_id if job.run_conclusion in (None, "success") else None
    check = upsert_check_run(client, job.repo, job.head_sha, config.check_name, config.app_id,
                             CheckOutput.for_status(worst.status, worst.title, summary,
                                                    external, worst.details))
    outcomes = [Outcome(j.status if j.judged else "error", [j.pr],
                        [check] if j is worst else [], j.title) for j in judged]
    for j, outcome in zip(judged, outcomes, strict=True):
        outcome.actions.append(upsert_sticky(client, job.repo, j.pr, j.policy_name, j.comment,
                                             svc.auth.bot_login()))
    return _combine(outcomes + skipped)


def _open_prs(client: GitHubClient, job: Job) -> list[int]:
    """A fork PR's workflow_run lists no pull requests: ask which PRs have the head commit."""
    pulls = client.paginate(f"/repos/{job.repo}/commits/{job.head_sha}/pulls")
    return sorted({p["number"] for p in pulls
                   if isinstance(p.get("number"), int) and p.get("state") == "open"})


def _judged_run(client: GitHubClient, job: Job, config: AppConfig) -> int | None:
    """A re-request names no workflow run: the App's check run on the commit recorded it."""
    found = find_check_run(client, job.repo, job.head_sha, config.check_name, config.app_id)
    external = found.get("external_id") if found is not None else None
    return int(external) if isinstance(external, str) and external.isdigit() else None


def _evidence(svc: Service, installation: int, job: Job, run_id: int,
              work: Path) -> Path | GatekeeperError:
    """The unpacked bundle, or why there is none (reported on every PR's check)."""
    config = svc.config
    if job.run_conclusion not in (None, "success"):
        return GitHubError(f"the evidence workflow run {run_id} concluded "
                           f"{job.run_conclusion!r}: there is no evidence to judge")
    try:
        client = svc.auth.installation_client(installation)
        artifact = find_artifact(client, job.repo, run_id, config.artifact)
        redirecting = svc.auth.installation_client(installation, NoRedirects())
        archive = work / "artifact.zip"
        download_artifact(redirecting, job.repo, artifact, archive, config.environ, svc.sleep)
        bundle = work / "bundle"
        bundle.mkdir()
        safe_extract(archive, bundle, config.environ)
        archive.unlink()
        return bundle
    except GatekeeperError as exc:
        return exc


def _one_pr(svc: Service, client: GitHubClient, job: Job, pr: int, run_id: int | None,
            evidence: Path | GatekeeperError, work: Path) -> Judged | Outcome:
    config = svc.config
    pull = client.get_json(f"/repos/{job.repo}/pulls/{pr}")
    head, base_sha, base_ref = _dig(pull, "head", "sha"), _dig(pull, "base", "sha"), \
        _dig(pull, "base", "ref")
    if head != job.head_sha:
        # A newer push exists: its own evaluation reports; this one must not overwrite it.
        return Outcome("superseded", [pr], message=f"PR #{pr} head is now {str(head)[:12]}")
    if not isinstance(base_sha, str):
        raise GitHubError(f"GET /repos/{job.repo}/pulls/{pr}: no base sha")
    policy_name = Path(config.policy).stem
    server = server_url(config.api_url)
    details = f"{server}/{job.repo}/actions/runs/{run_id}" if run_id else None
    judged = True
    try:
        reader = basefiles.RepoReader(client, job.repo, base_sha, config.environ)
        root = work / "repo"
        policy_path = basefiles.read_policy(reader, config.policy, root)
        branch = base_ref if isinstance(base_ref, str) else None
        policy_name = load_policy(policy_path, target_branch=branch,
                                  root=root).policy.metadata.name
        if isinstance(evidence, GatekeeperError):
            raise evidence
        head_policy = basefiles.read_head_policy(
            basefiles.RepoReader(client, job.repo, job.head_sha, config.environ), config.policy,
            work / "head")
        change = PolicyChange(
            base=BaseSource(base_sha, reader.read_text, work / "head", fetch_at=lambda sha:
                            basefiles.RepoReader(client, job.repo, sha, config.environ).read_text),
            head_policy=head_policy, approvals=_approvals(client, job.repo, pr))
        result = _gate(reader, evidence, policy_path, branch, root, work, change)
        status, title, summary, comment = _rendered(result, details, server)
    except GatekeeperError as exc:
        judged = False
        status, title = "block", "could not evaluate: " + _short(str(exc))
        summary = _failure_text(str(exc), base_sha, config)
        comment = f"{marker(policy_name)}\n### gatekeeper: could not evaluate\n\n{summary}"
    return Judged(pr, status, judged, title, summary, comment, policy_name, details)


@dataclass(frozen=True)
class PolicyChange:
    """What the gate needs to judge the PR's edit of its own policy: the base commit (which
    gates), the head's copy of the policy chain (which is only diffed) and the PR's approvals."""

    base: BaseSource
    head_policy: Path
    approvals: Approvals


def _approvals(client: GitHubClient, repo: str, pr: int) -> Approvals:
    try:
        approved = approving_reviews(client.paginate(f"/repos/{repo}/pulls/{pr}/reviews"))
    except GitHubError as exc:
        return Approvals(unavailable=f"the pull request's reviews could not be read: {exc}")
    return Approvals(tuple(login for login, _ in approved), commits=approved)


def _gate(reader: basefiles.RepoReader, bundle_dir: Path, policy_path: Path,
          branch: str | None, root: Path, work: Path, change: PolicyChange) -> GateResult:
    loaded = load_policy(policy_path, target_branch=branch, root=root)
    ref = loaded.policy.baseline
    registry = None
    raw = ref.registry if ref is not None else None
    if raw and raw.startswith("file:") and not raw[len("file:"):].startswith("/"):
        # A registry in the repository: its entry for the model, read at the base commit.
        model = load_bundle(bundle_dir).run.model
        folder = basefiles.read_file_registry(reader, raw[len("file:"):], model, root)
        registry = f"file:{folder}"
    gate_dir = work / "gate"
    gate_dir.mkdir(parents=True, exist_ok=True)
    # The head's policy is named so that the PR's edits of the chain are diffed and judged
    # (policy:version, policy:approval); the base's copy, read through change.base, gates.
    inputs = GateInputs(bundle=bundle_dir, policy=change.head_policy,
                        as_of=datetime.now(timezone.utc).date(), registry=registry,
                        target_branch=branch, base_ref=change.base.ref, base=change.base,
                        approvals=change.approvals)
    return run_gate(inputs, gate_dir)


def _rendered(result: GateResult, details: str | None, server: str
              ) -> tuple[str, str, str, str]:
    verdict = result.verdict
    ctx = ReportContext(candidate=result.candidate, baseline=result.baseline,
                        policy=result.policy, details_url=details, server_url=server,
                        as_of=verdict.gate.as_of)
    name, counts = verdict.policy.name, verdict.counts
    title = (f"{verdict.verdict}: {counts.block} block, {counts.warn} warn, {counts.passed} pass"
             + (f", {counts.waived} waived" if counts.waived else "")
             + f" ({name}@{verdict.policy.version})")
    summary = get_reporter("markdown")(verdict, ctx)
    comment = render_comment(verdict, ctx, marker=marker(name))
    return verdict.verdict, title, summary, comment


def server_url(api_url: str) -> str:
    """github.com for api.github.com; ``https://HOST`` for GHES's ``https://HOST/api/v3``."""
    parts = urlsplit(api_url)
    if parts.netloc == "api.github.com":
        return "https://github.com"
    return f"{parts.scheme}://{parts.netloc}"


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:199] + "…"


def _failure_text(message: str, base_sha: str, config: AppConfig) -> str:
    quoted = message.replace("`", "'")
    return (f"The gate could not judge this commit, so the check fails:\n\n```\n{quoted}\n```\n\n"
            f"Policy `{config.policy}` and the registry are read at the base commit "
            f"`{base_sha[:12]}`; the evidence is the `{config.artifact}` artifact of the "
            f"`{config.workflow}` run. Fix the cause and re-run the workflow or the check.")


def _combine(outcomes: list[Outcome]) -> Outcome:
    order = ["superseded", "pass", "warn", "error", "block"]
    worst = max(outcomes, key=lambda o: order.index(o.verdict) if o.verdict in order else 0)
    return Outcome(worst.verdict, [p for o in outcomes for p in o.prs],
                   [a for o in outcomes for a in o.actions],
                   "; ".join(o.message for o in outcomes if o.message))


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj
