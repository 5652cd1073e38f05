"""The ``workflow_run`` relay: post a fork PR's stored comment from the base repository,
where the token can write.

Everything in the comment directory came from a run of untrusted PR code: it is parsed as data
only (sizes bounded, types checked) and cross-checked against what GitHub itself says about
the triggering run and the pull request. Even then, the verdict in it is whatever the fork's
workflow (which the fork's author can edit) chose to write. So the relay posts the comment under
a banner saying so, as inert text (no mention, image, link or HTML of the fork's takes effect
under the bot's name), and never posts a check: required checks count success and neutral alike as
passing, so any check posted from the artifact, under any name it chooses, could stand in for
the gate. The gate's check must come from a trusted run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.errors import GitHubError, InputError
from gatekeeper.github.checks import CHECK_CONCLUSIONS
from gatekeeper.github.client import GitHubClient
from gatekeeper.github.comment import COMMENT_LIMIT, marker, truncate_comment, upsert_comment
from gatekeeper.github.publish import RELAY_FILE, RELAY_SCHEMA, PublishResult
from gatekeeper.github.settings import GitHubSettings
from gatekeeper.inputs.nofollow import SymlinkRefused, TooLarge, read_below

MAX_RELAY_BYTES = 64 * 1024
MAX_COMMENT_BYTES = 4 * COMMENT_LIMIT  # UTF-8 is at most 4 bytes per character
_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_NAME_RE = re.compile(r"^[^\x00-\x1f]{1,200}$")
FORK_BANNER = (
    "> [!WARNING]\n"
    "> **Reported by the workflow run of a fork's pull request: not a verified gate result; "
    "the required check must come from a trusted run.**\n"
)
REPORT_SUMMARY = "The fork's report, shown as text"
RELAY_CUT_NOTE = "\n[report truncated to fit GitHub's comment limit]"
_BACKTICKS = re.compile(r"`+")
NO_CHECK_NOTE = (
    "no check was posted: a fork's run can edit the verdict it reports, "
    "so the required check must come from a trusted run"
)


@dataclass(frozen=True)
class RelayData:
    pr_number: int
    head_sha: str
    policy_name: str
    check_name: str
    status: str
    title: str
    comment: str


def _read_bounded(comment_dir: Path, name: str, limit: int) -> str:
    """``comment_dir/name``, opened without following a symlink (the artifact is the fork's
    doing: a symlink in it could make the relay post a file of the runner's)."""
    path = comment_dir / name
    try:
        data = read_below(comment_dir, [name], limit=limit)
    except SymlinkRefused:
        raise GitHubError(f"{path}: is a symlink; the relay reads only regular files") from None
    except TooLarge:
        raise GitHubError(f"{path}: larger than {limit} bytes") from None
    except (InputError, FileNotFoundError):
        raise GitHubError(f"{path}: missing or not a regular file") from None
    except OSError as exc:
        raise GitHubError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GitHubError(f"{path}: not UTF-8 text") from None


def _field(data: dict[str, Any], name: str, kind: type, path: Path) -> Any:
    value = data.get(name)
    # bool is an int subclass: `"pr_number": true` is malformed, not PR #1.
    if not isinstance(value, kind) or isinstance(value, bool):
        noun = "an integer" if kind is int else "a string"
        raise GitHubError(f"{path}: '{name}' must be {noun}")
    return value


def load_relay(comment_dir: Path) -> RelayData:
    """Read and validate ``relay.json`` and the comment file it names."""
    path = comment_dir / RELAY_FILE
    try:
        data = json.loads(_read_bounded(comment_dir, RELAY_FILE, MAX_RELAY_BYTES))
    except json.JSONDecodeError as exc:
        raise GitHubError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GitHubError(f"{path}: must hold a JSON object")
    if data.get("schema") != RELAY_SCHEMA:
        raise GitHubError(f"{path}: 'schema' must be {RELAY_SCHEMA!r}")
    pr_number = _field(data, "pr_number", int, path)
    if pr_number <= 0:
        raise GitHubError(f"{path}: 'pr_number' must be positive")
    head_sha = _field(data, "head_sha", str, path)
    if not _SHA_RE.fullmatch(head_sha):
        raise GitHubError(f"{path}: 'head_sha' must be a hex commit sha")
    status = _field(data, "status", str, path)
    if status not in CHECK_CONCLUSIONS:
        raise GitHubError(f"{path}: 'status' must be one of {sorted(CHECK_CONCLUSIONS)}")
    names = {}
    for key in ("policy_name", "check_name", "title"):
        names[key] = _field(data, key, str, path)
        if not _NAME_RE.fullmatch(names[key]):
            raise GitHubError(f"{path}: '{key}' must be 1-200 printable characters")
    comment_name = _field(data, "comment_file", str, path)
    if not _FILE_RE.fullmatch(comment_name) or comment_name == RELAY_FILE:
        raise GitHubError(f"{path}: 'comment_file' must be a plain file name in {comment_dir}")
    comment = _read_bounded(comment_dir, comment_name, MAX_COMMENT_BYTES)
    if not comment.startswith(marker(names["policy_name"])):
        raise GitHubError(f"{comment_dir / comment_name}: does not start with gatekeeper's marker")
    return RelayData(
        pr_number=pr_number,
        head_sha=head_sha,
        policy_name=names["policy_name"],
        check_name=names["check_name"],
        status=status,
        title=names["title"],
        comment=truncate_comment(comment),
    )


def _verify_against_github(
    settings: GitHubSettings, client: GitHubClient, repo: str, data: RelayData
) -> None:
    """The artifact may claim anything; GitHub's own records decide what it may post to."""
    run = settings.event.get("workflow_run") if settings.event_name == "workflow_run" else None
    if not isinstance(run, dict):
        raise GitHubError("gatekeeper relay must run on a workflow_run event (GITHUB_EVENT_NAME)")
    if run.get("event") not in ("pull_request", "pull_request_target"):
        raise GitHubError(
            f"the triggering run was a {run.get('event')!r} event, not a pull request"
        )
    if run.get("head_sha") != data.head_sha:
        raise GitHubError("relay.json 'head_sha' differs from the triggering run's head_sha")
    pull = client.get_json(f"/repos/{repo}/pulls/{data.pr_number}")
    head = pull.get("head") if isinstance(pull, dict) else None
    if not isinstance(head, dict) or head.get("sha") != data.head_sha:
        raise GitHubError(
            f"pull request #{data.pr_number} is not at {data.head_sha}: refusing to post"
        )


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text``: nothing inside can close it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def fork_report_comment(data: RelayData) -> str:
    """The fork's stored report, inert, below gatekeeper's marker and the fork banner.

    The report is whatever the fork's workflow wrote, posted under the base repository's bot:
    rendered as Markdown it could @-mention people, load images from any server or carry raw
    HTML. As text in a fenced block inside ``<details>`` it stays readable and does none of that.
    """
    mark = marker(data.policy_name)
    report = data.comment[len(mark) :].strip("\n")
    head = f"{mark}\n{FORK_BANNER}\n<details open>\n<summary>{REPORT_SUMMARY}</summary>\n\n"
    tail = "\n</details>\n"
    # Cutting never lengthens a backtick run, so the full report's fence also fits any cut of it.
    fence = _fence(report)
    frame = len(head) + len(tail) + 2 * len(fence) + len("markdown\n\n\n")
    if frame + len(report) > COMMENT_LIMIT:
        room = COMMENT_LIMIT - frame - len(RELAY_CUT_NOTE)
        if room > 0:
            report = report[:room] + RELAY_CUT_NOTE
        else:  # a report of little but backticks: its fence alone would not fit
            report, fence = RELAY_CUT_NOTE.strip(), "```"
    return f"{head}{fence}markdown\n{report}\n{fence}\n{tail}"


def relay(settings: GitHubSettings, client: GitHubClient, comment_dir: Path) -> PublishResult:
    """Post the stored sticky comment, marked as a fork's report, on the PR in ``relay.json``.

    ``status``, ``check_name`` and ``title`` in ``relay.json`` are validated but not acted on:
    no check is created from them (see the module docstring).
    """
    repo = settings.require_repository()
    settings.require_token()
    data = load_relay(comment_dir)
    _verify_against_github(settings, client, repo, data)
    body = fork_report_comment(data)
    posted = upsert_comment(
        client, repo, data.pr_number, data.policy_name, body, author=settings.comment_author
    )
    return PublishResult(
        actions=(f"comment-{posted.action}",),
        warnings=(NO_CHECK_NOTE,),
        comment_url=posted.url,
    )
