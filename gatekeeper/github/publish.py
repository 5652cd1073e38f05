"""Publish a verdict to GitHub: job summary, step outputs, the sticky comment and the check.

Reporting must never change the gate's exit code, so :func:`publish` turns every reporting
failure into a warning in its result instead of raising.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gatekeeper.errors import GitHubError
from gatekeeper.github.checks import CHECK_CONCLUSIONS, publish_check
from gatekeeper.github.client import GitHubAPIError, GitHubClient
from gatekeeper.github.comment import (
    DEFAULT_COMMENT_AUTHOR,
    comment_author_from_environ,
    truncate_comment,
    upsert_comment,
    with_marker,
)
from gatekeeper.github.runner import (
    Annotation,
    add_mask,
    append_summary,
    format_annotation,
    write_outputs,
)
from gatekeeper.github.settings import GitHubSettings

RELAY_SCHEMA = "gatekeeper.relay/v1"
RELAY_FILE = "relay.json"
# What publish cannot do must not hide the verdict: these are the failures it reports as warnings.
_REPORTING_ERRORS = (GitHubError, OSError, requests.RequestException, ValueError)
FORK_NO_CHECK = (
    "fork pull request: no check is posted for a fork PR (its token is read-only, and the "
    "workflow_run relay posts only the comment); a trusted run must set the required check"
)


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


def write_relay_files(request: PublishRequest, pr_number: int, head_sha: str) -> tuple[Path, Path]:
    """Write the comment and ``relay.json`` beside it for the ``workflow_run`` relay."""
    if request.comment_file is None:
        raise ValueError("no comment_file to write")
    path = request.comment_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        truncate_comment(with_marker(request.comment_markdown, request.policy_name)),
        encoding="utf-8",
    )
    relay = path.parent / RELAY_FILE
    relay.write_text(
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
        + "\n",
        encoding="utf-8",
    )
    return path, relay


def publish(
    settings: GitHubSettings,
    client: GitHubClient | None,
    request: PublishRequest,
    comment_author: str = DEFAULT_COMMENT_AUTHOR,
) -> PublishResult:
    """``comment_author`` is the login the token comments as: only its comments are updated."""
    actions: list[str] = []
    warnings: list[str] = []
    commands: list[str] = []
    comment_url: str | None = None
    check_url: str | None = None
    comment_file: Path | None = None
    relay_file: Path | None = None

    if settings.token:
        commands.append(add_mask(settings.token))
    commands.extend(format_annotation(a) for a in request.annotations)

    def warn(what: str, exc: BaseException) -> None:
        text = f"{what}: {exc}"
        warnings.append(client.redact(text) if client is not None else text)

    if settings.step_summary is not None:
        try:
            if append_summary(settings.step_summary, request.summary_markdown):
                warnings.append("job summary truncated to GitHub's 1 MiB limit")
            actions.append("summary")
        except _REPORTING_ERRORS as exc:
            warn("could not write the job summary", exc)

    repo = settings.repository
    can_post = client is not None and bool(settings.token) and repo is not None
    pr = settings.pr_number
    head_sha = settings.head_sha

    def degrade(reason: str) -> None:
        nonlocal comment_file, relay_file
        warnings.append(reason)
        if request.comment_file is None or pr is None or head_sha is None:
            return
        try:
            comment_file, relay_file = write_relay_files(request, pr, head_sha)
            actions.append("comment-file")
        except _REPORTING_ERRORS as exc:
            warn("could not write the comment file", exc)

    if request.comment_enabled and pr is not None:
        if settings.is_fork:
            degrade(
                "fork pull request: the token is read-only, so the comment was written "
                "to a file for the workflow_run relay"
            )
        elif not can_post:
            degrade("no GitHub token or repository: the comment was not posted")
        else:
            assert client is not None and repo is not None
            try:
                posted = upsert_comment(
                    client,
                    repo,
                    pr,
                    request.policy_name,
                    request.comment_markdown,
                    author=comment_author,
                )
                comment_url = posted.url
                actions.append(f"comment-{posted.action}")
            except GitHubAPIError as exc:
                if exc.status in (403, 404):
                    degrade(
                        client.redact(
                            f"cannot post the PR comment ({exc}); "
                            "wrote it to a file for the workflow_run relay"
                        )
                    )
                else:
                    warn("could not post the PR comment", exc)
            except _REPORTING_ERRORS as exc:
                warn("could not post the PR comment", exc)

    if settings.is_fork:
        warnings.append(FORK_NO_CHECK)
    elif can_post and head_sha is not None:
        assert client is not None and repo is not None
        try:
            check = publish_check(
                client,
                repo,
                head_sha,
                name=request.check_name,
                status=request.status,
                title=request.title,
                summary=request.summary_markdown,
                annotations=request.annotations,
                details_url=settings.run_url,
            )
            check_url = check.url
            actions.append(check.kind)
            if check.fallback_reason:
                warnings.append(
                    f"could not create a check run ({check.fallback_reason}); "
                    "set a commit status instead"
                )
        except _REPORTING_ERRORS as exc:
            warn("could not set the check", exc)
    elif head_sha is not None:
        warnings.append("no GitHub token or repository: no check was set")

    if settings.output is not None:
        outputs = dict(request.outputs)
        outputs.setdefault("comment-url", comment_url or "")
        outputs.setdefault("comment-file", str(comment_file) if comment_file else "")
        try:
            write_outputs(settings.output, outputs)
            actions.append("outputs")
        except _REPORTING_ERRORS as exc:
            warn("could not write the step outputs", exc)

    return PublishResult(
        actions=tuple(actions),
        warnings=tuple(warnings),
        commands=tuple(commands),
        comment_url=comment_url,
        check_url=check_url,
        comment_file=comment_file,
        relay_file=relay_file,
    )


def publish_from_environ(
    environ: Mapping[str, str],
    request: PublishRequest,
    session: requests.Session | None = None,
) -> PublishResult:
    """Build settings and a client from ``environ`` and publish; never raises for reporting."""
    try:
        settings = GitHubSettings.from_environ(environ)
    except GitHubError as exc:
        return PublishResult(warnings=(f"GitHub reporting skipped: {exc}",))
    client = GitHubClient(settings.api_url, settings.token, session) if settings.token else None
    return publish(settings, client, request, comment_author_from_environ(environ))
