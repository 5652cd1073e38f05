"""The WSGI app in-process (the real server is in tests/unit/github/test_app_service.py):
routes, the queue's bound (503), duplicates and the log lines."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gatekeeper.app.config import AppConfig
from gatekeeper.app.evaluate import Outcome
from gatekeeper.app.events import Job
from gatekeeper.app.signature import sign
from gatekeeper.app.work import WorkQueue
from gatekeeper.app.wsgi import WebhookApp

SECRET = b"secret"


def review(number: int) -> bytes:
    return json.dumps({"action": "submitted", "repository": {"full_name": "o/r"},
                       "pull_request": {"number": number, "head": {"sha": f"{number:040x}"}}}
                      ).encode()


class Harness:
    def __init__(self, size: int) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.done: list[str] = []
        self.log = io.StringIO()

        def handler(job: Job) -> Outcome:
            self.started.set()
            self.release.wait(10)
            self.done.append(job.delivery)
            return Outcome("pass", list(job.prs), ["check-created"])

        config = AppConfig(app_id=1, private_key="", webhook_secret=SECRET, queue_size=size,
                           threads=1)
        self.queue = WorkQueue(handler, size=size, threads=1, stream=self.log)
        self.app = WebhookApp(config, self.queue, self.log)

    def call(self, path: str, method: str = "POST", body: bytes = b"", event: str = "",
             delivery: str = "d", signature: str | None = None) -> tuple[int, dict[str, Any]]:
        seen: list[str] = []
        environ = {"PATH_INFO": path, "REQUEST_METHOD": method,
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                   "HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery,
                   "HTTP_X_HUB_SIGNATURE_256": signature or sign(SECRET, body)}
        out = b"".join(self.app(environ, lambda status, headers: seen.append(status)))
        return int(seen[0].split()[0]), json.loads(out)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.log.getvalue().splitlines()]


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness(size=2)
    yield h
    h.release.set()


def test_routes(harness: Harness) -> None:
    assert harness.call("/healthz", "GET") == (200, {"status": "ok"})
    assert harness.call("/readyz", "GET") == (200, {"status": "ready"})
    assert harness.call("/nope", "GET")[0] == 404
    assert harness.call("/webhook", "GET")[0] == 405
    assert harness.call("/webhook", body=b"")[0] == 400
    assert harness.call("/webhook", body=b"{}", signature="sha256=00")[0] == 401
    assert harness.call("/webhook", body=b"not json", event="x")[0] == 400
    assert harness.call("/webhook", body=b"{}", event="ping") == (202, {"status": "ignored"})


def test_a_full_queue_answers_503_and_readyz_says_busy(harness: Harness) -> None:
    assert harness.call("/webhook", body=review(1), event="pull_request_review",
                        delivery="a")[0] == 202
    assert harness.started.wait(10)  # the one thread is busy with "a"
    for n, delivery in ((2, "b"), (3, "c")):  # the queue holds two
        assert harness.call("/webhook", body=review(n), event="pull_request_review",
                            delivery=delivery) == (202, {"status": "queued"})
    status, body = harness.call("/webhook", body=review(4), event="pull_request_review",
                                delivery="d")
    assert status == 503 and "full" in body["error"]
    assert harness.call("/readyz", "GET") == (503, {"status": "busy"})
    assert harness.call("/healthz", "GET")[0] == 200
    harness.release.set()
    harness.queue._queue.join()
    assert harness.done == ["a", "b", "c"]
    assert harness.call("/readyz", "GET")[0] == 200
    refused = [x for x in harness.lines() if x.get("status") == 503]
    assert refused and refused[0]["delivery"] == "d"


def test_a_known_delivery_and_a_waiting_twin_are_not_queued_again(harness: Harness) -> None:
    body = review(1)
    assert harness.call("/webhook", body=body, event="pull_request_review",
                        delivery="a")[1] == {"status": "queued"}
    assert harness.started.wait(10)
    assert harness.call("/webhook", body=body, event="pull_request_review",
                        delivery="a")[1] == {"status": "duplicate"}
    assert harness.call("/webhook", body=review(2), event="pull_request_review",
                        delivery="b")[1] == {"status": "queued"}
    assert harness.call("/webhook", body=review(2), event="pull_request_review",
                        delivery="c")[1] == {"status": "coalesced"}
    harness.release.set()
    harness.queue._queue.join()
    assert harness.done == ["a", "b"]
    done = {x["delivery"]: x for x in harness.lines() if "duration_ms" in x}
    assert done["a"]["verdict"] == "pass" and done["a"]["pr"] == [1]
    assert set(done["a"]) >= {"event", "repo", "pr", "head_sha", "verdict", "duration_ms"}


def test_a_failure_that_posted_nothing_can_be_redelivered() -> None:
    log = io.StringIO()
    calls: list[str] = []

    def failing(job: Job) -> Outcome:
        calls.append(job.delivery)
        raise RuntimeError("GitHub is down")

    queue = WorkQueue(failing, size=4, threads=1, stream=log)
    job = Job("pull_request_review.submitted", "x", "o/r", "a" * 40, None, None, (1,))
    assert queue.submit(job) == "queued"
    queue._queue.join()
    assert queue.submit(job) == "queued"  # forgotten: nothing was posted
    queue._queue.join()
    assert calls == ["x", "x"]
    [line, _] = [json.loads(x) for x in log.getvalue().splitlines()]
    assert line["verdict"] == "error" and "GitHub is down" in line["message"]
