"""`gatekeeper serve` end to end: the real gunicorn on 127.0.0.1, driven with GitHub's real
webhook payloads (rewritten to point at the test repository) signed with a test secret, against
the local GitHub that validates every request against the OpenAPI description and verifies the
App's JWT with its public key.

One service (two gunicorn worker processes, so two "replicas" share the work) serves the whole
module; each test uses its own delivery ids and its own fake GitHub state.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_github import EVENTS, AppIdentity, FakeGitHub, zip_folder
from pytest_httpserver import HTTPServer

from gatekeeper.app.signature import sign
from gatekeeper.report.comment import marker

ROOT = Path(__file__).resolve().parents[3]
REPO = "octo-org/octo-repo"  # workflow_run.completed.3.json's repository
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # its pull request's head
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"  # ... and base
RUN_ID = 289782451
APP_ID = 4242
INSTALLATION = 77
SLUG = "gatekeeper-test"
SECRET = "test-webhook-secret"
ARTIFACT = "gatekeeper-bundle"
MAX_ARTIFACT = 100_000
PASS, BLOCK = ROOT / "examples/bundles/pass", ROOT / "examples/bundles/block"


@dataclass
class Service:
    url: str
    log: Path
    public_pem: str

    def deliver(self, event: str, payload: dict[str, Any], delivery: str | None = None,
                secret: str = SECRET) -> tuple[requests.Response, str]:
        delivery = delivery or str(uuid.uuid4())
        body = json.dumps(payload).encode()
        response = requests.post(self.url + "/webhook", data=body, timeout=30, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(secret.encode(), body),
            "Content-Type": "application/json"})
        return response, delivery

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def wait_for(self, delivery: str, count: int = 1, timeout: float = 90) -> list[dict[str, Any]]:
        """The delivery's log lines, once ``count`` of them are written."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = [x for x in self.lines() if x.get("delivery") == delivery]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no log line for {delivery}:\n{self.log.read_text()[-3000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def service(make_httpserver: HTTPServer, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("app")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp / "app.pem").write_bytes(pem)
    port = _free_port()
    env = {**os.environ,
           "GATEKEEPER_APP_ID": str(APP_ID),
           "GATEKEEPER_APP_PRIVATE_KEY_FILE": str(tmp / "app.pem"),
           "GATEKEEPER_WEBHOOK_SECRET": SECRET,
           "GATEKEEPER_GITHUB_ATTEMPTS": "3",
           "GATEKEEPER_MAX_ARTIFACT_BYTES": str(MAX_ARTIFACT),
           "GITHUB_API_URL": make_httpserver.url_for("/").rstrip("/")}
    log = tmp / "service.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gatekeeper", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2", "--workflow", "evidence.yml"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield Service(url, log, public.decode())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        assert proc.poll() is None, log.read_text()
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError("the service did not start:\n" + log.read_text())


@pytest.fixture
def app_github(github: FakeGitHub, service: Service) -> FakeGitHub:
    """The fake as the App's GitHub: the repository, its PR, the base commit's policy and
    registry, and the App's identity."""
    github.app = AppIdentity(APP_ID, SLUG, service.public_pem)
    github.comment_user = {"login": f"{SLUG}[bot]", "id": 99, "type": "Bot"}
    github.installations[REPO] = INSTALLATION
    github.contents[(BASE, "policies/default.yaml")] = (ROOT / "policies/default.yaml").read_text()
    github.add_tree(BASE, ROOT / "examples/registry", "examples/registry")
    add_pr(github, 2, HEAD)
    return github


def add_pr(github: FakeGitHub, number: int, head: str) -> None:
    """A PR whose head leaves the base's policy as it is."""
    github.pulls[number] = {"number": number, "state": "open", "head": {"sha": head},
                            "base": {"sha": BASE, "ref": "master"}}
    github.contents[(head, "policies/default.yaml")] = github.contents[
        (BASE, "policies/default.yaml")]


def workflow_run(head: str = HEAD, pr: int = 2, run_id: int = RUN_ID,
                 edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """The real workflow_run.completed payload, for our evidence workflow and repository."""
    data = json.loads((EVENTS / "workflow_run.completed.3.json").read_text(encoding="utf-8"))
    run = data["workflow_run"]
    run["path"], run["head_sha"], run["id"] = ".github/workflows/evidence.yml", head, run_id
    run["pull_requests"][0]["number"] = pr
    run["pull_requests"][0]["head"]["sha"] = head
    if edit is not None:
        edit(data)
    return data


def posts(github: FakeGitHub) -> list[str]:
    return [r.path for r in github.log if r.method == "POST" and "access_tokens" not in r.path]


def app_comments(github: FakeGitHub, pr: int = 2) -> list[dict[str, Any]]:
    return [c for c in github.comments.get(pr, []) if c["user"]["login"] == f"{SLUG}[bot]"]


def only_check(github: FakeGitHub) -> dict[str, Any]:
    runs = list(github.check_runs.values())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize("bundle, conclusion, verdict",
                         [(PASS, "success", "pass"), (BLOCK, "failure", "block")])
def test_a_bundle_gets_the_apps_check_and_one_comment(
        app_github: FakeGitHub, service: Service, bundle: Path, conclusion: str,
        verdict: str) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(bundle))
    # the PR's author plants a comment with the marker, hoping the report lands in it
    planted = f"{marker('default')}\nPASS, trust me"
    app_github.add_comments(2, [planted], user={"login": "mallory", "id": 5, "type": "User"})
    response, delivery = service.deliver("workflow_run", workflow_run())
    assert response.status_code == 202
    [line] = service.wait_for(delivery)
    assert line["verdict"] == verdict and line["pr"] == [2] and line["head_sha"] == HEAD
    assert line["repo"] == REPO and line["event"] == "workflow_run.completed"
    check = only_check(app_github)
    assert check["conclusion"] == conclusion and check["head_sha"] == HEAD
    assert check["name"] == "gatekeeper" and check["app"]["id"] == APP_ID
    assert check["external_id"] == str(RUN_ID)
    # GHES-style API URL (no api.github.com): the web pages are on the same host
    assert check["details_url"] == f"{app_github.api_url}/{REPO}/actions/runs/{RUN_ID}"
    [comment] = app_comments(app_github)
    assert app_github.comments[2][0]["body"] == planted
    assert comment["body"].startswith("<!-- gatekeeper:comment") and verdict.upper() in \
        comment["body"].upper()
    # the policy and registry were read at the base sha, never a branch name; at the head
    # only the policy, to diff it (it is the same here, so no policy:* check)
    reads = {(r.query.get("ref"), r.path.split("/contents/")[1])
             for r in app_github.requests("GET", r".*/contents/.*")}
    assert {ref for ref, _ in reads} == {BASE, HEAD}
    assert {path for ref, path in reads if ref == HEAD} == {"policies/default.yaml"}
    # installation found by GET /repos/{repo}/installation (the payload names none); a JWT
    # there, and the installation token for everything in the repository
    assert app_github.requests("GET", f"/repos/{REPO}/installation")
    assert app_github.jwts and all(c["iss"] == str(APP_ID) for c in app_github.jwts)
    blob = [r for r in app_github.log if r.path.startswith("/_blob/")]
    assert len(blob) == 1 and "Authorization" not in blob[0].headers
    assert "ghs_" not in service.log.read_text()  # never a token in the log


def test_a_bad_signature_is_refused_and_nothing_reaches_github(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    response, delivery = service.deliver("workflow_run", workflow_run(), secret="wrong")
    assert response.status_code == 401
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "refused" and line["status"] == 401
    body = json.dumps(workflow_run()).encode()
    unsigned = requests.post(service.url + "/webhook", data=body, timeout=10,
                             headers={"X-GitHub-Event": "workflow_run"})
    assert unsigned.status_code == 401
    time.sleep(0.5)  # were anything queued, it would have started by now
    assert app_github.log == []


def test_an_installation_event_is_answered_and_ignored(
        app_github: FakeGitHub, service: Service) -> None:
    payload = json.loads((EVENTS / "installation.created.1.json").read_text(encoding="utf-8"))
    response, delivery = service.deliver("installation", payload)
    assert (response.status_code, response.json()) == (202, {"status": "ignored"})
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "ignored" and line["event"] == "installation"
    assert app_github.log == []


def test_a_redelivery_posts_nothing_again(app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    payload = workflow_run()
    first, delivery = service.deliver("workflow_run", payload)
    service.wait_for(delivery)
    before = posts(app_github)
    again, _ = service.deliver("workflow_run", payload, delivery)
    assert (first.status_code, again.status_code) == (202, 202)
    service.wait_for(delivery, count=2)
    assert posts(app_github) == before  # the other worker may PATCH in place; never POST
    assert len(app_github.check_runs) == 1 and len(app_comments(app_github)) == 1


def test_an_older_head_finishing_late_is_not_posted(
        app_github: FakeGitHub, service: Service) -> None:
    newer = "b" * 40
    add_pr(app_github, 2, newer)  # the PR was pushed to after the old run started
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(BLOCK))
    _, delivery = service.deliver("workflow_run", workflow_run(head=HEAD))
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "superseded"
    assert posts(app_github) == [] and app_github.check_runs == {}
    assert app_github.requests("PATCH") == []


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


def _symlink() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("run.yaml")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


HOSTILE = {
    "zip bomb": ([("run.yaml", b"x"), ("scores/huge.csv", b"0" * 20_000_000)], "zip bomb"),
    "zip slip": ([("run.yaml", b"x"), ("../../escape.txt", b"owned")], "leave the bundle"),
    "symlink": ([(_symlink(), b"/etc/passwd")], "symbolic link"),
    "over the limit": ([("run.yaml", b"x"), ("noise.bin", os.urandom(MAX_ARTIFACT))],
                       "GATEKEEPER_MAX_ARTIFACT_BYTES"),
}


@pytest.mark.parametrize("entries, why", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_artifact_fails_the_check_and_says_why(
        app_github: FakeGitHub, service: Service, entries: list[tuple[Any, bytes]],
        why: str, tmp_path: Path) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, _zip(entries))
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "error"
    check = only_check(app_github)
    assert check["conclusion"] == "failure"
    assert why in check["output"]["summary"], check["output"]
    [comment] = app_comments(app_github)
    assert why in comment["body"]
    assert not (ROOT / "escape.txt").exists()
    assert requests.get(service.url + "/healthz", timeout=5).status_code == 200
    assert requests.get(service.url + "/readyz", timeout=5).status_code == 200


def test_an_artifact_understating_its_size_is_cut_off_while_downloading(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, _zip([("noise.bin", os.urandom(2 * MAX_ARTIFACT))]))
    app_github.artifacts[RUN_ID][0]["size_in_bytes"] = 1000  # the listing says small
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "error"
    summary = only_check(app_github)["output"]["summary"]
    assert f"more than {MAX_ARTIFACT:,} bytes" in summary and "GATEKEEPER_MAX_ARTIFACT_BYTES" \
        in summary


def test_github_failing_is_retried_then_reported(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    artifacts = rf"/repos/{REPO}/actions/runs/{RUN_ID}/artifacts"
    app_github.fail("GET", artifacts, 429, message="slow down")
    app_github.fail("GET", artifacts, 502, message="bad gateway", times=2)
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert len(app_github.requests("GET", artifacts)) == 3  # GATEKEEPER_GITHUB_ATTEMPTS
    check = only_check(app_github)
    assert check["conclusion"] == "failure"
    assert "HTTP 502 after 3 attempts" in check["output"]["summary"]
    assert line["verdict"] == "error"


def test_github_refusing_the_post_is_retried_then_logged(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    app_github.fail("POST", rf"/repos/{REPO}/check-runs", 503, message="unavailable", times=3)
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "error" and "HTTP 503 after 3 attempts" in line["message"]
    assert app_github.check_runs == {} and len(app_github.requests("POST", r".*/check-runs")) == 3
    assert requests.get(service.url + "/readyz", timeout=5).status_code == 200
    # nothing was posted, so the replica forgot the delivery: redelivering it retries
    again, _ = service.deliver("workflow_run", workflow_run(), delivery)
    assert again.status_code == 202
    service.wait_for(delivery, count=2)
    assert only_check(app_github)["conclusion"] == "success"


def test_a_rerequested_check_and_a_review_evaluate_again_in_place(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    _, first = service.deliver("workflow_run", workflow_run())
    service.wait_for(first)

    def ours(name: str) -> dict[str, Any]:
        data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
        data["repository"]["full_name"] = REPO
        data["installation"] = {"id": INSTALLATION}
        return data

    suite = ours("check_suite.rerequested.1.json")
    review = ours("pull_request_review.submitted.1.json")
    rerun = ours("check_run.rerequested.1.json")  # "Re-run" on our check: it names the run
    rerun["check_run"].update(name="gatekeeper", external_id=str(RUN_ID), head_sha=HEAD)
    # its pull_requests is empty (as for a fork): the PR is found by the head commit
    app_github.commit_pulls[HEAD] = [{"number": 2, "state": "open"}]
    for event, payload in (("check_suite", suite), ("pull_request_review", review),
                           ("check_run", rerun)):
        response, delivery = service.deliver(event, payload)
        assert response.status_code == 202
        [line] = service.wait_for(delivery)
        assert line["verdict"] == "pass", line
    assert len(app_github.requests("PATCH", rf"/repos/{REPO}/check-runs/\d+")) == 3
    assert app_github.requests("GET", rf"/repos/{REPO}/commits/{HEAD}/pulls")
    assert len(app_github.check_runs) == 1 and len(app_comments(app_github)) == 1


def test_a_review_before_the_evidence_posts_nothing(app_github: FakeGitHub,
                                                    service: Service) -> None:
    payload = json.loads((EVENTS / "pull_request_review.submitted.1.json").read_text())
    payload["repository"]["full_name"] = REPO
    _, delivery = service.deliver("pull_request_review", payload)
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "no-run" and line["pr"] == [2]
    assert posts(app_github) == [] and app_github.requests("PATCH") == []


def test_fifty_deliveries_at_once_are_all_answered_one_comment_per_pr(
        app_github: FakeGitHub, service: Service) -> None:
    prs = {n: f"{n:x}" * 40 for n in range(3, 8)}
    jobs = []
    for n, head in prs.items():
        add_pr(app_github, n, head[:40])
        app_github.add_artifact(RUN_ID + n, ARTIFACT, zip_folder(PASS))
        payload = workflow_run(head=head[:40], pr=n, run_id=RUN_ID + n)
        jobs += [payload] * 10
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda p: service.deliver("workflow_run", p), jobs))
    assert [r.status_code for r, _ in answers] == [202] * 50
    for _, delivery in answers:
        service.wait_for(delivery)
    for n in prs:
        assert len(app_comments(app_github, n)) == 1, n
    assert requests.get(service.url + "/readyz", timeout=5).status_code == 200


def test_a_pr_loosening_its_policy_blocks_until_an_approver_of_the_base_reviews(
        app_github: FakeGitHub, service: Service) -> None:
    """The App gates with the base's policy; the head's copy is diffed, so a loosening cannot
    ride along with a passing bundle and gate every later PR once merged."""
    base_text = (ROOT / "policies/default.yaml").read_text() + "approvers: [alice]\n"
    loosened = base_text.replace("min: 0.85", "min: 0.5").replace("version: 1", "version: 2")
    assert loosened != base_text
    app_github.contents[(BASE, "policies/default.yaml")] = base_text
    app_github.contents[(HEAD, "policies/default.yaml")] = loosened
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "block", line
    check = only_check(app_github)
    assert check["conclusion"] == "failure"
    assert "policy:approval" in check["output"]["summary"]
    # the author's friend, not an approver, approves; then alice approves the current head
    app_github.add_review(2, "mallory", "APPROVED", commit_id=HEAD)
    review = json.loads((EVENTS / "pull_request_review.submitted.1.json").read_text())
    review["repository"]["full_name"] = REPO
    review["installation"] = {"id": INSTALLATION}
    _, delivery = service.deliver("pull_request_review", review)
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "block", line
    app_github.add_review(2, "alice", "APPROVED", commit_id=HEAD)
    _, delivery = service.deliver("pull_request_review", review)
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "pass", line
    check = only_check(app_github)
    assert check["conclusion"] == "success"
    assert "approved by alice" in check["output"]["summary"]
    assert len(app_comments(app_github)) == 1
