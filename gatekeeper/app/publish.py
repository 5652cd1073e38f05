"""What the App posts: one check run per head commit and check name, and one sticky comment
per pull request and policy, each found and edited in place rather than posted again.

The service holds no state, so "posted already" is asked of GitHub: the check run by name and
App on the head sha (``external_id`` holds the workflow run it judged), the comment by its
hidden marker and the App's bot login. Two replicas evaluating one PR at the same moment can
both find nothing and both create a comment; each then lists the comments again and deletes
every marked comment of ours but the oldest, so at most one survives. The race we accept is the
short window in which two exist, and, for check runs (which cannot be deleted), two completed
runs of one name on one sha with the same conclusion (GitHub shows the latest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatekeeper.github.checks import CHECK_CONCLUSIONS, SUMMARY_LIMIT, SUMMARY_NOTE, TITLE_LIMIT
from gatekeeper.github.client import GitHubAPIError, GitHubClient
from gatekeeper.github.comment import truncate_comment, upsert_comment, with_marker, written_by
from gatekeeper.report.comment import marker


@dataclass(frozen=True)
class CheckOutput:
    conclusion: str  # "success" | "neutral" | "failure"
    title: str
    summary: str
    external_id: str  # the workflow run id the verdict came from ("" when none)
    details_url: str | None = None  # the workflow run's page

    @classmethod
    def for_status(cls, status: str, title: str, summary: str, run_id: int | None,
                   details_url: str | None = None) -> CheckOutput:
        return cls(CHECK_CONCLUSIONS[status], title, summary, str(run_id or ""), details_url)


def _cap(text: str, limit: int, note: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(note)] + note


def find_check_run(client: GitHubClient, repo: str, sha: str, name: str,
                   app_id: int) -> dict[str, Any] | None:
    """The App's latest check run called ``name`` on ``sha``."""
    path = f"/repos/{repo}/commits/{sha}/check-runs"
    runs = [r for r in client.paginate(path, {"check_name": name, "app_id": app_id},
                                       key="check_runs")
            if r.get("name") == name and _dig_app(r) in (app_id, None)]
    return max(runs, key=lambda r: int(r.get("id") or 0)) if runs else None


def _dig_app(run: dict[str, Any]) -> Any:
    app = run.get("app")
    return app.get("id") if isinstance(app, dict) else None


def upsert_check_run(client: GitHubClient, repo: str, sha: str, name: str, app_id: int,
                     out: CheckOutput) -> str:
    """PATCH the App's check run on ``sha``, or POST the first one; returns what it did."""
    body: dict[str, Any] = {
        "status": "completed",
        "conclusion": out.conclusion,
        "output": {"title": _cap(out.title, TITLE_LIMIT),
                   "summary": _cap(out.summary, SUMMARY_LIMIT, SUMMARY_NOTE)},
    }
    # Always sent, "" too: a PATCH without it would keep the run an earlier verdict judged, and
    # a re-request would then judge that run's artifact again.
    body["external_id"] = out.external_id
    if out.details_url:
        body["details_url"] = out.details_url
    existing = find_check_run(client, repo, sha, name, app_id)
    if existing is not None:
        client.request("PATCH", f"/repos/{repo}/check-runs/{existing['id']}", json=body)
        return "check-updated"
    client.request("POST", f"/repos/{repo}/check-runs",
                   json={"name": name, "head_sha": sha, **body})
    return "check-created"


def upsert_sticky(client: GitHubClient, repo: str, pr: int, policy_name: str, markdown: str,
                  author: str) -> str:
    """The sticky comment, then the clean-up that keeps one when replicas raced."""
    posted = upsert_comment(client, repo, pr, policy_name, markdown, author=author)
    if posted.action == "created":
        _keep_oldest(client, repo, pr, policy_name, markdown, author, posted.comment_id)
    return f"comment-{posted.action}"


def _keep_oldest(client: GitHubClient, repo: str, pr: int, policy_name: str, markdown: str,
                 author: str, ours: int) -> None:
    mark = marker(policy_name)
    mine = sorted(
        int(c["id"]) for c in client.paginate(f"/repos/{repo}/issues/{pr}/comments")
        if isinstance(c.get("body"), str) and c["body"].startswith(mark)
        and written_by(c, author) and isinstance(c.get("id"), int))
    if len(mine) < 2:
        return
    for extra in mine[1:]:
        try:
            client.request("DELETE", f"/repos/{repo}/issues/comments/{extra}")
        except GitHubAPIError as exc:
            if exc.status != 404:  # the other replica deleted it first
                raise
    if mine[0] != ours:  # the survivor may hold the other replica's (same-head) report
        body = truncate_comment(with_marker(markdown, policy_name))
        client.request("PATCH", f"/repos/{repo}/issues/comments/{mine[0]}", json={"body": body})
