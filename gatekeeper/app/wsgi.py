"""The WSGI app: ``POST /webhook`` (signature → job → queue → 202), ``GET /healthz`` (the
process answers) and ``GET /readyz`` (its workers live and its queue has room).

Nothing is parsed, queued or asked of GitHub before the signature matches: a request without
the right ``X-Hub-Signature-256`` is answered 401 and logged, nothing more.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

import requests

from gatekeeper.app.auth import AppAuth
from gatekeeper.app.config import AppConfig
from gatekeeper.app.evaluate import Service, evaluate
from gatekeeper.app.events import job_for
from gatekeeper.app.signature import verify
from gatekeeper.app.work import QueueFull, WorkQueue, log_line
from gatekeeper.github.client import GitHubClient

MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
# GitHub sends its body at once; a client that announces a body and stalls would otherwise hold
# one of gunicorn's request threads for good (a handful of such connections and no delivery,
# nor /healthz, is answered).
BODY_TIMEOUT = 10.0
StartResponse = Callable[..., Any]


class WebhookApp:
    def __init__(self, config: AppConfig, work: WorkQueue, stream: TextIO = sys.stderr) -> None:
        self.config = config
        self.work = work
        self._stream = stream

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz":
            return _answer(start_response, 200, {"status": "ok"})
        if path == "/readyz":
            ready = self.work.ready
            return _answer(start_response, 200 if ready else 503,
                           {"status": "ready" if ready else "busy"})
        if path != "/webhook":
            return _answer(start_response, 404, {"error": "not found"})
        if method != "POST":
            return _answer(start_response, 405, {"error": "POST only"})
        status, body = self._webhook(environ)
        headers = [("Retry-After", "30")] if status == 503 else []
        return _answer(start_response, status, body, headers)

    def _webhook(self, environ: Mapping[str, Any]) -> tuple[int, dict[str, str]]:
        event = str(environ.get("HTTP_X_GITHUB_EVENT", ""))
        delivery = str(environ.get("HTTP_X_GITHUB_DELIVERY", ""))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return self._refuse(413 if length > MAX_BODY else 400, event, delivery,
                                "no body, or over 25 MB")
        sock: Any = environ.get("gunicorn.socket")  # gunicorn's; other servers have their own
        if sock is not None:
            sock.settimeout(BODY_TIMEOUT)
        try:
            raw = environ["wsgi.input"].read(length)
        except OSError:  # the timeout above, or the client went away
            return self._refuse(408, event, delivery, "the body did not arrive in time")
        if not verify(self.config.webhook_secret, raw, environ.get("HTTP_X_HUB_SIGNATURE_256")):
            return self._refuse(401, event, delivery, "bad signature")
        try:
            payload = json.loads(raw)
        except ValueError:
            return self._refuse(400, event, delivery, "the body is not JSON")
        job = job_for(event, delivery, payload if isinstance(payload, dict) else {},
                      workflow=self.config.workflow, check_name=self.config.check_name)
        if job is None:
            log_line(self._stream, delivery=delivery, event=event, verdict="ignored")
            return 202, {"status": "ignored"}
        try:
            queued = self.work.submit(job)
        except QueueFull:
            return self._refuse(503, job.event, delivery, "the work queue is full")
        if queued != "queued":
            log_line(self._stream, delivery=delivery, event=job.event, repo=job.repo,
                     head_sha=job.head_sha, verdict=queued)
        return 202, {"status": queued}

    def _refuse(self, status: int, event: str, delivery: str,
                why: str) -> tuple[int, dict[str, str]]:
        log_line(self._stream, delivery=delivery[:100], event=event[:100], status=status,
                 verdict="refused", message=why)
        return status, {"error": why}


def _answer(start_response: StartResponse, status: int, body: dict[str, str],
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = (json.dumps(body, sort_keys=True) + "\n").encode()
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized",
               404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
               413: "Payload Too Large",
               503: "Service Unavailable"}
    start_response(f"{status} {reasons[status]}", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
        *(headers or [])])
    return [data]


def build_app(config: AppConfig, stream: TextIO = sys.stderr) -> WebhookApp:
    def client_for(token: str, session: requests.Session | None) -> GitHubClient:
        return GitHubClient(config.api_url, token, session, max_attempts=config.github_attempts)

    service = Service(config, AppAuth(config.app_id, config.private_key, client_for))
    work = WorkQueue(lambda job: evaluate(job, service), size=config.queue_size,
                     threads=config.threads, stream=stream)
    return WebhookApp(config, work, stream)


def create_app() -> WebhookApp:
    """gunicorn's factory (``gatekeeper.app.wsgi:create_app()``), run in each worker process,
    so each has its own queue and threads."""
    return build_app(AppConfig.from_environ(os.environ))
