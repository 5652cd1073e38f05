"""gatekeeper protect: the release-branch ruleset."""

from __future__ import annotations

import pytest
from fake_github import TOKEN, FakeGitHub, FakeSleep
from helpers_github import REPO

from gatekeeper.github.client import GitHubClient
from gatekeeper.github.protect import ensure_release_ruleset

RULESETS = f"/repos/{REPO}/rulesets"


def client(github: FakeGitHub, sleep: FakeSleep) -> GitHubClient:
    return GitHubClient(github.api_url, TOKEN, sleep=sleep.sleep)


def test_creates_then_leaves_unchanged(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    c = client(github, fake_sleep)
    first = ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    assert first.action == "created"
    [ruleset] = github.rulesets.values()
    assert ruleset["target"] == "branch" and ruleset["enforcement"] == "active"
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/release/*"]
    [rule] = ruleset["rules"]
    assert rule["type"] == "required_status_checks"
    assert rule["parameters"]["required_status_checks"] == [{"context": "gatekeeper"}]
    second = ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    assert second.action == "unchanged" and second.ruleset_id == first.ruleset_id
    assert github.requests("PUT") == []


def test_updates_an_existing_ruleset_keeping_other_rules(
    github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    c = client(github, fake_sleep)
    ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    [rid] = github.rulesets
    github.rulesets[rid]["rules"].insert(0, {"type": "deletion"})
    github.rulesets[rid]["enforcement"] = "evaluate"
    result = ensure_release_ruleset(c, REPO, "hotfix/*", "gatekeeper")
    assert result.action == "updated"
    ruleset = github.rulesets[rid]
    assert ruleset["enforcement"] == "active"
    assert ruleset["conditions"]["ref_name"]["include"] == [
        "refs/heads/release/*",
        "refs/heads/hotfix/*",
    ]
    assert [r["type"] for r in ruleset["rules"]] == ["deletion", "required_status_checks"]
    assert len(github.requests("PUT", rf"{RULESETS}/\d+")) == 1


@pytest.mark.parametrize("status", [403, 404])
def test_without_admin_rights_returns_settings_for_a_human(
    github: FakeGitHub, fake_sleep: FakeSleep, status: int
) -> None:
    github.fail("GET", RULESETS, status, message="Resource not accessible by integration")
    result = ensure_release_ruleset(client(github, fake_sleep), REPO, "release/*", "gatekeeper")
    assert result.action == "manual" and result.settings_text is not None
    assert "Require status checks to pass; add the check 'gatekeeper'" in result.settings_text
    assert '"refs/heads/release/*"' in result.settings_text
    assert f"repos/{REPO}/rulesets" in result.settings_text
    assert github.rulesets == {}


def test_adds_the_check_to_an_existing_status_rule_keeping_its_settings(
    github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    c = client(github, fake_sleep)
    ensure_release_ruleset(c, REPO, "release/*", "ci")
    [rid] = github.rulesets
    params = github.rulesets[rid]["rules"][0]["parameters"]
    params["strict_required_status_checks_policy"] = True
    github.rulesets[rid]["name"] = "gatekeeper: require gatekeeper"  # found by our name
    github.rulesets[rid]["conditions"]["ref_name"]["exclude"] = ["refs/heads/release/old"]
    result = ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    assert result.action == "updated"
    ruleset = github.rulesets[rid]
    [rule] = ruleset["rules"]
    assert rule["parameters"] == {
        "required_status_checks": [{"context": "ci"}, {"context": "gatekeeper"}],
        "strict_required_status_checks_policy": True,
    }
    assert ruleset["conditions"]["ref_name"] == {
        "include": ["refs/heads/release/*"],
        "exclude": ["refs/heads/release/old"],
    }


def test_a_ruleset_without_a_status_rule_gets_one(
    github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    c = client(github, fake_sleep)
    ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    [rid] = github.rulesets
    github.rulesets[rid]["rules"] = [{"type": "deletion"}]
    assert ensure_release_ruleset(c, REPO, "release/*", "gatekeeper").action == "updated"
    assert github.rulesets[rid]["rules"] == [
        {"type": "deletion"},
        {
            "type": "required_status_checks",
            "parameters": {
                "strict_required_status_checks_policy": False,
                "required_status_checks": [{"context": "gatekeeper"}],
            },
        },
    ]


def test_only_a_disabled_enforcement_is_enough_to_update(
    github: FakeGitHub, fake_sleep: FakeSleep
) -> None:
    c = client(github, fake_sleep)
    ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    [rid] = github.rulesets
    github.rulesets[rid]["enforcement"] = "disabled"
    assert ensure_release_ruleset(c, REPO, "release/*", "gatekeeper").action == "updated"
    assert github.rulesets[rid]["enforcement"] == "active"


APP = 987654


def test_app_id_requires_the_check_from_that_app(github: FakeGitHub, fake_sleep: FakeSleep
                                                 ) -> None:
    c = client(github, fake_sleep)
    assert ensure_release_ruleset(c, REPO, "release/*", "gatekeeper", APP).action == "created"
    [ruleset] = github.rulesets.values()
    [rule] = ruleset["rules"]
    assert rule["parameters"]["required_status_checks"] == [
        {"context": "gatekeeper", "integration_id": APP}]
    again = ensure_release_ruleset(c, REPO, "release/*", "gatekeeper", APP)
    assert again.action == "unchanged"


def test_app_id_narrows_a_check_any_workflow_could_satisfy(
        github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    """The forgeable form (no integration_id: any status named gatekeeper passes) is replaced,
    not kept beside the App's, or a workflow's status would still satisfy the ruleset."""
    c = client(github, fake_sleep)
    ensure_release_ruleset(c, REPO, "release/*", "gatekeeper")
    [rid] = github.rulesets
    github.rulesets[rid]["rules"][0]["parameters"]["required_status_checks"].insert(
        0, {"context": "lint"})
    assert ensure_release_ruleset(c, REPO, "release/*", "gatekeeper", APP).action == "updated"
    checks = github.rulesets[rid]["rules"][0]["parameters"]["required_status_checks"]
    assert checks == [{"context": "lint"}, {"context": "gatekeeper", "integration_id": APP}]
    for other in (APP + 1, APP):  # another App's id is replaced too, then it is stable
        ensure_release_ruleset(c, REPO, "release/*", "gatekeeper", other)
    checks = github.rulesets[rid]["rules"][0]["parameters"]["required_status_checks"]
    assert checks == [{"context": "lint"}, {"context": "gatekeeper", "integration_id": APP}]


def test_manual_settings_name_the_app(github: FakeGitHub, fake_sleep: FakeSleep) -> None:
    github.fail("GET", RULESETS, 403, message="Resource not accessible by integration")
    result = ensure_release_ruleset(client(github, fake_sleep), REPO, "release/*",
                                    "gatekeeper", APP)
    assert result.settings_text is not None
    assert f'"integration_id": {APP}' in result.settings_text
    assert f"from the GitHub App {APP}" in result.settings_text
