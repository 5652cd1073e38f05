"""Settings from an environ mapping, with the real webhook payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_github import EVENTS, TOKEN, event_copy

from gatekeeper.errors import GitHubError
from gatekeeper.github.settings import GitHubSettings, report_server_url, settings_for_check

PR_HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
MERGE_SHA = "1" * 40


def base_env(tmp_path: Path, event: str) -> dict[str, str]:
    return {
        "GITHUB_REPOSITORY": "Codertocat/Hello-World",
        "GITHUB_EVENT_NAME": event.split(".")[0],
        "GITHUB_EVENT_PATH": str(event_copy(tmp_path, event)),
        "GITHUB_SHA": MERGE_SHA,
    }


def test_pull_request_event_reports_on_the_head_sha_not_the_merge_commit(tmp_path: Path) -> None:
    env = base_env(tmp_path, "pull_request.synchronize.1.json")
    env.update(GITHUB_TOKEN=TOKEN, GITHUB_STEP_SUMMARY="/s", GITHUB_OUTPUT="/o", GITHUB_RUN_ID="9")
    s = GitHubSettings.from_environ(env)
    assert s.pr_number == 2
    assert s.head_sha == PR_HEAD
    assert s.base_ref == "master"
    assert s.base_sha is not None and len(s.base_sha) == 40
    assert s.is_fork is False
    assert s.api_url == "https://api.github.com"
    assert s.step_summary == Path("/s") and s.output == Path("/o")
    assert s.run_url == "https://github.com/Codertocat/Hello-World/actions/runs/9"
    assert TOKEN not in repr(s)


def test_fork_pull_request_is_detected(tmp_path: Path) -> None:
    def fork(data: dict) -> None:  # type: ignore[type-arg]
        data["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"

    env = base_env(tmp_path, "pull_request.opened.1.json")
    env["GITHUB_EVENT_PATH"] = str(event_copy(tmp_path, "pull_request.opened.1.json", fork))
    assert GitHubSettings.from_environ(env).is_fork is True


def test_deleted_fork_counts_as_fork(tmp_path: Path) -> None:
    def gone(data: dict) -> None:  # type: ignore[type-arg]
        data["pull_request"]["head"]["repo"] = None

    env = base_env(tmp_path, "pull_request.opened.1.json")
    env["GITHUB_EVENT_PATH"] = str(event_copy(tmp_path, "pull_request.opened.1.json", gone))
    assert GitHubSettings.from_environ(env).is_fork is True


def test_push_event_uses_github_sha(tmp_path: Path) -> None:
    s = GitHubSettings.from_environ(base_env(tmp_path, "push.1.json"))
    assert s.pr_number is None and s.head_sha == MERGE_SHA and not s.is_fork


def test_merge_group_event(tmp_path: Path) -> None:
    s = GitHubSettings.from_environ(base_env(tmp_path, "merge_group.checks_requested.1.json"))
    assert s.head_sha == "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
    assert s.base_ref == "main"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("GITHUB_TOKEN",), "t-GITHUB_TOKEN"),
        (("GITHUB_TOKEN", "INPUT_GITHUB_TOKEN"), "t-INPUT_GITHUB_TOKEN"),
        (
            ("GITHUB_TOKEN", "INPUT_GITHUB_TOKEN", "GATEKEEPER_GITHUB_TOKEN"),
            "t-GATEKEEPER_GITHUB_TOKEN",
        ),
    ],
)
def test_token_precedence(names: tuple[str, ...], expected: str) -> None:
    s = GitHubSettings.from_environ({n: f"t-{n}" for n in names})
    assert s.token == expected


def test_missing_token_error_names_the_variables() -> None:
    s = GitHubSettings.from_environ({"GITHUB_TOKEN": ""})
    with pytest.raises(
        GitHubError, match="GATEKEEPER_GITHUB_TOKEN, INPUT_GITHUB_TOKEN, GITHUB_TOKEN"
    ):
        s.require_token()


def test_ghes_api_url_is_taken_from_the_environment() -> None:
    s = GitHubSettings.from_environ({"GITHUB_API_URL": "https://ghe.example.com/api/v3/"})
    assert s.api_url == "https://ghe.example.com/api/v3"
    s = GitHubSettings.from_environ(
        {"GITHUB_API_URL": "https://api.github.com", "GATEKEEPER_GITHUB_API_URL": "http://h/api/v3"}
    )
    assert s.api_url == "http://h/api/v3"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_REPOSITORY": "no-slash"}, "GITHUB_REPOSITORY must look like 'owner/name'"),
        ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL must be an http"),
        ({"GITHUB_EVENT_PATH": "/nonexistent/event.json"}, "GITHUB_EVENT_PATH: cannot read"),
        ({"GITHUB_SHA": "main"}, "GITHUB_SHA: expected a hex commit sha"),
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(GitHubError, match=message):
        GitHubSettings.from_environ(env)


def test_malformed_event_payloads(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(GitHubError, match=r"GITHUB_EVENT_PATH: .* is not valid JSON"):
        GitHubSettings.from_environ({"GITHUB_EVENT_PATH": str(bad)})
    data = json.loads((event_copy(tmp_path, "pull_request.opened.1.json")).read_text())
    data["pull_request"]["number"] = "2"
    bad.write_text(json.dumps(data))
    with pytest.raises(GitHubError, match=r"pull_request\.number must be a positive int"):
        GitHubSettings.from_environ(
            {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(bad)}
        )


def test_comment_author_and_runner_are_read_with_the_rest() -> None:
    s = GitHubSettings.from_environ({})
    assert s.comment_author == "github-actions[bot]" and s.on_runner is False
    s = GitHubSettings.from_environ(
        {"GATEKEEPER_COMMENT_AUTHOR": " gate-app[bot] ", "GITHUB_ACTIONS": "true"}
    )
    assert s.comment_author == "gate-app[bot]" and s.on_runner is True
    assert GitHubSettings.from_environ({"GITHUB_ACTIONS": "1"}).on_runner is False


def test_run_url_needs_repository_and_run_id() -> None:
    assert GitHubSettings.from_environ({"GITHUB_RUN_ID": "9"}).run_url is None
    assert GitHubSettings.from_environ({"GITHUB_REPOSITORY": "o/r"}).run_url is None
    s = GitHubSettings.from_environ(
        {"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "9", "GITHUB_SERVER_URL": "https://ghe.x/"}
    )
    assert s.run_url == "https://ghe.x/o/r/actions/runs/9"


def test_settings_for_check_reads_a_good_environment_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings_for_check(base_env(tmp_path, "pull_request.opened.1.json"))
    assert s is not None and s.pr_number == 2
    assert capsys.readouterr().err == ""


def test_settings_for_check_falls_back_to_local_reporting_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = base_env(tmp_path, "push.1.json")
    env["GITHUB_EVENT_NAME"] = "workflow_dispatch"  # gates no change: local reporting is safe
    env["GITHUB_REPOSITORY"] = "nope\n::error::x"
    assert settings_for_check(env) is None
    assert capsys.readouterr().err == (
        "gatekeeper: warning: GitHub settings unavailable; reporting locally\n"
        "gatekeeper: warning: GitHub reporting skipped: GITHUB_REPOSITORY must look like "
        "'owner/name', got 'nope\\n::error::x'\n"
    )


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target", "merge_group", "push"])
def test_settings_for_check_stops_a_gating_event_without_its_payload(
    event: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the payload there is no PR base: gating with the PR's own policy would let it
    choose its rules."""
    env = {"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": "/nonexistent/event.json"}
    with pytest.raises(GitHubError, match="GITHUB_EVENT_PATH: cannot read"):
        settings_for_check(env)
    assert capsys.readouterr().err == ""


def test_report_server_url_is_taken_as_given() -> None:
    assert report_server_url({}) == "https://github.com"
    assert report_server_url({"GITHUB_SERVER_URL": "https://ghe.x/"}) == "https://ghe.x/"


def test_each_gating_event_names_the_commit_it_lands_on(tmp_path: Path) -> None:
    pr = GitHubSettings.from_environ(base_env(tmp_path, "pull_request.opened.1.json"))
    assert pr.trusted_base() == pr.base_sha
    group = GitHubSettings.from_environ(
        base_env(tmp_path, "merge_group.checks_requested.1.json"))
    assert group.trusted_base() == "380387fbc80638b734a49e1be1c4dfec1c01b33c"  # base_sha


def test_a_push_is_gated_by_its_before_commit_and_a_tag_push_by_nothing(tmp_path: Path) -> None:
    env = base_env(tmp_path, "push.1.json")  # a tag push: refs/tags/simple-tag
    assert GitHubSettings.from_environ(env).trusted_base() is None
    payload = json.loads((EVENTS / "push.1.json").read_text())
    payload.update(ref="refs/heads/release/1", before="a" * 40)
    path = tmp_path / "push-branch.json"
    path.write_text(json.dumps(payload))
    pushed = GitHubSettings.from_environ({**env, "GITHUB_EVENT_PATH": str(path)})
    assert pushed.trusted_base() == "a" * 40 and pushed.base_ref == "release/1"
    payload["before"] = "0" * 40  # a push that creates the branch has no earlier commit
    path.write_text(json.dumps(payload))
    created = GitHubSettings.from_environ({**env, "GITHUB_EVENT_PATH": str(path)})
    with pytest.raises(GitHubError, match="push that creates a branch has none"):
        created.trusted_base()
