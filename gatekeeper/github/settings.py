"""Settings read from a GitHub Actions environment mapping (tests pass a plain dict).

Token lookup order: ``GATEKEEPER_GITHUB_TOKEN`` (what the composite action sets from its
``github-token`` input), then ``INPUT_GITHUB_TOKEN`` (the runner's convention for action
inputs), then ``GITHUB_TOKEN``. Empty values count as unset.

API URL: ``GATEKEEPER_GITHUB_API_URL`` (the action's ``api-url`` input: a step cannot override
``GITHUB_*`` variables), then ``GITHUB_API_URL`` (set by the runner, also on GHES), then
https://api.github.com.

Everything is read here, once: commands parse the environment into a :class:`GitHubSettings`
and pass that on, so no other module looks at ``os.environ`` for GitHub.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper.errors import GitHubError
from gatekeeper.safe_text import one_line

TOKEN_VARIABLES: tuple[str, ...] = ("GATEKEEPER_GITHUB_TOKEN", "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
# An event payload is a few hundred KiB at most; refuse anything absurd before parsing it.
MAX_EVENT_BYTES = 25 * 1024 * 1024
# Who writes gatekeeper's comment. The workflow's GITHUB_TOKEN comments as this bot; an App's
# installation token comments as "<app-slug>[bot]" and a personal token as its user, and neither
# can ask the API who it is (GET /user and GET /app are not open to installation tokens), so a
# token other than GITHUB_TOKEN names its identity in COMMENT_AUTHOR_VARIABLE.
DEFAULT_COMMENT_AUTHOR = "github-actions[bot]"
COMMENT_AUTHOR_VARIABLE = "GATEKEEPER_COMMENT_AUTHOR"

_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class GitHubSettings:
    """Everything gatekeeper needs to know about the workflow run it is part of."""

    token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    repository: str | None = None
    event_name: str | None = None
    event: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    pr_number: int | None = None
    head_sha: str | None = None
    base_ref: str | None = None
    base_sha: str | None = None
    is_fork: bool = False
    step_summary: Path | None = None
    output: Path | None = None
    run_id: str | None = None
    # The login gatekeeper's comments are written by: only its comments are ever updated.
    comment_author: str = DEFAULT_COMMENT_AUTHOR
    # GITHUB_ACTIONS=true: the runner reads workflow commands (such as add-mask) from stdout.
    on_runner: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GitHubSettings:
        repository = _repository(environ)
        event_name = _get(environ, "GITHUB_EVENT_NAME")
        event = _load_event(environ)
        pr_number: int | None = None
        head_sha = _sha(_get(environ, "GITHUB_SHA"), "GITHUB_SHA")
        base_ref = _get(environ, "GITHUB_BASE_REF")
        base_sha: str | None = None
        is_fork = False

        pull = event.get("pull_request") if event_name in PULL_REQUEST_EVENTS else None
        if event_name in PULL_REQUEST_EVENTS and not isinstance(pull, Mapping):
            raise GitHubError(
                f"GITHUB_EVENT_PATH: a {event_name} event without a 'pull_request' object"
            )
        if isinstance(pull, Mapping):
            pr_number = _pr_number(pull.get("number", event.get("number")))
            head = _mapping(pull.get("head"), "pull_request.head")
            base = _mapping(pull.get("base"), "pull_request.base")
            head_sha = _sha(head.get("sha"), "GITHUB_EVENT_PATH: pull_request.head.sha")
            base_sha = _sha(base.get("sha"), "GITHUB_EVENT_PATH: pull_request.base.sha")
            base_ref = _str_or_none(base.get("ref")) or base_ref
            base_repo = _mapping(base.get("repo"), "pull_request.base.repo").get("full_name")
            head_repo = head.get("repo")
            # A deleted fork has head.repo == null: treat it as a fork (least privilege).
            head_name = head_repo.get("full_name") if isinstance(head_repo, Mapping) else None
            is_fork = head_name is None or head_name != (base_repo or repository)
        elif event_name == "merge_group":
            group = _mapping(event.get("merge_group"), "merge_group")
            head_sha = _sha(group.get("head_sha"), "GITHUB_EVENT_PATH: merge_group.head_sha")
            base_sha = _sha(group.get("base_sha"), "GITHUB_EVENT_PATH: merge_group.base_sha")
            ref = _str_or_none(group.get("base_ref"))
            base_ref = ref.removeprefix("refs/heads/") if ref else base_ref

        return cls(
            token=_token(environ),
            api_url=_url(
                environ,
                "GATEKEEPER_GITHUB_API_URL",
                _url(environ, "GITHUB_API_URL", DEFAULT_API_URL),
            ),
            server_url=_url(environ, "GITHUB_SERVER_URL", DEFAULT_SERVER_URL),
            repository=repository,
            event_name=event_name,
            event=event,
            pr_number=pr_number,
            head_sha=head_sha,
            base_ref=base_ref,
            base_sha=base_sha,
            is_fork=is_fork,
            step_summary=_path(environ, "GITHUB_STEP_SUMMARY"),
            output=_path(environ, "GITHUB_OUTPUT"),
            run_id=_get(environ, "GITHUB_RUN_ID"),
            comment_author=_comment_author(environ),
            on_runner=environ.get("GITHUB_ACTIONS") == "true",
        )

    @property
    def run_url(self) -> str | None:
        """The workflow run's page: where the full report lives when the comment had to be cut."""
        if self.repository is None or self.run_id is None:
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    def require_token(self) -> str:
        if not self.token:
            raise GitHubError(f"no GitHub token: set one of {', '.join(TOKEN_VARIABLES)}")
        return self.token

    def require_repository(self) -> str:
        if self.repository is None:
            raise GitHubError("GITHUB_REPOSITORY is not set (expected 'owner/name')")
        return self.repository


def settings_for_check(environ: Mapping[str, str]) -> GitHubSettings | None:
    """Settings for ``check --github``, or None (after a warning on stderr) to report locally.

    On a pull-request event a broken environment stops the gate instead: without the event there
    is no PR base to read the policy from, and gating with the PR's own policy would let the PR
    choose its rules.
    """
    try:
        return GitHubSettings.from_environ(environ)
    except GitHubError as exc:
        if environ.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS:
            raise
        # What happens, then why: only this function still knows the reason.
        print("gatekeeper: warning: GitHub settings unavailable; reporting locally",
              file=sys.stderr)
        print(f"gatekeeper: warning: {one_line(f'GitHub reporting skipped: {exc}')}",
              file=sys.stderr)
        return None


def report_server_url(environ: Mapping[str, str]) -> str:
    """``GITHUB_SERVER_URL`` as given, for the commit links of every report (GHES), with or
    without ``--github``; only ever a link target, so it is not validated like the API URL."""
    return environ.get("GITHUB_SERVER_URL", DEFAULT_SERVER_URL)


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value if value else None


def _token(environ: Mapping[str, str]) -> str | None:
    for name in TOKEN_VARIABLES:
        value = _get(environ, name)
        if value is not None:
            return value.strip()
    return None


def _comment_author(environ: Mapping[str, str]) -> str:
    return (environ.get(COMMENT_AUTHOR_VARIABLE) or "").strip() or DEFAULT_COMMENT_AUTHOR


def _repository(environ: Mapping[str, str]) -> str | None:
    value = _get(environ, "GITHUB_REPOSITORY")
    if value is None:
        return None
    if not _REPO_RE.fullmatch(value):
        raise GitHubError(f"GITHUB_REPOSITORY must look like 'owner/name', got {value!r}")
    return value


def _url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = _get(environ, name) or default
    if not value.startswith(("https://", "http://")):
        raise GitHubError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    value = _get(environ, name)
    return Path(value) if value else None


def _load_event(environ: Mapping[str, str]) -> Mapping[str, Any]:
    value = _get(environ, "GITHUB_EVENT_PATH")
    if value is None:
        return {}
    path = Path(value)
    try:
        if path.stat().st_size > MAX_EVENT_BYTES:
            raise GitHubError(f"GITHUB_EVENT_PATH: {path} is larger than {MAX_EVENT_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GitHubError(f"GITHUB_EVENT_PATH: cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GitHubError(f"GITHUB_EVENT_PATH: {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GitHubError(f"GITHUB_EVENT_PATH: {path} must hold a JSON object")
    return data


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise GitHubError(f"GITHUB_EVENT_PATH: '{where}' is missing or not an object")
    return value


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _sha(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA_RE.fullmatch(value):
        raise GitHubError(f"{where}: expected a hex commit sha, got {value!r}")
    return value


def _pr_number(value: object) -> int:
    # bool is an int subclass; a payload saying `true` is malformed, not PR #1.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise GitHubError(
            f"GITHUB_EVENT_PATH: pull_request.number must be a positive int, got {value!r}"
        )
    return value
