"""Environment builders shared by the GitHub tests."""

from __future__ import annotations

from pathlib import Path

import requests
from fake_github import TOKEN, FakeGitHub, FakeSleep, event_copy

from gatekeeper.github.client import GitHubClient
from gatekeeper.github.settings import GitHubSettings
from tests.conftest import use_environ

__all__ = ["use_environ"]  # re-exported for the GitHub tests

REPO = "Codertocat/Hello-World"
PR_HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # pull_request.head.sha in the payload


def pr_environ(
    tmp_path: Path, github: FakeGitHub, event: str = "pull_request.opened.1.json", **extra: str
) -> dict[str, str]:
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": github.api_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_NAME": event.split(".")[0],
        "GITHUB_EVENT_PATH": str(event_copy(tmp_path, event)),
        # On PRs GITHUB_SHA is the merge commit, never the commit to report on.
        "GITHUB_SHA": "1" * 40,
        "GITHUB_RUN_ID": "42",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "GITHUB_TOKEN": TOKEN,
    }
    environ.update(extra)
    return environ


def make_client(
    settings: GitHubSettings, sleep: FakeSleep, session: requests.Session | None = None
) -> GitHubClient:
    return GitHubClient(
        settings.api_url, settings.token, session, sleep=sleep.sleep, clock=sleep.clock
    )


def parse_outputs(text: str) -> dict[str, str]:
    """The runner's reading of a GITHUB_OUTPUT file (heredoc form only)."""
    out: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        name, delimiter = line.split("<<", 1)
        value: list[str] = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        out[name] = "\n".join(value)
    return out
