"""Who approved a pull request: its reviews through GitHub's pull request reviews API.

``GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`` lists every review in chronological
order. A reviewer's latest decisive review counts (APPROVED, CHANGES_REQUESTED or DISMISSED;
a COMMENTED review does not withdraw an approval, as on GitHub), so an approval that was
dismissed, or followed by a request for changes, approves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gatekeeper.errors import GitHubError
from gatekeeper.github.client import GitHubClient
from gatekeeper.github.settings import GitHubSettings
from gatekeeper.policy.changes import NO_PLATFORM, Approvals

_DECISIVE = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


def approving_logins(reviews: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The reviewers whose latest decisive review approves, in the order they approved."""
    latest: dict[str, str] = {}
    for review in reviews:
        user = review.get("user")
        login = user.get("login") if isinstance(user, Mapping) else None
        state = review.get("state")
        if isinstance(login, str) and state in _DECISIVE:
            latest.pop(login, None)  # re-insert: the dict keeps the latest decision last
            latest[login] = str(state)
    return tuple(login for login, state in latest.items() if state == "APPROVED")


def fetch_approvals(settings: GitHubSettings | None) -> Approvals:
    """The pull request's approvals, or why there are none to read (never raises: the gate's
    ``policy:approval`` check says what went wrong and blocks)."""
    if settings is None or not settings.token:
        return NO_PLATFORM
    if settings.pr_number is None or settings.repository is None:
        return Approvals(unavailable=f"a {settings.event_name or 'non-PR'} event has no pull "
                                     "request whose reviews could approve the change")
    client = GitHubClient(settings.api_url, settings.token)
    path = f"/repos/{settings.repository}/pulls/{settings.pr_number}/reviews"
    try:
        return Approvals(approving_logins(client.paginate(path)))
    except GitHubError as exc:
        return Approvals(unavailable=f"the pull request's reviews could not be read: {exc}")
