"""The REST client against the local fake: retries, rate limits, pagination, GHES, secrecy."""

from __future__ import annotations

import pytest
import requests
from fake_github import TOKEN, FakeGitHub, FakeSleep

from gatekeeper.errors import GitHubError
from gatekeeper.github.client import GitHubAPIError, GitHubClient

COMMENTS = "/repos/o/r/issues/7/comments"


def client(github: FakeGitHub, sleep: FakeSleep, **kw: object) -> GitHubClient:
    return GitHubClient(github.api_url, TOKEN, sleep=sleep.sleep, clock=sleep.clock, **kw)  # type: ignore[arg-type]


def test_502_then_200_succeeds_after_one_backoff(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("POST", COMMENTS, 502, message="Bad Gateway")
    response = client(github, fake_sleep).request("POST", COMMENTS, json={"body": "hi"})
    assert response.status_code == 201
    assert len(github.requests("POST", COMMENTS)) == 2
    assert fake_sleep.waits == [1.0]


def test_backoff_is_exponential_and_gives_up_with_a_clear_error(
    github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.fail("GET", COMMENTS, 503, times=10)
    with pytest.raises(GitHubAPIError, match=r"HTTP 503 after 4 attempts") as info:
        client(github, fake_sleep, max_attempts=4).request("GET", COMMENTS)
    assert info.value.status == 503
    assert fake_sleep.waits == [1.0, 2.0, 4.0]


def test_secondary_rate_limit_waits_as_told(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail(
        "POST",
        COMMENTS,
        403,
        {"retry-after": "2"},
        message="You have exceeded a secondary rate limit",
    )
    response = client(github, fake_sleep).request("POST", COMMENTS, json={"body": "hi"})
    assert response.status_code == 201
    assert fake_sleep.waits == [2.0]


def test_429_with_retry_after_waits_as_told(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("GET", COMMENTS, 429, {"retry-after": "7"})
    client(github, fake_sleep).request("GET", COMMENTS)
    assert fake_sleep.waits == [7.0]


def test_primary_rate_limit_waits_until_reset(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    reset = int(fake_sleep.now) + 5
    github.fail(
        "GET",
        COMMENTS,
        403,
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        message="API rate limit exceeded",
    )
    client(github, fake_sleep).request("GET", COMMENTS)
    assert fake_sleep.waits == [6.0]  # until the reset, plus a second of clock skew


def test_rate_limit_longer_than_the_cap_gives_up_without_waiting(
    github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.fail("GET", COMMENTS, 403, {"retry-after": "3600"}, message="secondary rate limit")
    with pytest.raises(GitHubAPIError, match=r"asks to wait 3600 s \(more than the 60 s"):
        client(github, fake_sleep).request("GET", COMMENTS)
    assert fake_sleep.waits == []


def test_plain_403_is_not_retried(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("POST", COMMENTS, 403, message="Resource not accessible by integration")
    with pytest.raises(GitHubAPIError, match="Resource not accessible by integration") as info:
        client(github, fake_sleep).request("POST", COMMENTS, json={"body": "x"})
    assert info.value.status == 403
    assert len(github.requests("POST")) == 1 and fake_sleep.waits == []


def test_connection_errors_are_retried_then_reported_without_the_token(
    fake_sleep: FakeSleep,
) -> None:
    # Port 9 on loopback: nothing listens there, so every attempt is refused.
    c = GitHubClient("http://127.0.0.1:9", TOKEN, sleep=fake_sleep.sleep, max_attempts=3, timeout=2)
    with pytest.raises(
        GitHubError, match=r"no answer from http://127\.0\.0\.1:9 after 3 attempts"
    ) as info:
        c.request("GET", COMMENTS)
    assert fake_sleep.waits == [1.0, 2.0]
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_token_never_in_errors_or_repr(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    # Even when GitHub echoes the token back in its message.
    github.fail("GET", COMMENTS, 401, message=f"Bad credentials: {TOKEN}")
    c = client(github, fake_sleep)
    with pytest.raises(GitHubAPIError) as info:
        c.request("GET", COMMENTS)
    assert TOKEN not in str(info.value)
    assert "***" in str(info.value)
    assert TOKEN not in repr(c) and TOKEN not in repr(c.__dict__.get("api_url"))


def test_pagination_follows_link_header(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.add_comments(7, [f"c{i}" for i in range(250)])
    items = list(client(github, fake_sleep).paginate(COMMENTS))
    assert [i["body"] for i in items] == [f"c{i}" for i in range(250)]
    pages = github.requests("GET", COMMENTS)
    assert [p.query for p in pages] == [
        {"per_page": "100"},
        {"per_page": "100", "page": "2"},
        {"per_page": "100", "page": "3"},
    ]


def test_link_to_another_host_is_refused(fake_sleep: FakeSleep) -> None:
    c = GitHubClient("https://api.github.com", TOKEN, sleep=fake_sleep.sleep)
    with pytest.raises(GitHubError, match="refusing to follow a URL outside"):
        c.request("GET", "https://evil.example/steal")


@pytest.mark.parametrize("api_prefix", ["/api/v3"], ids=["ghes"])
def test_ghes_base_url(github: FakeGitHub, fake_sleep: FakeSleep, api_prefix: str) -> None:
    assert github.api_url.endswith("/api/v3")
    github.add_comments(7, [f"c{i}" for i in range(120)])
    c = client(github, fake_sleep)
    assert len(list(c.paginate(COMMENTS))) == 120
    c.request("POST", COMMENTS, json={"body": "new"})
    assert len(github.log) == 3


def test_injected_session_is_used(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    session = requests.Session()
    seen: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.method))
    c = GitHubClient(github.api_url, TOKEN, session, sleep=fake_sleep.sleep)
    c.request("POST", COMMENTS, json={"body": "x"})
    assert seen == ["POST"]
