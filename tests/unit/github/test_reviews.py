"""Which reviews approve a pull request, and which pull request a merge group tests."""

from __future__ import annotations

from typing import Any

from gatekeeper.github.reviews import _queued_pr, approving_logins


def review(login: str, state: str) -> dict[str, Any]:
    return {"user": {"login": login}, "state": state}


def test_the_latest_decisive_review_per_reviewer_counts() -> None:
    reviews = [review("a", "APPROVED"), review("b", "APPROVED"), review("a", "DISMISSED"),
               review("b", "COMMENTED"), review("c", "CHANGES_REQUESTED"),
               review("c", "APPROVED"), review("d", "APPROVED"),
               review("d", "CHANGES_REQUESTED"), {"user": None, "state": "APPROVED"}]
    assert approving_logins(reviews) == ("b", "c")


def test_a_merge_group_names_its_pull_request() -> None:
    group = {"merge_group": {"head_ref": "refs/heads/gh-readonly-queue/main/pr-17-" + "ab" * 20}}
    assert _queued_pr(group) == 17
    assert _queued_pr({"merge_group": {"head_ref": "refs/heads/feature"}}) is None
    assert _queued_pr({}) is None
