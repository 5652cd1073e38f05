"""The check run on the PR head commit, with a commit-status fallback for tokens that cannot
create check runs. Required checks count success, neutral and skipped as passing, so only
``block`` turns into a failing check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gatekeeper.github.client import GitHubAPIError, GitHubClient
from gatekeeper.github.runner import Annotation

CHECK_CONCLUSIONS = {"pass": "success", "warn": "neutral", "block": "failure"}
# Commit statuses have no neutral state; warn must not block a required status.
STATUS_STATES = {"pass": "success", "warn": "success", "block": "failure"}
ANNOTATION_LEVELS = {"error": "failure", "warning": "warning", "notice": "notice"}
SUMMARY_LIMIT = 65535
TEXT_LIMIT = 65535
TITLE_LIMIT = 255
DESCRIPTION_LIMIT = 140
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATIONS = 1000  # bounds the number of requests for a pathological report
SUMMARY_NOTE = "\n\n_(truncated: the full report is in the job summary and the artifact)_"


@dataclass(frozen=True)
class CheckResult:
    kind: str  # "check_run" | "status"
    url: str | None
    fallback_reason: str | None = None


def _cap(text: str, limit: int, note: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(note)] + note


def _check_annotations(annotations: Sequence[Annotation]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for a in annotations:
        if a.file is None:
            continue  # a check-run annotation must point at a file; the summary has the rest
        line = a.line or 1
        item: dict[str, object] = {
            "path": a.file,
            "start_line": line,
            "end_line": line,
            "annotation_level": ANNOTATION_LEVELS[a.level],
            "message": _cap(a.message, TEXT_LIMIT),
        }
        if a.title:
            item["title"] = _cap(a.title, TITLE_LIMIT)
        out.append(item)
    return out[:MAX_ANNOTATIONS]


def create_check_run(
    client: GitHubClient,
    repo: str,
    head_sha: str,
    *,
    name: str,
    status: str,
    title: str,
    summary: str,
    annotations: Sequence[Annotation] = (),
    details_url: str | None = None,
) -> CheckResult:
    """Create a completed check run; annotations beyond the first 50 go in PATCH batches."""
    items = _check_annotations(annotations)
    output: dict[str, object] = {
        "title": _cap(title, TITLE_LIMIT),
        "summary": _cap(summary, SUMMARY_LIMIT, SUMMARY_NOTE),
    }
    body: dict[str, object] = {
        "name": name,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": CHECK_CONCLUSIONS[status],
        "output": {**output, "annotations": items[:ANNOTATIONS_PER_REQUEST]},
    }
    if details_url:
        body["details_url"] = details_url
    data = client.request("POST", f"/repos/{repo}/check-runs", json=body).json()
    run_id = data.get("id")
    for start in range(ANNOTATIONS_PER_REQUEST, len(items), ANNOTATIONS_PER_REQUEST):
        batch = items[start : start + ANNOTATIONS_PER_REQUEST]
        client.request(
            "PATCH",
            f"/repos/{repo}/check-runs/{run_id}",
            json={"output": {**output, "annotations": batch}},
        )
    url = data.get("html_url")
    return CheckResult(kind="check_run", url=url if isinstance(url, str) else None)


def status_description(status: str, title: str) -> str:
    text = f"{status}: {title}" if status == "warn" else title
    return _cap(text, DESCRIPTION_LIMIT)


def create_commit_status(
    client: GitHubClient,
    repo: str,
    sha: str,
    *,
    context: str,
    status: str,
    title: str,
    target_url: str | None = None,
) -> CheckResult:
    body: dict[str, object] = {
        "state": STATUS_STATES[status],
        "context": context,
        "description": status_description(status, title),
    }
    if target_url:
        body["target_url"] = target_url
    data = client.request("POST", f"/repos/{repo}/statuses/{sha}", json=body).json()
    url = data.get("url") if isinstance(data, dict) else None
    return CheckResult(kind="status", url=url if isinstance(url, str) else None)


def publish_check(
    client: GitHubClient,
    repo: str,
    head_sha: str,
    *,
    name: str,
    status: str,
    title: str,
    summary: str,
    annotations: Sequence[Annotation] = (),
    details_url: str | None = None,
) -> CheckResult:
    """A check run, or a commit status when the token may not create check runs."""
    if status not in CHECK_CONCLUSIONS:
        raise ValueError(f"status must be one of {sorted(CHECK_CONCLUSIONS)}, got {status!r}")
    try:
        return create_check_run(
            client,
            repo,
            head_sha,
            name=name,
            status=status,
            title=title,
            summary=summary,
            annotations=annotations,
            details_url=details_url,
        )
    except GitHubAPIError as exc:
        # "Resource not accessible by integration": e.g. a PAT or a token without checks: write.
        if exc.status not in (403, 404):
            raise
        result = create_commit_status(
            client, repo, head_sha, context=name, status=status, title=title, target_url=details_url
        )
        return CheckResult(kind=result.kind, url=result.url, fallback_reason=str(exc))
