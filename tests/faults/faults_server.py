"""A real HTTP server on 127.0.0.1 that misbehaves on cue, for the clients' fault tests.

Each connection serves one request (``Connection: close``) and takes the next step from a
script: a proper answer, or a fault no well-behaved test server would produce — half a status
line then a closed socket, a body shorter than its ``Content-Length``, a JSON body cut in the
middle, an answer that never comes. A raw socket is used because these faults are about bytes on
the wire, which a framework would not let a handler produce.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

Step = Callable[[socket.socket], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


def _response(status: int, body: bytes, headers: dict[str, str] | None = None,
              content_length: int | None = None) -> bytes:
    reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
              502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Status")
    head = {"Content-Type": "application/json", "Connection": "close",
            "Content-Length": str(len(body) if content_length is None else content_length),
            **(headers or {})}
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    return "\r\n".join(lines).encode() + body


def answer(status: int = 200, data: Any = None, headers: dict[str, str] | None = None,
           raw: bytes | None = None) -> Step:
    """A complete answer (JSON of ``data``, or ``raw`` bytes)."""
    body = raw if raw is not None else json.dumps({} if data is None else data).encode()
    return lambda conn: conn.sendall(_response(status, body, headers))


def half_status_line() -> Step:
    """Half of the status line and headers, then the socket closes."""
    return lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Ty")


def short_body(data: Any) -> Step:
    """Headers announce the whole body; half of it arrives and the connection drops."""
    body = json.dumps(data).encode()
    return lambda conn: conn.sendall(_response(200, body[: len(body) // 2], None, len(body)))


def cut_json(data: Any) -> Step:
    """A well-formed HTTP answer whose body is JSON cut in the middle (a broken proxy)."""
    body = json.dumps(data).encode()
    return answer(200, raw=body[: len(body) // 2])


def silence(stop: threading.Event) -> Step:
    """Read the request and never answer (until the server stops)."""
    return lambda conn: stop.wait(30)


@dataclass
class FaultServer:
    sock: socket.socket
    script: list[Step] = field(default_factory=list)
    default: Step | None = None
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def then(self, *steps: Step) -> FaultServer:
        self.script.extend(steps)
        return self

    def silence(self) -> Step:
        return silence(self.stop)

    def serve(self) -> None:
        self.sock.settimeout(0.1)  # so that the loop sees ``stop``
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self.threads.append(worker)
            worker.start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                request = _read_request(conn)
            except OSError:
                return
            if request is None:
                return
            self.seen.append(request)
            step = self.script.pop(0) if self.script else self.default
            if step is None:
                step = answer(500, {"error_code": "INTERNAL_ERROR", "message": "no script"})
            with contextlib.suppress(OSError):  # the client may hang up first
                step(conn)


def _read_request(conn: socket.socket) -> Seen | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in lines[1:] if ":" in line)}
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Seen(method, path, headers)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = FaultServer(sock)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        sock.close()
        thread.join(5)
        for worker in server.threads:
            worker.join(5)


class FakeClock:
    """Sleeps that only move a clock: the retry tests never really wait."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now
