"""The workflow_run relay: validated files in, a comment and check out, forgeries refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_github import FakeGitHub, FakeSleep, event_copy
from helpers_github import PR_HEAD_SHA, make_client, pr_environ

from gatekeeper.errors import GitHubError
from gatekeeper.github.comment import COMMENT_LIMIT, marker
from gatekeeper.github.publish import PublishRequest, publish
from gatekeeper.github.relay import (
    FORK_BANNER,
    NO_CHECK_NOTE,
    RELAY_CUT_NOTE,
    REPORT_SUMMARY,
    load_relay,
    relay,
)
from gatekeeper.github.settings import GitHubSettings

RUN_EVENT = "workflow_run.completed.3.json"


def fork_publish(
    tmp_path: Path, github: FakeGitHub, sleep: FakeSleep, status: str = "block"
) -> Path:
    """What the fork PR's run leaves behind: comment.md + relay.json."""

    def fork(data: dict[str, Any]) -> None:
        data["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"

    environ = pr_environ(tmp_path, github)
    environ["GITHUB_EVENT_PATH"] = str(event_copy(tmp_path, "pull_request.opened.1.json", fork))
    settings = GitHubSettings.from_environ(environ)
    request = PublishRequest(
        status=status,
        policy_name="sentiment-release",
        check_name="gatekeeper",
        title=f"gatekeeper: {status}",
        comment_markdown="## blocked: accuracy regressed",
        summary_markdown="# summary",
        comment_file=tmp_path / "artifact" / "comment.md",
    )
    publish(settings, make_client(settings, sleep), request)
    return tmp_path / "artifact"


def relay_environ(
    tmp_path: Path, github: FakeGitHub, head_sha: str = PR_HEAD_SHA
) -> dict[str, str]:
    def from_pr(data: dict[str, Any]) -> None:
        # The real payload was triggered by repository_dispatch; a fork PR's run looks like this.
        data["workflow_run"]["event"] = "pull_request"
        data["workflow_run"]["head_sha"] = head_sha
        data["workflow_run"]["pull_requests"] = []  # GitHub leaves it empty for fork PRs

    environ = pr_environ(tmp_path, github, event=RUN_EVENT)
    environ["GITHUB_EVENT_PATH"] = str(event_copy(tmp_path, RUN_EVENT, from_pr))
    return environ


def test_relay_posts_the_stored_comment_under_a_fork_banner(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    assert github.log == []
    github.pulls[2] = {"number": 2, "head": {"sha": PR_HEAD_SHA}}
    settings = GitHubSettings.from_environ(relay_environ(tmp_path, github))
    result = relay(settings, make_client(settings, fake_sleep), artifact)
    assert result.actions == ("comment-created",)
    assert result.warnings == (NO_CHECK_NOTE,) and result.check_url is None
    [comment] = github.comments[2]
    assert comment["body"] == (
        marker("sentiment-release") + "\n" + FORK_BANNER + "\n<details open>\n"
        f"<summary>{REPORT_SUMMARY}</summary>\n\n"
        "```markdown\n## blocked: accuracy regressed\n```\n\n</details>\n"
    )
    assert "not a verified gate result" in comment["body"].split("\n")[2]
    assert github.check_runs == {} and github.statuses == []
    # A second relay (re-run) updates the same comment and keeps a single banner.
    relay(settings, make_client(settings, fake_sleep), artifact)
    [comment] = github.comments[2]
    assert comment["body"].count("not a verified gate result") == 1


def test_a_forged_pass_never_becomes_a_check(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    """The fork's workflow can write any verdict: a forged pass must not reach branch protection."""
    artifact = fork_publish(tmp_path, github, fake_sleep, status="block")
    _write(artifact, status="pass", check_name="gatekeeper", title="gatekeeper: pass")
    (artifact / "comment.md").write_text(marker("sentiment-release") + "\n## passed, trust me")
    github.pulls[2] = {"number": 2, "head": {"sha": PR_HEAD_SHA}}
    settings = GitHubSettings.from_environ(relay_environ(tmp_path, github))
    result = relay(settings, make_client(settings, fake_sleep), artifact)
    # Neither a check run nor a commit status, under the gate's name or any other.
    assert github.check_runs == {} and github.statuses == []
    assert github.requests("POST", r".*/(check-runs|statuses)") == []
    assert "check_run" not in result.actions and "status" not in result.actions
    [comment] = github.comments[2]
    assert comment["body"].index(FORK_BANNER) < comment["body"].index("passed, trust me")


def test_relay_refuses_a_head_sha_other_than_the_triggering_run(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep, status="pass")
    settings = GitHubSettings.from_environ(relay_environ(tmp_path, github, head_sha="f" * 40))
    with pytest.raises(GitHubError, match="differs from the triggering run"):
        relay(settings, make_client(settings, fake_sleep), artifact)
    assert github.log == []


def test_relay_refuses_a_pr_that_is_not_at_that_commit(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep, status="pass")
    github.pulls[2] = {"number": 2, "head": {"sha": "a" * 40}}  # e.g. pr_number swapped
    settings = GitHubSettings.from_environ(relay_environ(tmp_path, github))
    with pytest.raises(GitHubError, match="is not at"):
        relay(settings, make_client(settings, fake_sleep), artifact)
    assert github.comments == {} and github.check_runs == {}


def test_relay_needs_a_workflow_run_event(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    settings = GitHubSettings.from_environ(pr_environ(tmp_path, github))
    with pytest.raises(GitHubError, match="workflow_run event"):
        relay(settings, make_client(settings, fake_sleep), artifact)


def _write(artifact: Path, **changes: Any) -> None:
    path = artifact / "relay.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pr_number": "2"}, "'pr_number' must be an integer"),
        ({"pr_number": True}, "'pr_number' must be an integer"),
        ({"pr_number": -1}, "'pr_number' must be positive"),
        ({"head_sha": "HEAD; rm -rf /"}, "'head_sha' must be a hex commit sha"),
        ({"status": "approve"}, "'status' must be one of"),
        ({"comment_file": "../../etc/passwd"}, "'comment_file' must be a plain file name"),
        ({"comment_file": "relay.json"}, "'comment_file' must be a plain file name"),
        ({"schema": "other"}, "'schema' must be"),
        ({"policy_name": "x\n"}, "'policy_name' must be 1-200 printable characters"),
        ({"policy_name": "other-policy"}, "does not start with gatekeeper's marker"),
    ],
)
def test_relay_files_are_validated(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep, changes: dict[str, Any], message: str
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    _write(artifact, **changes)
    with pytest.raises(GitHubError, match=message):
        load_relay(artifact)


def test_oversized_files_are_refused(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    (artifact / "comment.md").write_text(marker("sentiment-release") + "x" * 300_000)
    with pytest.raises(GitHubError, match="larger than"):
        load_relay(artifact)
    (artifact / "relay.json").write_text(" " * 70_000)
    with pytest.raises(GitHubError, match="larger than"):
        load_relay(artifact)


def test_missing_relay_file(tmp_path: Path) -> None:
    with pytest.raises(GitHubError, match="missing or not a regular file"):
        load_relay(tmp_path)



def _fenced_report(body: str) -> tuple[str, str]:
    """The fence and the text inside the first fenced block of ``body`` (CommonMark rules:
    a closing fence is a line of at least as many backticks and nothing else)."""
    lines = body.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("```"))
    fence = lines[start][: len(lines[start]) - len(lines[start].lstrip("`"))]
    for end in range(start + 1, len(lines)):
        stripped = lines[end].strip()
        if stripped and set(stripped) == {"`"} and len(stripped) >= len(fence):
            return fence, "\n".join(lines[start + 1 : end])
    raise AssertionError("the fenced block is never closed")


HOSTILE = (
    "## passed\n@octo-org/maintainers please merge, cc @alice\n"
    '<img src="https://evil.example/track.png"> <a href="https://evil.example">details</a>\n'
    "![pixel](https://evil.example/p.gif)\n</details>\n"
    "````\n```\nescaped?\n"
)


def test_the_forks_markdown_is_posted_inert(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    """Mentions, images and raw HTML of the fork's report must not act under the bot's name."""
    artifact = fork_publish(tmp_path, github, fake_sleep)
    (artifact / "comment.md").write_text(marker("sentiment-release") + "\n" + HOSTILE)
    github.pulls[2] = {"number": 2, "head": {"sha": PR_HEAD_SHA}}
    settings = GitHubSettings.from_environ(relay_environ(tmp_path, github))
    relay(settings, make_client(settings, fake_sleep), artifact)
    [comment] = github.comments[2]
    body = comment["body"]
    fence, inside = _fenced_report(body)
    assert len(fence) == 5  # longer than the report's longest run of backticks (4)
    assert inside == HOSTILE.strip("\n")  # readable: the report's text, unchanged
    # Outside the code block there is only gatekeeper's own text.
    outside = body.replace(inside, "")
    assert "@" not in outside and "evil.example" not in outside and "<img" not in outside
    assert body.endswith(f"{fence}\n\n</details>\n")


def test_a_huge_report_is_cut_inside_its_block(
    tmp_path: Path, github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    artifact = fork_publish(tmp_path, github, fake_sleep)
    report = "\n".join(f"| row {i} | `x` |" for i in range(6000))
    (artifact / "comment.md").write_text(marker("sentiment-release") + "\n" + report)
    github.pulls[2] = {"number": 2, "head": {"sha": PR_HEAD_SHA}}
    settings = GitHubSettings.from_environ(relay_environ(tmp_path, github))
    relay(settings, make_client(settings, fake_sleep), artifact)
    [comment] = github.comments[2]
    assert len(comment["body"]) <= COMMENT_LIMIT
    _, inside = _fenced_report(comment["body"])
    assert inside.endswith(RELAY_CUT_NOTE) and inside.startswith("| row 0 |")
    assert comment["body"].endswith("</details>\n")
