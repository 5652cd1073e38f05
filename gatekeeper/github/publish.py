"""Publish a verdict to GitHub: job summary, step outputs, the sticky comment and the check.

:func:`decide_route` fixes, before any request, where the comment and the check go; then one
step per output runs in a fixed order (summary, comment, check, outputs). Reporting must never
change the gate's exit code, so every step turns a reporting failure into a warning in the
result instead of raising.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gatekeeper.errors import GitHubError
from gatekeeper.github.checks import CHECK_CONCLUSIONS, publish_check
from gatekeeper.github.client import GitHubAPIError, GitHubClient
from gatekeeper.github.comment import truncate_comment, upsert_comment, with_marker
from gatekeeper.github.runner import (
    Annotation,
    add_mask,
    append_summary,
    format_annotation,
    write_outputs,
)
from gatekeeper.github.settings import GitHubSettings
from gatekeeper.inputs.atomic import OutputError, write_all_atomic

RELAY_SCHEMA = "gatekeeper.relay/v1"
RELAY_FILE = "relay.json"
# What publish cannot do must not hide the verdict: these are the failures it reports as warnings.
_REPORTING_ERRORS = (GitHubError, OutputError, OSError, requests.RequestException, ValueError)
FORK_NO_CHECK = (
    "fork pull request: no check is posted for a fork PR (its token is read-only, and the "
    "workflow_run relay posts only the comment); a trusted run must set the required check"
)
FORK_COMMENT_FILE = (
    "fork pull request: the token is read-only, so the comment was written "
    "to a file for the workflow_run relay"
)
NO_CREDENTIALS_COMMENT = "no GitHub token or repository: the comment was not posted"
NO_CREDENTIALS_CHECK = "no GitHub token or repository: no check was set"


class Route(enum.Enum):
    """Where the comment and the check go. The job summary, annotations and step outputs are
    written on every route."""

    # A token and a repository: the sticky comment on the PR, the check on its head commit.
    POST = "post"
    # A fork PR's read-only token: the comment goes to a file for the workflow_run relay, and
    # no check is set (a fork's run cannot vouch for its own verdict).
    RELAY = "relay"
    # No token or repository: the comment goes to a file, no check is set.
    SUMMARY_ONLY = "summary-only"
    # Never decided up front: what POST became because GitHub refused the comment (403/404,
    # e.g. a token without pull-requests: write); the comment went to a file, the check was
    # still tried.
    DEGRADED = "degraded"


@dataclass(frozen=True)
class PublishRequest:
    status: str  # "pass" | "warn" | "block"
    policy_name: str
    check_name: str
    title: str
    comment_markdown: str
    summary_markdown: str
    annotations: tuple[Annotation, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)
    comment_enabled: bool = True
    comment_file: Path | None = None

    def __post_init__(self) -> None:
        if self.status not in CHECK_CONCLUSIONS:
            raise ValueError(f"status must be one of {sorted(CHECK_CONCLUSIONS)}")


@dataclass(frozen=True)
class PublishResult:
    actions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # Workflow commands (mask, annotations) for the CLI to print to stdout, in this order.
    commands: tuple[str, ...] = ()
    comment_url: str | None = None
    check_url: str | None = None
    comment_file: Path | None = None
    relay_file: Path | None = None
    route: Route | None = None  # None: not a publish (the workflow_run relay, for one)


def write_relay_files(request: PublishRequest, pr_number: int, head_sha: str) -> tuple[Path, Path]:
    """Write the comment and ``relay.json`` beside it for the ``workflow_run`` relay: both or
    neither, each replaced atomically (never written through a symlink)."""
    if request.comment_file is None:
        raise ValueError("no comment_file to write")
    path = request.comment_file
    path.parent.mkdir(parents=True, exist_ok=True)
    relay = path.parent / RELAY_FILE
    comment = truncate_comment(with_marker(request.comment_markdown, request.policy_name))
    relay_text = (
        json.dumps(
            {
                "schema": RELAY_SCHEMA,
                "pr_number": pr_number,
                "head_sha": head_sha,
                "policy_name": request.policy_name,
                "check_name": request.check_name,
                "status": request.status,
                "title": request.title,
                "comment_file": path.name,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    write_all_atomic({path: comment, relay: relay_text})
    return path, relay


def decide_route(settings: GitHubSettings, *, has_client: bool) -> Route:
    """The route for this run: a pure function of the settings, made before any request."""
    if settings.is_fork:
        return Route.RELAY
    if has_client and settings.token and settings.repository is not None:
        return Route.POST
    return Route.SUMMARY_ONLY


@dataclass
class _Publishing:
    """One publish in progress: its inputs, its route, and what the steps did so far."""

    settings: GitHubSettings
    client: GitHubClient | None
    request: PublishRequest
    route: Route
    comment_refused: bool = False
    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    comment_url: str | None = None
    check_url: str | None = None
    comment_file: Path | None = None
    relay_file: Path | None = None

    def warn(self, what: str, exc: BaseException) -> None:
        text = f"{what}: {exc}"
        self.warnings.append(self.client.redact(text) if self.client is not None else text)

    def result(self) -> PublishResult:
        return PublishResult(
            actions=tuple(self.actions),
            warnings=tuple(self.warnings),
            commands=_commands(self.settings, self.request),
            comment_url=self.comment_url,
            check_url=self.check_url,
            comment_file=self.comment_file,
            relay_file=self.relay_file,
            route=Route.DEGRADED if self.comment_refused else self.route,
        )


def publish(
    settings: GitHubSettings, client: GitHubClient | None, request: PublishRequest
) -> PublishResult:
    """Publish ``request`` on the route the settings allow; never raises for reporting.

    Only comments by ``settings.comment_author`` (the login the token comments as) are updated.
    """
    run = _Publishing(
        settings, client, request, decide_route(settings, has_client=client is not None)
    )
    for step in _STEPS:
        step(run)
    return run.result()


def _commands(settings: GitHubSettings, request: PublishRequest) -> tuple[str, ...]:
    """Workflow commands for the CLI to print: mask the token first, then the annotations."""
    mask = (add_mask(settings.token),) if settings.token else ()
    return mask + tuple(format_annotation(a) for a in request.annotations)


def _write_summary(run: _Publishing) -> None:
    if run.settings.step_summary is None:
        return
    try:
        if append_summary(run.settings.step_summary, run.request.summary_markdown):
            run.warnings.append("job summary truncated to GitHub's 1 MiB limit")
        run.actions.append("summary")
    except _REPORTING_ERRORS as exc:
        run.warn("could not write the job summary", exc)


def _deliver_comment(run: _Publishing) -> None:
    pr = run.settings.pr_number
    if not run.request.comment_enabled or pr is None:
        return
    if run.route is Route.RELAY:
        _write_comment_file(run, FORK_COMMENT_FILE)
    elif run.route is Route.SUMMARY_ONLY:
        _write_comment_file(run, NO_CREDENTIALS_COMMENT)
    else:
        _post_comment(run, pr)


def _post_comment(run: _Publishing, pr: int) -> None:
    client, repo = run.client, run.settings.repository
    assert client is not None and repo is not None  # Route.POST
    try:
        posted = upsert_comment(
            client,
            repo,
            pr,
            run.request.policy_name,
            run.request.comment_markdown,
            author=run.settings.comment_author,
        )
    except GitHubAPIError as exc:
        if exc.status not in (403, 404):
            run.warn("could not post the PR comment", exc)
            return
        run.comment_refused = True
        _write_comment_file(
            run,
            client.redact(
                f"cannot post the PR comment ({exc}); "
                "wrote it to a file for the workflow_run relay"
            ),
        )
        return
    except _REPORTING_ERRORS as exc:
        run.warn("could not post the PR comment", exc)
        return
    run.comment_url = posted.url
    run.actions.append(f"comment-{posted.action}")


def _write_comment_file(run: _Publishing, reason: str) -> None:
    """The comment was not posted (``reason``): write it, and relay.json, for the relay."""
    run.warnings.append(reason)
    pr, head_sha = run.settings.pr_number, run.settings.head_sha
    if run.request.comment_file is None or pr is None or head_sha is None:
        return
    try:
        run.comment_file, run.relay_file = write_relay_files(run.request, pr, head_sha)
        run.actions.append("comment-file")
    except _REPORTING_ERRORS as exc:
        run.warn("could not write the comment file", exc)


def _set_check(run: _Publishing) -> None:
    if run.route is Route.RELAY:
        run.warnings.append(FORK_NO_CHECK)  # even without a commit: the reason must be seen
        return
    head_sha = run.settings.head_sha
    if head_sha is None:
        return
    if run.route is Route.SUMMARY_ONLY:
        run.warnings.append(NO_CREDENTIALS_CHECK)
    else:
        _post_check(run, head_sha)


def _post_check(run: _Publishing, head_sha: str) -> None:
    client, repo = run.client, run.settings.repository
    assert client is not None and repo is not None  # Route.POST
    try:
        check = publish_check(
            client,
            repo,
            head_sha,
            name=run.request.check_name,
            status=run.request.status,
            title=run.request.title,
            summary=run.request.summary_markdown,
            annotations=run.request.annotations,
            details_url=run.settings.run_url,
        )
    except _REPORTING_ERRORS as exc:
        run.warn("could not set the check", exc)
        return
    run.check_url = check.url
    run.actions.append(check.kind)
    if check.fallback_reason:
        run.warnings.append(
            f"could not create a check run ({check.fallback_reason}); set a commit status instead"
        )


def _write_step_outputs(run: _Publishing) -> None:
    if run.settings.output is None:
        return
    outputs = dict(run.request.outputs)
    outputs.setdefault("comment-url", run.comment_url or "")
    outputs.setdefault("comment-file", str(run.comment_file) if run.comment_file else "")
    try:
        write_outputs(run.settings.output, outputs)
        run.actions.append("outputs")
    except _REPORTING_ERRORS as exc:
        run.warn("could not write the step outputs", exc)


# The order is part of the contract: the outputs name the comment's URL or file, so they come
# after the comment; warnings and actions are reported in this order.
_STEPS: tuple[Callable[[_Publishing], None], ...] = (
    _write_summary,
    _deliver_comment,
    _set_check,
    _write_step_outputs,
)


def client_for(
    settings: GitHubSettings, session: requests.Session | None = None
) -> GitHubClient | None:
    """A client for the settings' API and token; None without a token (nothing is posted)."""
    return GitHubClient(settings.api_url, settings.token, session) if settings.token else None
