"""Real webhook payloads → the work they ask for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.app.events import job_for

EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "github" / "events"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text(encoding="utf-8")))


def job(event: str, payload: dict[str, Any], workflow: str = "test.yml") -> Any:
    return job_for(event, "d-1", payload, workflow=workflow, check_name="gatekeeper")


def test_workflow_run_of_the_evidence_workflow() -> None:
    found = job("workflow_run", load("workflow_run.completed.3.json"))
    assert found is not None
    assert (found.repo, found.run_id, found.prs, found.installation_id) == (
        "octo-org/octo-repo", 289782451, (2,), None)
    assert found.head_sha == "3484a3fb816e0859fd6e1cea078d76385ff50625"
    assert found.event == "workflow_run.completed" and found.run_conclusion == "success"


def test_the_workflow_is_matched_by_file_name_only() -> None:
    payload = load("workflow_run.completed.3.json")
    assert job("workflow_run", payload, workflow="other.yml") is None
    payload["workflow_run"]["path"] = ".github/workflows/test.yml@refs/heads/main"
    assert job("workflow_run", payload) is not None
    for elsewhere in ("evil/.github/workflows/test.yml.bak", "evil/.github/workflows/test.yml",
                      ".github/workflows/sub/test.yml", "test.yml"):
        payload["workflow_run"]["path"] = elsewhere
        assert job("workflow_run", payload) is None, elsewhere
    # the name a workflow gives itself proves nothing: a PR can call any workflow "test.yml"
    payload["workflow_run"]["path"] = ".github/workflows/mine.yml"
    payload["workflow_run"]["name"] = "test.yml"
    assert job("workflow_run", payload) is None


def test_a_fork_run_lists_no_prs() -> None:
    payload = load("workflow_run.completed.2.json")  # pull_requests: [] as for a fork
    found = job("workflow_run", payload)
    assert found is not None and found.prs == ()


def test_check_suite_rerequested() -> None:
    found = job("check_suite", load("check_suite.rerequested.1.json"))
    assert found is not None
    assert (found.installation_id, found.prs, found.run_id) == (957387, (2,), None)


def test_check_run_rerequested_only_for_our_check() -> None:
    payload = load("check_run.rerequested.1.json")
    assert job("check_run", payload) is None  # "randscape" is another App's check
    payload["check_run"]["name"] = "gatekeeper"
    payload["check_run"]["external_id"] = "12345"
    found = job("check_run", payload)
    # the payload's external_id is not trusted: the run is the one our own check run names
    assert found is not None and found.run_id is None and found.installation_id == 1


@pytest.mark.parametrize("name", ["pull_request_review.submitted.1.json",
                                  "pull_request_review.dismissed.1.json"])
def test_reviews(name: str) -> None:
    found = job("pull_request_review", load(name))
    assert found is not None and found.prs == (2,)
    assert found.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


@pytest.mark.parametrize("event, name", [
    ("installation", "installation.created.1.json"),
    ("workflow_run", "workflow_run.completed.1.json"),  # no path: not our workflow
])
def test_ignored(event: str, name: str) -> None:
    assert job(event, load(name)) is None


def test_garbage_is_ignored() -> None:
    assert job("workflow_run", {"action": "completed", "workflow_run": []}) is None
    assert job("pull_request_review", {"action": "submitted", "repository": {}}) is None
