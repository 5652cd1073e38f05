"""The sticky PR comment: one per policy, found by a hidden marker and updated in place.

The marker is part of the rendered comment (the report files' comment.md starts with it too), so
:mod:`gatekeeper.report.comment` defines it; this module only looks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gatekeeper.github.client import GitHubClient
from gatekeeper.github.settings import DEFAULT_COMMENT_AUTHOR
from gatekeeper.report.comment import MARKER_PREFIX, marker

COMMENT_LIMIT = 65536  # characters, GitHub's limit for an issue comment body
TRUNCATION_NOTE = (
    "\n\n---\n> **Report truncated**: GitHub limits a comment to 65,536 characters. "
    "The full report is in the job summary and the uploaded artifact.\n"
)


def with_marker(body: str, policy_name: str) -> str:
    mark = marker(policy_name)
    return body if body.startswith(mark) else f"{mark}\n{body}"


def truncate_comment(body: str, limit: int = COMMENT_LIMIT) -> str:
    """Cut ``body`` to ``limit`` characters, keeping the marker line and ending with a note."""
    if len(body) <= limit:
        return body
    first_line, _, _ = body.partition("\n")
    mark = first_line if first_line.startswith(MARKER_PREFIX) else ""
    room = limit - len(TRUNCATION_NOTE) - len("\n```")
    if room <= len(mark):
        raise ValueError(f"comment limit {limit} is too small for the marker and the note")
    cut = body[:room]
    newline = cut.rfind("\n")
    if newline > max(len(mark), room - 2000):
        cut = cut[:newline]
    if cut.count("```") % 2 == 1:
        cut += "\n```"  # close a code block that the cut left open
    return cut + TRUNCATION_NOTE


@dataclass(frozen=True)
class CommentResult:
    action: str  # "created" | "updated"
    comment_id: int
    url: str | None


def written_by(comment: Mapping[str, object], author: str) -> bool:
    """Whether ``author`` wrote ``comment``: the login (case-insensitive, as on GitHub) and, for a
    "[bot]" login, the account type, so a user account can never pass for the bot."""
    user = comment.get("user")
    if not isinstance(user, Mapping):
        return False
    login, kind = user.get("login"), user.get("type")
    if not isinstance(login, str) or login.lower() != author.lower():
        return False
    return kind == "Bot" if author.lower().endswith("[bot]") else True


def find_comment(
    client: GitHubClient,
    repo: str,
    pr_number: int,
    mark: str,
    author: str = DEFAULT_COMMENT_AUTHOR,
) -> dict[str, object] | None:
    """The oldest comment by ``author`` whose body starts with ``mark``, over all pages.

    Anyone who can comment on the PR can write the marker; a comment by anyone else is never
    gatekeeper's, or the PR's author could plant one and have the report edited into it.
    """
    for comment in client.paginate(f"/repos/{repo}/issues/{pr_number}/comments"):
        body = comment.get("body")
        if isinstance(body, str) and body.startswith(mark) and written_by(comment, author):
            return comment
    return None


def upsert_comment(
    client: GitHubClient,
    repo: str,
    pr_number: int,
    policy_name: str,
    markdown: str,
    author: str = DEFAULT_COMMENT_AUTHOR,
) -> CommentResult:
    """PATCH gatekeeper's comment for this policy, or POST it when there is none yet."""
    body = truncate_comment(with_marker(markdown, policy_name))
    existing = find_comment(client, repo, pr_number, marker(policy_name), author)
    existing_id = existing.get("id") if existing is not None else None
    if isinstance(existing_id, int):
        response = client.request(
            "PATCH", f"/repos/{repo}/issues/comments/{existing_id}", json={"body": body}
        )
        action = "updated"
    else:
        response = client.request(
            "POST", f"/repos/{repo}/issues/{pr_number}/comments", json={"body": body}
        )
        action = "created"
    data = response.json()
    url = data.get("html_url") if isinstance(data, dict) else None
    new_id = data.get("id") if isinstance(data, dict) else None
    return CommentResult(
        action=action,
        comment_id=new_id if isinstance(new_id, int) else -1,
        url=url if isinstance(url, str) else None,
    )
