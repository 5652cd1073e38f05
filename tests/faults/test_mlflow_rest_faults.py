"""The MLflow REST client against a real local server that misbehaves: every fault ends in an
answer, a retry or an error that says what failed, and a download is whole or absent."""

from __future__ import annotations

import socket
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from gatekeeper.errors import RegistryError
from gatekeeper.mlflow.rest import MlflowRestClient, Unreachable
from tests.faults.faults_server import (
    FakeClock,
    FaultServer,
    answer,
    cut_json,
    half_status_line,
    short_body,
)

MODEL = {"registered_model": {"name": "m", "latest_versions": []}}


def client(server: FaultServer, clock: FakeClock, **kw: object) -> MlflowRestClient:
    return MlflowRestClient("mlflow+" + server.url, env={}, sleep=clock.sleep, clock=clock.clock,
                            timeout=(2.0, 0.3), **kw)  # type: ignore[arg-type]


def get_model(c: MlflowRestClient) -> dict[str, object]:
    return c.api("GET", "registered-models/get", params={"name": "m"})


def test_5xx_then_200_succeeds_after_backoff(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.then(answer(503), answer(502), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert len(fault_server.seen) == 3
    assert clock.waits == [0.5, 1.0]


def test_5xx_every_time_gives_up_naming_the_endpoint(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.default = answer(500, {"error_code": "INTERNAL_ERROR", "message": "boom"})
    with pytest.raises(Unreachable, match=r"unreachable: GET /api/2\.0/mlflow/registered-models/"
                                          r"get: HTTP 500 \(after 4 attempts\)"):
        get_model(client(fault_server, clock))
    assert clock.waits == [0.5, 1.0, 2.0]


def test_429_with_retry_after_waits_as_told(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.then(answer(429, headers={"Retry-After": "7"}), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert clock.waits == [7.0]


def test_429_with_an_http_date_retry_after_waits_until_then(fault_server: FaultServer) -> None:
    clock = FakeClock()
    when = formatdate(clock.now + 12, usegmt=True)
    fault_server.then(answer(429, headers={"Retry-After": when}), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert clock.waits == [12.0]


def test_429_without_retry_after_backs_off(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.then(answer(429), answer(429), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert clock.waits == [0.5, 1.0]


def test_a_long_retry_after_is_capped(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.then(answer(503, headers={"Retry-After": "3600"}), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert clock.waits == [30.0]


def test_half_a_response_then_a_closed_socket_is_retried(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.then(half_status_line(), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert clock.waits == [0.5]


def test_half_a_response_every_time_is_never_taken_as_an_empty_answer(
        fault_server: FaultServer) -> None:
    # The status line arrives whole, the headers do not: HTTP libraries read that as a 200
    # with an empty body, which must not pass for "{}".
    fault_server.default = half_status_line()
    with pytest.raises(Unreachable, match=r"registered-models/get: the answer \(HTTP 200, 0 "
                                          r"bytes\) is not a JSON object: cut short, or not an "
                                          r"MLflow server \(after 2 attempts\)"):
        get_model(client(fault_server, FakeClock(), max_attempts=2))


def test_a_connection_refused_says_so() -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    c = MlflowRestClient(f"mlflow+http://127.0.0.1:{port}", env={}, sleep=FakeClock().sleep,
                         max_attempts=2)
    with pytest.raises(Unreachable, match=r"connection failed \(is the server running and "
                                          r"reachable\?\) \(after 2 attempts\)"):
        get_model(c)


def test_a_connection_dropped_mid_body_is_retried(fault_server: FaultServer) -> None:
    clock = FakeClock()
    fault_server.then(short_body(MODEL), answer(200, MODEL))
    assert get_model(client(fault_server, clock)) == MODEL
    assert len(fault_server.seen) == 2


def test_a_body_cut_every_time_says_so(fault_server: FaultServer) -> None:
    fault_server.default = short_body(MODEL)
    with pytest.raises(Unreachable, match="the connection closed in the middle of the answer"):
        get_model(client(fault_server, FakeClock(), max_attempts=2))


def test_json_cut_in_the_middle_is_retried(fault_server: FaultServer) -> None:
    fault_server.then(cut_json(MODEL), answer(200, MODEL))
    assert get_model(client(fault_server, FakeClock())) == MODEL


def test_json_cut_in_the_middle_every_time_is_an_error_saying_so(
        fault_server: FaultServer) -> None:
    fault_server.default = cut_json(MODEL)
    with pytest.raises(Unreachable, match=r"registered-models/get: the answer \(HTTP 200, "
                                          r"\d+ bytes\) is not a JSON object: cut short"):
        get_model(client(fault_server, FakeClock(), max_attempts=2))


def test_an_mlflow_error_answer_is_not_retried(fault_server: FaultServer) -> None:
    fault_server.then(answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                                   "message": "Registered Model with name=m not found"}))
    with pytest.raises(RegistryError, match="RESOURCE_DOES_NOT_EXIST") as info:
        get_model(client(fault_server, FakeClock()))
    assert getattr(info.value, "not_found", False)
    assert len(fault_server.seen) == 1


def test_an_answer_that_never_comes_times_out(fault_server: FaultServer) -> None:
    fault_server.default = fault_server.silence()
    started = time.monotonic()
    with pytest.raises(Unreachable, match=r"timed out \(connect 2 s, read 0\.3 s\) "
                                          r"\(after 2 attempts\)"):
        get_model(client(fault_server, FakeClock(), max_attempts=2))
    assert time.monotonic() - started < 10
    assert len(fault_server.seen) == 2


# -- downloads ---------------------------------------------------------------------------

ARTIFACT = b"0123456789" * 1000


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_download_cut_off_is_fetched_again_and_lands_whole(
        fault_server: FaultServer, tmp_path: Path) -> None:
    clock = FakeClock()
    cut = answer(200, raw=ARTIFACT)

    def dropped(conn: socket.socket) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Length: {len(ARTIFACT)}\r\n"
                "Connection: close\r\n\r\n").encode()
        conn.sendall(head + ARTIFACT[:3000])

    fault_server.then(dropped, cut)
    target = tmp_path / "out" / "model.bin"
    size = client(fault_server, clock).download("run/artifacts/model.bin", target)
    assert size == len(ARTIFACT)
    assert target.read_bytes() == ARTIFACT
    assert leftovers(target.parent) == ["model.bin"]
    assert clock.waits == [0.5]


def test_a_download_cut_off_every_time_leaves_no_file(
        fault_server: FaultServer, tmp_path: Path) -> None:
    def dropped(conn: socket.socket) -> None:
        conn.sendall((f"HTTP/1.1 200 OK\r\nContent-Length: {len(ARTIFACT)}\r\n\r\n").encode()
                     + ARTIFACT[:3000])

    fault_server.default = dropped
    target = tmp_path / "model.bin"
    target.write_bytes(b"the previous, complete file")
    with pytest.raises(Unreachable, match=r"downloading run/model\.bin: the connection closed in "
                                          r"the middle of the answer \(after 3 attempts\)"):
        client(fault_server, FakeClock(), max_attempts=3).download("run/model.bin", target)
    assert target.read_bytes() == b"the previous, complete file"
    assert leftovers(tmp_path) == ["model.bin"]


# -- the gate on a registry that misbehaves: never a pass -----------------------------------

def gate_against(server: FaultServer, tmp_path: Path, on_registry_error: str) -> tuple[int, str]:
    from tests.conftest import AS_OF, ROOT, run_subprocess

    policy = tmp_path / "policy.yaml"
    text = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
    policy.write_text(text.replace("baseline:\n", "baseline:\n"
                                   f"  on_registry_error: {on_registry_error}\n", 1),
                      encoding="utf-8")
    assert f"on_registry_error: {on_registry_error}" in policy.read_text(encoding="utf-8")
    res = run_subprocess("check", "examples/bundles/pass", "--policy", str(policy),
                         "--registry", "mlflow+" + server.url, "--as-of", AS_OF)
    return res.code, res.out + res.err


@pytest.mark.parametrize("on_registry_error", ["error", "block"])
def test_a_registry_that_answers_503_never_lets_the_gate_pass(
        fault_server: FaultServer, tmp_path: Path, on_registry_error: str) -> None:
    fault_server.default = answer(503, headers={"Retry-After": "0"})
    code, out = gate_against(fault_server, tmp_path, on_registry_error)
    assert code == (2 if on_registry_error == "error" else 1), out
    assert f"MLflow registry mlflow+{fault_server.url} unreachable" in out
    assert "HTTP 503 (after 4 attempts)" in out
    assert "Traceback" not in out


def test_a_registry_that_cuts_its_answers_short_never_lets_the_gate_pass(
        fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.default = cut_json({"model_version": {"name": "sentiment-clf", "version": "3"}})
    code, out = gate_against(fault_server, tmp_path, "block")
    assert code == 1, out
    assert "BLOCK" in out and "baseline:resolve" in out
    assert "is not a JSON object: cut short" in out
