"""A webhook delivery → the work it asks for: which repository, head commit, workflow run and
pull requests to evaluate. Everything not asked for is ``None`` (answered, nothing done).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REVIEW_ACTIONS = frozenset({"submitted", "dismissed"})
WORKFLOWS = ".github/workflows"


@dataclass(frozen=True)
class Job:
    event: str  # "workflow_run.completed", ...
    delivery: str  # X-GitHub-Delivery
    repo: str  # owner/name
    head_sha: str
    installation_id: int | None  # None: ask GET /repos/{repo}/installation
    run_id: int | None  # the evidence workflow run; None: the one our check run names
    prs: tuple[int, ...]  # empty: ask which open PRs have head_sha
    run_conclusion: str | None = None  # the evidence run's conclusion, for workflow_run

    @property
    def key(self) -> tuple[str, str]:
        """Jobs with one key compute one answer: a queued duplicate is dropped."""
        return (self.repo, self.head_sha)


def job_for(event: str, delivery: str, payload: Mapping[str, Any], *, workflow: str,
            check_name: str) -> Job | None:
    action = payload.get("action")
    repo = _dig(payload, "repository", "full_name")
    if not isinstance(repo, str) or not isinstance(action, str):
        return None
    installation = _dig(payload, "installation", "id")
    common: dict[str, Any] = {"event": f"{event}.{action}", "delivery": delivery, "repo": repo,
              "installation_id": installation if isinstance(installation, int) else None}
    if event == "workflow_run" and action == "completed":
        return _workflow_run(payload.get("workflow_run"), workflow, common)
    if event in ("check_suite", "check_run") and action == "rerequested":
        return _rerequested(payload.get(event), event, check_name, common)
    if event == "pull_request_review" and action in REVIEW_ACTIONS:
        pr = payload.get("pull_request")
        sha, number = _dig(pr, "head", "sha"), _dig(pr, "number")
        if isinstance(sha, str) and isinstance(number, int):
            return Job(head_sha=sha, run_id=None, prs=(number,), **common)
    return None


def _workflow_run(run: Any, workflow: str, common: dict[str, Any]) -> Job | None:
    path, sha, run_id = _dig(run, "path"), _dig(run, "head_sha"), _dig(run, "id")
    # By file name, where GitHub runs workflows from: "path" is ".github/workflows/<file>"
    # (with "@ref" on some payloads). The name a workflow gives itself is not unique.
    where = path.split("@", 1)[0] if isinstance(path, str) else None
    if where != f"{WORKFLOWS}/{workflow}" or not isinstance(sha, str) or \
            not isinstance(run_id, int):
        return None
    conclusion = _dig(run, "conclusion")
    return Job(head_sha=sha, run_id=run_id, prs=_pr_numbers(run),
               run_conclusion=conclusion if isinstance(conclusion, str) else None, **common)


def _rerequested(obj: Any, event: str, check_name: str, common: dict[str, Any]) -> Job | None:
    sha = _dig(obj, "head_sha")
    if not isinstance(sha, str):
        return None
    if event == "check_run" and _dig(obj, "name") != check_name:
        return None
    # run_id None: the run to judge again is the one our own check run on the commit names
    # (found by App id). The payload's external_id is not trusted: another App's or a
    # workflow's check run of the same name can name any run, and with it any artifact.
    return Job(head_sha=sha, run_id=None, prs=_pr_numbers(obj), **common)


def _pr_numbers(obj: Any) -> tuple[int, ...]:
    prs = _dig(obj, "pull_requests")
    if not isinstance(prs, list):
        return ()
    return tuple(sorted({p["number"] for p in prs
                         if isinstance(p, dict) and isinstance(p.get("number"), int)}))


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj
