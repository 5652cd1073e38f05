"""publish(): the sticky comment, the check, summary and outputs, and every degraded path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_github import BOT_USER, HUMAN_USER, TOKEN, FakeGitHub, FakeSleep, event_copy
from helpers_github import PR_HEAD_SHA, REPO, make_client, parse_outputs, pr_environ

from gatekeeper.github.checks import ANNOTATIONS_PER_REQUEST
from gatekeeper.github.comment import COMMENT_LIMIT, marker, truncate_comment
from gatekeeper.github.publish import (
    FORK_NO_CHECK,
    PublishRequest,
    PublishResult,
    Route,
    client_for,
    decide_route,
    publish,
)
from gatekeeper.github.runner import Annotation
from gatekeeper.github.settings import GitHubSettings

COMMENTS = f"/repos/{REPO}/issues/2/comments"
POLICY_NAME = "sentiment-release"


def make_request(tmp_path: Path, status: str = "warn", **kw: object) -> PublishRequest:
    fields: dict[str, object] = {
        "status": status,
        "policy_name": "sentiment-release",
        "check_name": "gatekeeper",
        "title": f"gatekeeper: {status}",
        "comment_markdown": f"## gatekeeper: {status}\n\n| check | status |\n|---|---|\n",
        "summary_markdown": f"# gatekeeper: {status}\n",
        "annotations": (
            Annotation("warning", "accuracy inconclusive", "policies/release.yaml", 12, "accuracy"),
        ),
        "outputs": {"verdict": status, "exit-code": "0"},
        "comment_file": tmp_path / "gatekeeper" / "comment.md",
    }
    fields.update(kw)
    return PublishRequest(**fields)  # type: ignore[arg-type]


def run(
    tmp_path: Path,
    github: FakeGitHub,
    sleep: FakeSleep,
    request: PublishRequest,
    environ: dict[str, str] | None = None,
) -> PublishResult:
    settings = GitHubSettings.from_environ(environ or pr_environ(tmp_path, github))
    return publish(settings, make_client(settings, sleep), request)


def publish_environ(environ: dict[str, str], request: PublishRequest) -> PublishResult:
    """What `check --github` does: settings read once, the client made from them."""
    settings = GitHubSettings.from_environ(environ)
    return publish(settings, client_for(settings), request)


def test_first_run_creates_one_comment_check_summary_and_outputs(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    result = run(tmp_path, github, fake_sleep, make_request(tmp_path))
    assert result.warnings == ()
    assert result.actions == ("summary", "comment-created", "check_run", "outputs")
    [comment] = github.comments[2]
    assert comment["body"].startswith(marker("sentiment-release") + "\n## gatekeeper: warn")
    assert result.comment_url == comment["html_url"]
    [check] = github.check_runs.values()
    assert check["head_sha"] == PR_HEAD_SHA  # not GITHUB_SHA, the merge commit
    assert check["conclusion"] == "neutral" and check["name"] == "gatekeeper"
    assert check["details_url"] == f"https://github.com/{REPO}/actions/runs/42"
    assert "# gatekeeper: warn" in (tmp_path / "summary.md").read_text()
    outputs = parse_outputs((tmp_path / "output.txt").read_text())
    assert outputs == {
        "verdict": "warn",
        "exit-code": "0",
        "comment-url": comment["html_url"],
        "comment-file": "",
    }
    assert result.commands[0] == f"::add-mask::{TOKEN}"
    assert result.commands[1] == (
        "::warning file=policies/release.yaml,line=12,title=accuracy::accuracy inconclusive"
    )


def test_five_reruns_leave_exactly_one_updated_comment(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.add_comments(2, ["a human comment", f"> quoting {marker('sentiment-release')}"])
    run(tmp_path, github, fake_sleep, make_request(tmp_path, "pass"))
    for i in range(5):
        request = make_request(tmp_path, "block", comment_markdown=f"rerun {i}")
        result = run(tmp_path, github, fake_sleep, request)
        assert result.actions[1] == "comment-updated"
    ours = [c for c in github.comments[2] if c["body"].startswith(marker("sentiment-release"))]
    assert len(github.comments[2]) == 3 and len(ours) == 1
    assert ours[0]["body"].endswith("rerun 4")
    assert len(github.requests("POST", COMMENTS)) == 1
    assert len(github.requests("PATCH")) == 5


def test_one_comment_per_policy(tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    run(tmp_path, github, fake_sleep, make_request(tmp_path))
    run(tmp_path, github, fake_sleep, make_request(tmp_path, policy_name="latency"))
    run(tmp_path, github, fake_sleep, make_request(tmp_path, policy_name="latency"))
    assert len(github.comments[2]) == 2


def test_150_existing_comments_still_find_ours_on_page_two(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.add_comments(2, [f"chatter {i}" for i in range(140)])
    github.add_comments(2, [marker("sentiment-release") + "\nold report"])
    github.add_comments(2, [f"more chatter {i}" for i in range(9)])
    result = run(tmp_path, github, fake_sleep, make_request(tmp_path))
    assert result.actions[1] == "comment-updated"
    assert len(github.comments[2]) == 150
    assert [r.query.get("page") for r in github.requests("GET", COMMENTS)] == [None, "2"]
    assert all(r.query["per_page"] == "100" for r in github.requests("GET", COMMENTS))
    assert github.requests("POST", COMMENTS) == []


def test_fork_pr_degrades_to_summary_and_comment_file(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    def fork(data: dict) -> None:  # type: ignore[type-arg]
        data["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"

    environ = pr_environ(tmp_path, github)
    environ["GITHUB_EVENT_PATH"] = str(event_copy(tmp_path, "pull_request.opened.1.json", fork))
    request = make_request(tmp_path, "block")
    result = run(tmp_path, github, fake_sleep, request, environ)
    assert github.log == []  # a read-only token: nothing is even tried
    assert result.actions == ("summary", "comment-file", "outputs")
    assert any("fork pull request" in w for w in result.warnings)
    assert FORK_NO_CHECK in result.warnings
    assert "a trusted run must set the required check" in FORK_NO_CHECK
    assert not any("left to the workflow_run relay" in w for w in result.warnings)
    assert request.comment_file is not None
    assert request.comment_file.read_text().startswith(marker("sentiment-release"))
    relay = json.loads((request.comment_file.parent / "relay.json").read_text())
    assert relay["pr_number"] == 2 and relay["head_sha"] == PR_HEAD_SHA
    assert relay["status"] == "block" and relay["policy_name"] == "sentiment-release"
    outputs = parse_outputs((tmp_path / "output.txt").read_text())
    assert outputs["comment-file"] == str(request.comment_file)


def test_403_on_posting_degrades_without_raising(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.fail("GET", COMMENTS, 403, message="Resource not accessible by integration")
    github.fail(
        "POST", rf"/repos/{REPO}/check-runs", 403, message="Resource not accessible by integration"
    )
    github.fail(
        "POST",
        rf"/repos/{REPO}/statuses/\w+",
        403,
        message="Resource not accessible by integration",
    )
    request = make_request(tmp_path, "block")
    result = run(tmp_path, github, fake_sleep, request)  # returns: the exit code is the caller's
    assert result.actions == ("summary", "comment-file", "outputs")
    assert len(result.warnings) == 2
    assert "Resource not accessible by integration" in result.warnings[0]
    assert result.warnings[1].startswith("could not set the check")
    assert all(TOKEN not in w for w in result.warnings)
    assert request.comment_file is not None and request.comment_file.exists()
    assert (tmp_path / "summary.md").exists()


@pytest.mark.parametrize(
    ("status", "conclusion"), [("pass", "success"), ("warn", "neutral"), ("block", "failure")]
)
def test_check_run_conclusions(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep, status: str, conclusion: str
) -> None:
    run(tmp_path, github, fake_sleep, make_request(tmp_path, status, comment_enabled=False))
    [check] = github.check_runs.values()
    assert check["conclusion"] == conclusion and check["status"] == "completed"
    assert github.comments == {}


@pytest.mark.parametrize(
    ("status", "state", "description"),
    [
        ("pass", "success", "gatekeeper: pass"),
        ("warn", "success", "warn: gatekeeper: warn"),
        ("block", "failure", "gatekeeper: block"),
    ],
)
def test_commit_status_fallback(
    tmp_path: Path,
    github: FakeGitHub,
    fake_sleep: FakeSleep,
    status: str,
    state: str,
    description: str,
) -> None:
    github.fail(
        "POST", rf"/repos/{REPO}/check-runs", 403, message="Resource not accessible by integration"
    )
    result = run(tmp_path, github, fake_sleep, make_request(tmp_path, status))
    [posted] = github.statuses
    assert posted["sha"] == PR_HEAD_SHA and posted["state"] == state
    assert posted["context"] == "gatekeeper" and posted["description"] == description
    assert "status" in result.actions
    assert any("set a commit status instead" in w for w in result.warnings)


def test_status_description_is_capped(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.fail("POST", rf"/repos/{REPO}/check-runs", 404, message="Not Found")
    run(tmp_path, github, fake_sleep, make_request(tmp_path, "warn", title="x" * 500))
    assert len(github.statuses[0]["description"]) == 140


def test_annotations_are_sent_in_batches_of_50(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    annotations = (
        *(Annotation("error", f"check {i} failed", "bundle/run.yaml", i + 1) for i in range(120)),
        Annotation("notice", "no file: summary only"),
    )
    run(tmp_path, github, fake_sleep, make_request(tmp_path, "block", annotations=annotations))
    [check] = github.check_runs.values()
    assert len(check["output"]["annotations"]) == ANNOTATIONS_PER_REQUEST
    patches = github.requests("PATCH", rf"/repos/{REPO}/check-runs/\d+")
    assert [len(p.body["output"]["annotations"]) for p in patches] == [50, 20]
    assert [a["start_line"] for a in check["all_annotations"]] == list(range(1, 121))
    assert check["all_annotations"][0]["annotation_level"] == "failure"


def test_long_comment_is_truncated_keeping_the_marker(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    body = "```\n" + ("row\n" * 40000)
    run(tmp_path, github, fake_sleep, make_request(tmp_path, comment_markdown=body))
    posted = github.comments[2][0]["body"]
    assert len(posted) <= COMMENT_LIMIT
    assert posted.startswith(marker("sentiment-release"))
    assert posted.count("```") % 2 == 0
    assert posted.rstrip().endswith(
        "The full report is in the job summary and the uploaded artifact."
    )


def test_truncate_comment_leaves_short_bodies_alone() -> None:
    assert truncate_comment("short") == "short"
    assert len(truncate_comment("x" * 70000, limit=1000)) <= 1000


def test_push_event_sets_the_check_on_github_sha_and_posts_no_comment(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    environ = pr_environ(tmp_path, github, event="push.1.json")
    result = run(tmp_path, github, fake_sleep, make_request(tmp_path, "pass"), environ)
    assert github.comments == {}
    [check] = github.check_runs.values()
    assert check["head_sha"] == "1" * 40
    assert "comment-created" not in result.actions


def test_server_errors_everywhere_never_raise(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.fail("GET", COMMENTS, 500, times=100)
    github.fail("POST", rf"/repos/{REPO}/check-runs", 502, times=100)
    result = run(tmp_path, github, fake_sleep, make_request(tmp_path, "block"))
    assert len(result.warnings) == 2
    assert "HTTP 500 after 5 attempts" in result.warnings[0]
    assert "HTTP 502 after 5 attempts" in result.warnings[1]
    assert result.actions == ("summary", "outputs")


def test_settings_and_client_from_the_environment_end_to_end(
    tmp_path: Path, github: FakeGitHub
) -> None:
    result = publish_environ(pr_environ(tmp_path, github), make_request(tmp_path, "pass"))
    assert result.warnings == ()
    assert len(github.comments[2]) == 1 and len(github.check_runs) == 1


def test_without_token_only_local_files_are_written(tmp_path: Path, github: FakeGitHub) -> None:
    environ = pr_environ(tmp_path, github)
    del environ["GITHUB_TOKEN"]
    result = publish_environ(environ, make_request(tmp_path))
    assert github.log == []
    assert result.actions == ("summary", "comment-file", "outputs")
    assert result.commands[0].startswith("::warning ")  # no mask without a token


def test_a_marker_planted_by_someone_else_is_never_edited(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    """Anyone can write the marker; only the token's own comment is gatekeeper's."""
    planted = marker("sentiment-release") + "\nplanted by the PR author"
    github.add_comments(2, [planted], user=HUMAN_USER)
    # A user account cannot pass for the bot by its login alone.
    github.add_comments(2, [planted], user=dict(BOT_USER, type="User"))
    first = run(tmp_path, github, fake_sleep, make_request(tmp_path, "block"))
    assert first.actions[1] == "comment-created"
    second = run(tmp_path, github, fake_sleep, make_request(tmp_path, "pass"))
    assert second.actions[1] == "comment-updated"
    human, impostor, ours = github.comments[2]
    assert human["body"] == planted and impostor["body"] == planted
    assert ours["user"] == BOT_USER and "## gatekeeper: pass" in ours["body"]
    [patch] = github.requests("PATCH")
    assert patch.path.endswith(f"/issues/comments/{ours['id']}")


def test_the_bot_comment_is_updated_past_a_planted_one(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    github.add_comments(2, [marker("sentiment-release") + "\nplanted"], user=HUMAN_USER)
    github.add_comments(2, [marker("sentiment-release") + "\nold report"])
    result = run(tmp_path, github, fake_sleep, make_request(tmp_path, "pass"))
    assert result.actions[1] == "comment-updated"
    planted, ours = github.comments[2]
    assert planted["body"].endswith("planted") and ours["body"].endswith("|---|---|\n")
    assert github.requests("POST", COMMENTS) == []


def test_an_app_token_names_its_identity(tmp_path: Path, github: FakeGitHub) -> None:
    app = {"login": "gate-app[bot]", "id": 77, "type": "Bot"}
    github.add_comments(2, [marker("sentiment-release") + "\nby the actions bot"])
    github.add_comments(2, [marker("sentiment-release") + "\nby the app"], user=app)
    environ = pr_environ(tmp_path, github, GATEKEEPER_COMMENT_AUTHOR="gate-app[bot]")
    result = publish_environ(environ, make_request(tmp_path, "pass"))
    assert "comment-updated" in result.actions
    actions_bot, by_app = github.comments[2]
    assert actions_bot["body"].endswith("by the actions bot")
    assert by_app["body"].startswith(marker("sentiment-release") + "\n## gatekeeper: pass")


def _edit_event(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], dict[str, str]]:
    def environ(tmp_path: Path) -> dict[str, str]:
        return {"GITHUB_EVENT_PATH": str(event_copy(tmp_path, "pull_request.opened.1.json", edit))}

    return environ


def _fork(data: dict[str, Any]) -> None:
    data["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"


def _deleted_fork(data: dict[str, Any]) -> None:
    data["pull_request"]["head"]["repo"] = None


# event payload, what to change in the environment, whether a client exists → the route
ROUTES = [
    pytest.param("pull_request.opened.1.json", {}, True, Route.POST, id="pr"),
    pytest.param(
        "pull_request.opened.1.json", {"GITHUB_EVENT_NAME": "pull_request_target"}, True,
        Route.POST, id="pr-target",
    ),
    pytest.param("pull_request.synchronize.1.json", {}, True, Route.POST, id="pr-sync"),
    pytest.param("push.1.json", {}, True, Route.POST, id="push"),
    pytest.param("merge_group.checks_requested.1.json", {}, True, Route.POST, id="merge-group"),
    pytest.param("pull_request.opened.1.json", _edit_event(_fork), True, Route.RELAY, id="fork"),
    pytest.param(
        "pull_request.opened.1.json", _edit_event(_deleted_fork), True, Route.RELAY,
        id="deleted-fork",
    ),
    # A fork stays a fork without a token: its comment is for the relay either way.
    pytest.param(
        "pull_request.opened.1.json", _edit_event(_fork), False, Route.RELAY, id="fork-no-token"
    ),
    pytest.param(
        "pull_request.opened.1.json", {"GITHUB_TOKEN": ""}, False, Route.SUMMARY_ONLY,
        id="pr-no-token",
    ),
    pytest.param(
        "pull_request.opened.1.json", {}, False, Route.SUMMARY_ONLY, id="pr-token-no-client"
    ),
    pytest.param(
        "pull_request.opened.1.json", {"GITHUB_REPOSITORY": ""}, True, Route.SUMMARY_ONLY,
        id="pr-no-repository",
    ),
    pytest.param(
        "push.1.json", {"GITHUB_TOKEN": ""}, False, Route.SUMMARY_ONLY, id="push-no-token"
    ),
]


@pytest.mark.parametrize(("event", "change", "has_client", "route"), ROUTES)
def test_route_decision(
    tmp_path: Path,
    github: FakeGitHub,
    event: str,
    change: dict[str, str] | Callable[[Path], dict[str, str]],
    has_client: bool,
    route: Route,
) -> None:
    environ = pr_environ(tmp_path, github, event=event)
    environ.update(change if isinstance(change, dict) else change(tmp_path))
    settings = GitHubSettings.from_environ(environ)
    assert decide_route(settings, has_client=has_client) is route
    assert github.log == []  # deciding makes no request


# What GitHub allows (faults) → the route taken, and what each output became.
OUTCOMES = [
    pytest.param({}, [], Route.POST, "comment-created", "check_run", id="all-allowed"),
    pytest.param(
        {}, [("GET", COMMENTS, 403)], Route.DEGRADED, "comment-file", "check_run",
        id="comments-forbidden",
    ),
    pytest.param(
        {}, [("POST", COMMENTS, 404)], Route.DEGRADED, "comment-file", "check_run",
        id="comment-post-not-found",
    ),
    pytest.param(
        {}, [("POST", rf"/repos/{REPO}/check-runs", 403)], Route.POST, "comment-created",
        "status", id="checks-forbidden",
    ),
    pytest.param(
        {}, [("POST", COMMENTS, 422)], Route.POST, None, "check_run", id="comment-rejected",
    ),
    pytest.param(
        _edit_event(_fork), [], Route.RELAY, "comment-file", None, id="fork",
    ),
    pytest.param(
        {"GITHUB_TOKEN": ""}, [], Route.SUMMARY_ONLY, "comment-file", None, id="no-token",
    ),
]


@pytest.mark.parametrize(("change", "faults", "route", "comment", "check"), OUTCOMES)
def test_route_taken_for_each_permission(
    tmp_path: Path,
    github: FakeGitHub,
    fake_sleep: FakeSleep,
    change: dict[str, str] | Callable[[Path], dict[str, str]],
    faults: list[tuple[str, str, int]],
    route: Route,
    comment: str | None,
    check: str | None,
) -> None:
    environ = pr_environ(tmp_path, github)
    environ.update(change if isinstance(change, dict) else change(tmp_path))
    for method, path, status in faults:
        github.fail(method, path, status, message="Resource not accessible by integration")
    settings = GitHubSettings.from_environ(environ)
    client = make_client(settings, fake_sleep) if settings.token else None
    request = make_request(tmp_path, "block")
    result = publish(settings, client, request)
    assert result.route is route
    assert result.actions[0] == "summary" and result.actions[-1] == "outputs"
    middle = result.actions[1:-1]
    assert middle == tuple(a for a in (comment, check) if a is not None)
    posted = [c for c in github.comments.get(2, []) if c["body"].startswith(marker(POLICY_NAME))]
    assert len(posted) == (1 if comment == "comment-created" else 0)
    assert (result.comment_file is not None) == (comment == "comment-file")
    assert bool(github.check_runs) == (check == "check_run")
    assert bool(github.statuses) == (check == "status")
