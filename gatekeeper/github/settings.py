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
# Events about one pull request whose payload names its base (``pull_request.base.sha``). The
# review events belong here: a workflow re-running the gate on a review (to pick up an approval)
# checks out the PR's merge ref, whose policy is the PR's own.
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                                 "pull_request_review_comment", "pull_request_review_thread"})
# Events that gate a change to a branch. Each names the commit the change lands on (the PR's
# base, the merge group's base, the push's "before"); the policy and the registry record are
# read there, never from the commit under test, which the change itself can edit.
GATING_EVENTS = PULL_REQUEST_EVENTS | {"merge_group", "push"}
_NO_COMMIT = re.compile(r"^0+$")
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
    pushed_branch: str | None = None  # push events to a branch (not a tag)
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
        found = _event_fields(event_name, event, repository, _EventFields(
            head_sha=_sha(_get(environ, "GITHUB_SHA"), "GITHUB_SHA"),
            base_ref=_get(environ, "GITHUB_BASE_REF")))
        pr_number, head_sha, base_ref, base_sha = (found.pr_number, found.head_sha,
                                                   found.base_ref, found.base_sha)
        is_fork, pushed_branch = found.is_fork, found.pushed_branch

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
            pushed_branch=pushed_branch,
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

    def trusted_base(self) -> str | None:
        """The commit whose policy and registry record gate this event (None: an event that
        gates no change, such as workflow_dispatch, where the working tree is the policy).

        Raises GitHubError for a gating event that names no such commit, rather than letting
        the commit under test choose its own rules.
        """
        if self.event_name in PULL_REQUEST_EVENTS:
            return self.base_sha or self.base_ref
        if self.event_name not in GATING_EVENTS or (
                self.event_name == "push" and self.pushed_branch is None):
            return None  # a tag push changes no branch
        if self.base_sha is None:
            what = ("merge_group.base_sha" if self.event_name == "merge_group"
                    else "the push's 'before' commit (a push that creates a branch has none)")
            raise GitHubError(f"a {self.event_name} event is gated by the policy of the commit "
                              f"it lands on, but the event has no {what}: run the gate on the "
                              "pull request, or pass --base-ref")
        return self.base_sha

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

    On an event that gates a change (pull request, merge group, push) a broken environment stops
    the gate instead: without the event there is no base commit to read the policy from, and
    gating with the change's own policy would let the change choose its rules.
    """
    try:
        return GitHubSettings.from_environ(environ)
    except GitHubError as exc:
        if environ.get("GITHUB_EVENT_NAME") in GATING_EVENTS:
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



@dataclass(frozen=True)
class _EventFields:
    """What the event payload says about the change being gated."""

    head_sha: str | None
    base_ref: str | None
    pr_number: int | None = None
    base_sha: str | None = None
    is_fork: bool = False
    pushed_branch: str | None = None


def _event_fields(event_name: str | None, event: Mapping[str, Any], repository: str | None,
                  env: _EventFields) -> _EventFields:
    """The payload's fields for each gating event; ``env`` holds what the runner's variables
    say, which the payload overrides."""
    if event_name in PULL_REQUEST_EVENTS:
        return _pull_request_fields(event_name, event, repository, env)
    if event_name == "merge_group":
        group = _mapping(event.get("merge_group"), "merge_group")
        ref = _str_or_none(group.get("base_ref"))
        return _EventFields(
            head_sha=_sha(group.get("head_sha"), "GITHUB_EVENT_PATH: merge_group.head_sha"),
            base_sha=_sha(group.get("base_sha"), "GITHUB_EVENT_PATH: merge_group.base_sha"),
            base_ref=ref.removeprefix("refs/heads/") if ref else env.base_ref)
    if event_name == "push":
        return _push_fields(event, env)
    return env


def _pull_request_fields(event_name: str, event: Mapping[str, Any], repository: str | None,
                         env: _EventFields) -> _EventFields:
    pull = event.get("pull_request")
    if not isinstance(pull, Mapping):
        raise GitHubError(
            f"GITHUB_EVENT_PATH: a {event_name} event without a 'pull_request' object"
        )
    head = _mapping(pull.get("head"), "pull_request.head")
    base = _mapping(pull.get("base"), "pull_request.base")
    base_repo = _mapping(base.get("repo"), "pull_request.base.repo").get("full_name")
    head_repo = head.get("repo")
    # A deleted fork has head.repo == null: treat it as a fork (least privilege).
    head_name = head_repo.get("full_name") if isinstance(head_repo, Mapping) else None
    return _EventFields(
        pr_number=_pr_number(pull.get("number", event.get("number"))),
        head_sha=_sha(head.get("sha"), "GITHUB_EVENT_PATH: pull_request.head.sha"),
        base_sha=_sha(base.get("sha"), "GITHUB_EVENT_PATH: pull_request.base.sha"),
        base_ref=_str_or_none(base.get("ref")) or env.base_ref,
        is_fork=head_name is None or head_name != (base_repo or repository))


def _push_fields(event: Mapping[str, Any], env: _EventFields) -> _EventFields:
    before = _str_or_none(event.get("before"))
    base_sha = None
    # A push that creates the branch has no earlier commit: "before" is all zeros.
    if before is not None and not _NO_COMMIT.fullmatch(before):
        base_sha = _sha(before, "GITHUB_EVENT_PATH: before")
    ref = _str_or_none(event.get("ref"))
    if ref is None or not ref.startswith("refs/heads/"):
        return _EventFields(head_sha=env.head_sha, base_ref=env.base_ref, base_sha=base_sha)
    branch = ref.removeprefix("refs/heads/")
    return _EventFields(head_sha=env.head_sha, base_ref=branch, base_sha=base_sha,
                        pushed_branch=branch)


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
