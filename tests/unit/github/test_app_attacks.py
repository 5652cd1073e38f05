"""Attacks on `gatekeeper serve`: a PR author (or anyone who can open a fork PR or send HTTP to
the service) after a green check for a change that should block, a check on somebody else's
PR, or the service down. Each attempt is kept here, against the real gunicorn and the local
GitHub of test_app_service.py (its fixtures, one service for this module).
"""

from __future__ import annotations

import copy
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
import test_app_service
from fake_github import EVENTS, FakeGitHub, zip_folder
from test_app_service import (
    ARTIFACT,
    BASE,
    BLOCK,
    HEAD,
    INSTALLATION,
    PASS,
    REPO,
    ROOT,
    RUN_ID,
    SECRET,
    Service,
    add_pr,
    app_comments,
    only_check,
    posts,
    workflow_run,
)

from gatekeeper.app.signature import sign

# test_app_service's fixtures: this module gets a service (a gunicorn) of its own
service = test_app_service.service
app_github = test_app_service.app_github


def _set_path(path: str) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["workflow_run"]["path"] = path
    return edit


@pytest.mark.parametrize("path", [
    ".github/workflows/x/evidence.yml", ".github/workflows/evidence.yml.bak",
    "evidence.yml", "ci/.github/workflows/evidence.yml", ".github/workflows/my-evidence.yml",
])
def test_another_workflow_whose_path_ends_like_ours_is_ignored(
        app_github: FakeGitHub, service: Service, path: str) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    response, delivery = service.deliver("workflow_run", workflow_run(edit=_set_path(path)))
    assert (response.status_code, response.json()) == (202, {"status": "ignored"})
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "ignored"
    assert app_github.log == []


def test_a_fork_run_naming_another_pr_posts_nothing_on_it(
        app_github: FakeGitHub, service: Service) -> None:
    """The fork's commit is not the head of PR #2: nothing lands on PR #2 or its head."""
    fork_head = "f" * 40
    add_pr(app_github, 9, fork_head)

    def fork(data: dict[str, Any]) -> None:
        data["workflow_run"]["head_repository"]["full_name"] = "mallory/octo-repo"
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    _, delivery = service.deliver("workflow_run", workflow_run(head=fork_head, pr=2, edit=fork))
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "superseded" and line["pr"] == [2]
    assert app_github.check_runs == {} and app_comments(app_github) == []
    assert posts(app_github) == []


def test_a_failed_evidence_run_fails_and_a_rerun_of_the_check_does_not_turn_it_green(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))  # uploaded before failing

    def failed(data: dict[str, Any]) -> None:
        data["workflow_run"]["conclusion"] = "failure"
    _, delivery = service.deliver("workflow_run", workflow_run(edit=failed))
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "error"
    check = only_check(app_github)
    assert check["conclusion"] == "failure" and "concluded 'failure'" in \
        check["output"]["summary"]
    # "Re-run" on that check (and on its suite) must not judge the failed run's artifact
    rerun = _ours("check_run.rerequested.1.json")
    rerun["check_run"].update(name="gatekeeper", external_id=check.get("external_id", ""),
                              head_sha=HEAD, app={**rerun["check_run"]["app"], "id": 4242})
    suite = _ours("check_suite.rerequested.1.json")
    app_github.commit_pulls[HEAD] = [{"number": 2, "state": "open"}]
    for event, payload in (("check_run", rerun), ("check_suite", suite)):
        _, delivery = service.deliver(event, payload)
        [line] = service.wait_for(delivery)
        assert line["verdict"] != "pass", line
        assert only_check(app_github)["conclusion"] == "failure"


def _ours(name: str) -> dict[str, Any]:
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    data["repository"]["full_name"] = REPO
    data["installation"] = {"id": INSTALLATION}
    return data


def test_a_rerun_of_another_apps_check_of_our_name_judges_our_run_not_its(
        app_github: FakeGitHub, service: Service) -> None:
    """A workflow can post a check run called "gatekeeper" whose external_id names any run:
    re-running it judges the run our own check run names, never the one it names."""
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(BLOCK))
    _, first = service.deliver("workflow_run", workflow_run())
    service.wait_for(first)
    other_run = RUN_ID + 1
    app_github.commit_pulls[HEAD] = [{"number": 2, "state": "open"}]
    app_github.add_artifact(other_run, ARTIFACT, zip_folder(PASS))
    rerun = _ours("check_run.rerequested.1.json")
    rerun["check_run"].update(name="gatekeeper", external_id=str(other_run), head_sha=HEAD)
    assert rerun["check_run"]["app"]["id"] != 4242  # another App's check run
    _, delivery = service.deliver("check_run", rerun)
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "block", line
    assert only_check(app_github)["conclusion"] == "failure"
    assert not app_github.requests("GET", rf".*/actions/runs/{other_run}/artifacts")


@pytest.mark.parametrize("order", ["pass-then-block", "block-then-pass"])
def test_two_artifacts_of_our_name_the_newest_wins(
        app_github: FakeGitHub, service: Service, order: str) -> None:
    first, second = (PASS, BLOCK) if order == "pass-then-block" else (BLOCK, PASS)
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(first))
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(second))
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == ("block" if second == BLOCK else "pass")


def test_an_expired_artifact_is_never_judged(app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(BLOCK))
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    app_github.artifacts[RUN_ID][1]["expired"] = True  # the newer, passing one
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "block"
    app_github.artifacts[RUN_ID][0]["expired"] = True  # now none is left
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "error"
    assert "no artifact named" in only_check(app_github)["output"]["summary"]


def test_a_bundle_naming_its_own_registry_and_policy_is_judged_by_the_base(
        app_github: FakeGitHub, service: Service, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(BLOCK, bundle)
    (tmp_path / "lax.yaml").write_text("checks: []\n")
    with open(bundle / "run.yaml", "a", encoding="utf-8") as out:
        out.write(f"registry: file:{tmp_path}\npolicy: {tmp_path / 'lax.yaml'}\n"
                  "baseline:\n  registry: file:/\n")
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(bundle))
    _, delivery = service.deliver("workflow_run", workflow_run())
    [line] = service.wait_for(delivery)
    assert line["verdict"] in ("block", "error"), line
    assert only_check(app_github)["conclusion"] == "failure"


def test_two_prs_from_one_commit_get_the_strictest_verdict(
        app_github: FakeGitHub, service: Service) -> None:
    """One check run per commit: a second PR of the same head to a laxer base must not turn
    the check green for the first PR (a fork run lists no PR; both are found by the head)."""
    policy = (ROOT / "policies/default.yaml").read_text() + (
        'branches:\n  "release/*":\n    metrics:\n      - metric: accuracy\n        min: 0.99\n')
    for sha in (BASE, HEAD):  # the same policy everywhere: only the target branch differs
        app_github.contents[(sha, "policies/default.yaml")] = policy
    app_github.pulls[2]["base"]["ref"] = "release/1"  # the bundle blocks here...
    add_pr(app_github, 3, HEAD)
    app_github.pulls[3]["base"]["ref"] = "sandbox"  # ... and passes here
    app_github.commit_pulls[HEAD] = [{"number": 2, "state": "open"},
                                     {"number": 3, "state": "open"}]
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))

    def fork(data: dict[str, Any]) -> None:
        data["workflow_run"]["pull_requests"] = []
    _, delivery = service.deliver("workflow_run", workflow_run(edit=fork))
    service.wait_for(delivery)
    assert only_check(app_github)["conclusion"] == "failure"
    # a review on the lax PR re-evaluates the commit: still the strictest verdict
    review = _ours("pull_request_review.submitted.1.json")
    review["pull_request"]["number"] = 3
    review["pull_request"]["head"]["sha"] = HEAD
    _, delivery = service.deliver("pull_request_review", review)
    service.wait_for(delivery)
    assert only_check(app_github)["conclusion"] == "failure"


def test_an_installation_the_repository_is_not_in_gets_no_token(
        app_github: FakeGitHub, service: Service) -> None:
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))

    def other(data: dict[str, Any]) -> None:
        data["installation"] = {"id": INSTALLATION + 1}
    _, delivery = service.deliver("workflow_run", workflow_run(edit=other))
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "error"
    assert posts(app_github) == [] and app_github.check_runs == {}


def _post(svc: Service, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(svc.url + "/webhook", data=body, timeout=10, headers={
        "X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": "attack", **headers})


def test_signatures_that_do_not_match_the_body_are_refused(
        app_github: FakeGitHub, service: Service) -> None:
    body = json.dumps(workflow_run()).encode()
    other = json.dumps(workflow_run(head="a" * 40)).encode()
    good = sign(SECRET.encode(), body)
    for headers, data in [
        ({"X-Hub-Signature-256": sign(SECRET.encode(), other)}, body),  # another body's
        ({}, body),  # none
        ({"X-Hub-Signature-256": ""}, body),
        ({"X-Hub-Signature-256": good.replace("sha256=", "sha1=")}, body),
        ({"X-Hub-Signature-256": good.upper()}, body),
        ({"X-Hub-Signature-256": good}, body + b" "),  # the body edited after signing
    ]:
        assert _post(service, data, headers).status_code == 401, headers
    # signed, but not JSON: refused before anything is asked of GitHub
    junk = b"\xff\xfe not json"
    answer = _post(service, junk, {"X-Hub-Signature-256": sign(SECRET.encode(), junk)})
    assert answer.status_code == 400
    assert app_github.log == []


def test_a_huge_body_is_refused_unread(app_github: FakeGitHub, service: Service) -> None:
    """A 1 GB POST is answered 413 from its headers; the service never reads it."""
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: workflow_run\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
                     + b"{" * 1024)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    # chunked, with no length: refused too rather than read to the end
    chunked = requests.post(service.url + "/webhook", data=iter([b"{}"] * 3), timeout=10,
                            headers={"X-GitHub-Event": "workflow_run"})
    assert chunked.status_code in (400, 411, 413)
    assert requests.get(service.url + "/readyz", timeout=5).status_code == 200
    assert app_github.log == []


def test_a_non_approvers_review_of_a_loosening_keeps_it_blocked(
        app_github: FakeGitHub, service: Service) -> None:
    """Approvers are the base's: the head adding its author to them changes nothing."""
    base_text = (ROOT / "policies/default.yaml").read_text() + "approvers: [alice]\n"
    loosened = base_text.replace("min: 0.85", "min: 0.5").replace("version: 1", "version: 2")
    app_github.contents[(BASE, "policies/default.yaml")] = base_text
    app_github.contents[(HEAD, "policies/default.yaml")] = loosened.replace(
        "approvers: [alice]", "approvers: [mallory]")
    app_github.add_artifact(RUN_ID, ARTIFACT, zip_folder(PASS))
    app_github.add_review(2, "mallory", "APPROVED", commit_id=HEAD)
    review = _ours("pull_request_review.submitted.1.json")
    _, first = service.deliver("workflow_run", workflow_run())
    service.wait_for(first)
    _, delivery = service.deliver("pull_request_review", copy.deepcopy(review))
    [line] = service.wait_for(delivery)
    assert line["verdict"] == "block", line
    assert only_check(app_github)["conclusion"] == "failure"


def test_a_client_stalling_mid_body_is_cut_off_not_waited_for(
        app_github: FakeGitHub, service: Service) -> None:
    """Connections that announce a body and send a byte of it would each hold a request thread
    for good; the service stops waiting (408) and goes on answering."""
    host, port = service.url.removeprefix("http://").split(":")
    stalled = []
    for _ in range(4):
        sock = socket.create_connection((host, int(port)), timeout=60)
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: workflow_run\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        stalled.append(sock)
    try:
        for sock in stalled:
            assert sock.recv(4096).startswith(b"HTTP/1.1 408")
    finally:
        for sock in stalled:
            sock.close()
    assert requests.get(service.url + "/healthz", timeout=10).status_code == 200
    assert app_github.log == []
