"""The fake's validator must be able to fail: otherwise "every request is valid" means nothing."""

from __future__ import annotations

import requests
from fake_github import TOKEN, FakeGitHub

HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "Authorization": f"Bearer {TOKEN}",
    "User-Agent": "gatekeeper/test",
}


def test_invalid_body_is_recorded(github: FakeGitHub) -> None:
    requests.post(
        f"{github.api_url}/repos/o/r/issues/1/comments",
        json={"text": "x"},
        headers=HEADERS,
        timeout=5,
    )
    assert len(github.errors) == 1 and "'body' is a required property" in github.errors[0]
    github.errors.clear()


def test_invalid_enum_and_unknown_path_and_headers_are_recorded(github: FakeGitHub) -> None:
    requests.post(
        f"{github.api_url}/repos/o/r/check-runs",
        json={"name": "g", "head_sha": "a" * 40, "conclusion": "warn"},
        headers=HEADERS,
        timeout=5,
    )
    requests.get(f"{github.api_url}/repos/o/r/issues/1/commentz", headers=HEADERS, timeout=5)
    requests.get(f"{github.api_url}/repos/o/r/issues/1/comments", timeout=5)
    assert any("'warn' is not one of" in e for e in github.errors)
    assert any("commentz" in e and "PathNotFound" in e for e in github.errors)
    assert any("header Authorization" in e for e in github.errors)
    github.errors.clear()


def test_valid_request_passes(github: FakeGitHub) -> None:
    response = requests.post(
        f"{github.api_url}/repos/o/r/issues/1/comments",
        json={"body": "x"},
        headers=HEADERS,
        timeout=5,
    )
    assert response.status_code == 201
    assert github.errors == []
