"""Who approved a pull request: its reviews through GitHub's pull request reviews API.

``GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`` lists every review in chronological
order. A reviewer's latest decisive review counts (APPROVED, CHANGES_REQUESTED or DISMISSED;
a COMMENTED review does not withdraw an approval, as on GitHub), so an approval that was
dismissed, or followed by a request for changes, approves nothing. A merge group's pull request
is named by its branch; a push's is the merged pull request that landed the pushed commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from gatekeeper.errors import GitHubError
from gatekeeper.github.client import GitHubClient
from gatekeeper.github.settings import GitHubSettings
from gatekeeper.models.common import login_key
from gatekeeper.policy.changes import NO_PLATFORM, Approvals

_DECISIVE = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
# A merge queue's branch names the pull request it tests: gh-readonly-queue/<base>/pr-<n>-<sha>.
_QUEUE_BRANCH = re.compile(r"(?:refs/heads/)?gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]+")


def approving_logins(reviews: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The reviewers whose latest decisive review approves, in the order they approved."""
    return tuple(login for login, _commit in approving_reviews(reviews))


def approving_reviews(reviews: Iterable[Mapping[str, Any]]
                      ) -> tuple[tuple[str, str | None], ...]:
    """(login, commit approved) for each reviewer whose latest decisive review approves."""
    latest: dict[str, tuple[str, str, str | None]] = {}
    for review in reviews:
        user = review.get("user")
        login = user.get("login") if isinstance(user, Mapping) else None
        state = review.get("state")
        commit = review.get("commit_id")
        if isinstance(login, str) and state in _DECISIVE:
            # One reviewer however the login is spelt: GitHub logins are case-insensitive.
            key = login_key(login)
            latest.pop(key, None)  # re-insert: the dict keeps the latest decision last
            latest[key] = (login, str(state), commit if isinstance(commit, str) else None)
    return tuple((login, commit) for login, state, commit in latest.values()
                 if state == "APPROVED")


def fetch_approvals(settings: GitHubSettings | None) -> Approvals:
    """The pull request's approvals, or why there are none to read (never raises: the gate's
    ``policy:approval`` check says what went wrong and blocks)."""
    if settings is None or not settings.token:
        return NO_PLATFORM
    if settings.repository is None:
        return Approvals(unavailable="GITHUB_REPOSITORY is not set")
    client = GitHubClient(settings.api_url, settings.token)
    try:
        pr_number = settings.pr_number or _queued_pr(settings.event) or _pushed_pr(
            client, settings)
        if pr_number is None:
            return Approvals(unavailable=f"a {settings.event_name or 'non-PR'} event has no "
                                         "pull request whose reviews could approve the change")
        path = f"/repos/{settings.repository}/pulls/{pr_number}/reviews"
        approved = approving_reviews(client.paginate(path))
        return Approvals(tuple(login for login, _ in approved), commits=approved)
    except GitHubError as exc:
        return Approvals(unavailable=f"the pull request's reviews could not be read: {exc}")


def _queued_pr(event: Mapping[str, Any]) -> int | None:
    """The pull request a merge group tests (its approvals were given there)."""
    group = event.get("merge_group")
    head_ref = group.get("head_ref") if isinstance(group, Mapping) else None
    match = _QUEUE_BRANCH.fullmatch(head_ref) if isinstance(head_ref, str) else None
    return int(match.group(1)) if match else None


def _pushed_pr(client: GitHubClient, settings: GitHubSettings) -> int | None:
    """The merged pull request a push to a branch landed (``GET .../commits/{sha}/pulls``)."""
    if settings.event_name != "push" or settings.head_sha is None:
        return None
    path = f"/repos/{settings.repository}/commits/{settings.head_sha}/pulls"
    for pull in client.paginate(path):
        number = pull.get("number")
        if isinstance(number, int) and pull.get("merged_at"):
            return number
    return None
