"""The GitHub client against faults: 5xx and 429 through the OpenAPI-validated fake, and what
only bytes on the wire can do (half an answer, a body cut short, an answer that never comes)
through a raw local server. Every fault ends in a retry or a GitHubError saying what failed."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from fake_github import TOKEN, FakeGitHub, FakeSleep, Fault
from werkzeug import Response

from gatekeeper.errors import GitHubError
from gatekeeper.github.client import GitHubAPIError, GitHubClient
from tests.faults.faults_server import (
    FaultServer,
    answer,
    cut_json,
    fault_server,
    half_status_line,
    short_body,
)

__all__ = ["fault_server"]

COMMENTS = "/repos/o/r/issues/7/comments"
PULL = {"number": 7, "head": {"sha": "a" * 40}}


def client(github: FakeGitHub, sleep: FakeSleep, **kw: object) -> GitHubClient:
    return GitHubClient(github.api_url, TOKEN, sleep=sleep.sleep, clock=sleep.clock, **kw)  # type: ignore[arg-type]


def raw_client(server: FaultServer, sleep: FakeSleep, **kw: object) -> GitHubClient:
    return GitHubClient(server.url, TOKEN, sleep=sleep.sleep, clock=sleep.clock, timeout=0.3,
                        **kw)  # type: ignore[arg-type]


# -- through the OpenAPI-validated fake ----------------------------------------------------

def test_500_then_200(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("GET", COMMENTS, 500, times=2)
    github.add_comments(7, ["hello"])
    assert [c["body"] for c in client(github, fake_sleep).paginate(COMMENTS)] == ["hello"]
    assert fake_sleep.waits == [1.0, 2.0]


def test_429_without_retry_after_backs_off(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("GET", COMMENTS, 429, times=2)
    client(github, fake_sleep).request("GET", COMMENTS)
    assert fake_sleep.waits == [1.0, 2.0]


def test_429_with_an_http_date_retry_after_waits_until_then(
        github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("GET", COMMENTS, 429, {"retry-after": formatdate(fake_sleep.now + 9, usegmt=True)})
    client(github, fake_sleep).request("GET", COMMENTS)
    assert fake_sleep.waits == [9.0]


def test_429_every_time_gives_up_saying_so(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("GET", COMMENTS, 429, {"retry-after": "1"}, message="slow down", times=9)
    with pytest.raises(GitHubAPIError, match=r"GET /repos/o/r/issues/7/comments: HTTP 429 after "
                                             r"3 attempts: slow down"):
        client(github, fake_sleep, max_attempts=3).request("GET", COMMENTS)
    assert fake_sleep.waits == [1.0, 1.0]


def test_json_cut_short_is_fetched_again(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.add_comments(7, ["hello"])
    github.faults.append(Fault("GET", COMMENTS, lambda: Response(
        '[{"id": 1, "bo', status=200, content_type="application/json")))
    assert [c["body"] for c in client(github, fake_sleep).paginate(COMMENTS)] == ["hello"]
    assert fake_sleep.waits == [1.0]


def test_a_post_answered_with_json_cut_short_is_not_sent_again(
        github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    # The comment may exist already: posting it again would leave two.
    github.faults.append(Fault("POST", COMMENTS, lambda: Response(
        '{"id": 1, "bo', status=201, content_type="application/json")))
    with pytest.raises(GitHubError, match=r"POST /repos/o/r/issues/7/comments: the answer "
                                          r"\(HTTP 201, 13 bytes\) is not JSON: cut short"):
        client(github, fake_sleep).request("POST", COMMENTS, json={"body": "hi"})
    assert len(github.requests("POST", COMMENTS)) == 1


# -- through a raw socket -------------------------------------------------------------------

def test_half_an_answer_then_a_good_one(fault_server: FaultServer, fake_sleep: FakeSleep) -> None:
    fault_server.then(half_status_line(), answer(200, PULL))
    assert raw_client(fault_server, fake_sleep).get_json("/repos/o/r/pulls/7") == PULL
    assert fake_sleep.waits == [1.0]


def test_a_body_cut_mid_transfer_is_retried_for_a_get(
        fault_server: FaultServer, fake_sleep: FakeSleep) -> None:
    fault_server.then(short_body(PULL), cut_json(PULL), answer(200, PULL))
    assert raw_client(fault_server, fake_sleep).get_json("/repos/o/r/pulls/7") == PULL
    assert fake_sleep.waits == [1.0, 2.0]


def test_a_body_cut_every_time_says_so(fault_server: FaultServer, fake_sleep: FakeSleep) -> None:
    fault_server.default = short_body(PULL)
    with pytest.raises(GitHubError, match=r"GET /repos/o/r/pulls/7: no answer from http://127\."
                                          r".* after 3 attempts \(the connection closed in the "
                                          r"middle of the answer") as info:
        raw_client(fault_server, fake_sleep, max_attempts=3).get_json("/repos/o/r/pulls/7")
    assert TOKEN not in str(info.value)


def test_a_post_cut_mid_transfer_is_not_repeated(
        fault_server: FaultServer, fake_sleep: FakeSleep) -> None:
    fault_server.default = short_body({"id": 1, "body": "hi"})
    with pytest.raises(GitHubError, match=r"after 1 attempt \(the connection closed"):
        raw_client(fault_server, fake_sleep).request("POST", COMMENTS, json={"body": "hi"})
    assert len(fault_server.seen) == 1


def test_half_an_answer_to_a_post_is_not_taken_as_success(
        fault_server: FaultServer, fake_sleep: FakeSleep) -> None:
    fault_server.default = half_status_line()
    with pytest.raises(GitHubError, match=r"the answer \(HTTP 200, 0 bytes\) is not JSON"):
        raw_client(fault_server, fake_sleep).request("POST", COMMENTS, json={"body": "hi"})
    assert len(fault_server.seen) == 1


def test_an_answer_that_never_comes_times_out(
        fault_server: FaultServer, fake_sleep: FakeSleep) -> None:
    fault_server.default = fault_server.silence()
    started = time.monotonic()
    with pytest.raises(GitHubError, match=r"after 2 attempts \(timed out: ReadTimeout\)"):
        raw_client(fault_server, fake_sleep, max_attempts=2).get_json("/repos/o/r/pulls/7")
    assert time.monotonic() - started < 10
    assert len(fault_server.seen) == 2
