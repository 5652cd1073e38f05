"""A PR author who wants a looser gate, in PR mode: each way tried to get a loosening through
without a `policy:approval` block (or a change of meaning through without a `policy:version`
block). Every attempt is kept, whether the gate already stopped it or not.

Each test builds a real git repository (the base on `main`, the PR on a branch) and runs the
CLI: `check --base-ref main`, or `check --github` on a pull_request event whose reviews come
from the OpenAPI-validated local GitHub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.cli import main
from tests.conftest import AS_OF, use_environ
from tests.policy_repos import base, commit, gate, git, make_repo, write
from tests.unit.github import fake_github
from tests.unit.github.fake_github import TOKEN, FakeGitHub, event_copy

# The OpenAPI-validated local GitHub's fixtures (tests/unit/github/fake_github.py), by name.
openapi = fake_github.openapi
api_prefix = fake_github.api_prefix
github = fake_github.github

PR = 2  # the pull request number in pull_request.opened.1.json
WAIVER = ("  - {check: 'CHECK', reason: known gap, approved_by: alice, ticket: ML-7, "
          "expires: 2026-12-31}\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"policies/base.yaml": base(),
                                         "policies/gate.yaml": gate()})


def local(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          *extra: str, policy: str = "policies/gate.yaml") -> tuple[int, dict[str, Any]]:
    """``check --base-ref main``: no platform, so a change that needs approval blocks."""
    use_environ(monkeypatch, {})  # no platform
    monkeypatch.chdir(repo)
    capsys.readouterr()
    code = main(["check", "bundle", "--policy", policy, "--format", "json", "--as-of", AS_OF,
                 "--base-ref", "main", *extra])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    return code, {c["id"]: c for c in json.loads(captured.out)["checks"]}


def on_github(repo: Path, tmp_path: Path, github: FakeGitHub,
              monkeypatch: pytest.MonkeyPatch, *extra: str,
              policy: str = "policies/gate.yaml", event_extra: dict[str, Any] | None = None,
              event: str = "pull_request", payload: str = "pull_request.opened.1.json"
              ) -> tuple[int, dict[str, Any]]:
    """``check --github`` on a pull request event (``pull_request`` unless named) for the PR's
    current head."""
    base_sha = git(repo, "rev-parse", "main").strip()
    head_sha = git(repo, "rev-parse", "HEAD").strip()

    def edit(event: dict[str, Any]) -> None:
        event["pull_request"]["base"]["sha"] = base_sha
        event["pull_request"]["head"]["sha"] = head_sha
        event.update(event_extra or {})

    folder = tmp_path / "event"
    folder.mkdir(exist_ok=True)
    use_environ(monkeypatch, {
        "GITHUB_ACTIONS": "true", "GITHUB_API_URL": github.api_url,
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "Codertocat/Hello-World",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_copy(folder, payload, edit)),
        "GITHUB_SHA": "1" * 40, "GITHUB_RUN_ID": "42",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"), "GITHUB_TOKEN": TOKEN})
    monkeypatch.chdir(repo)
    out = tmp_path / "out"
    code = main(["check", "bundle", "--policy", policy, "--github", "--comment", "off",
                 "--as-of", AS_OF, "--output-dir", str(out), *extra])
    if code == 2:  # refused before any verdict
        return code, {}
    verdict = json.loads((out / "verdict.json").read_text())
    return code, {c["id"]: c for c in verdict["checks"]}


def review(github: FakeGitHub, login: str, state: str, commit_id: str) -> None:
    github.add_review(PR, login, state, commit_id=commit_id)


def assert_needs_approval(code: int, checks: dict[str, Any], *loosening: str) -> None:
    assert code == 1
    assert checks["policy:approval"]["status"] == "block", checks.get("policy:approval")
    message = checks["policy:loosened"]["message"]
    for words in loosening:
        assert words in message, message


# --- extends: a parent the PR adds, or the same parent spelled another way -----------------------

def test_a_parent_added_to_extends_cannot_loosen_unseen(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {
        "policies/gate.yaml": gate(version="2").replace("extends: base.yaml",
                                                        "extends: [base.yaml, relax.yaml]"),
        "policies/relax.yaml": base().replace("[code.commit]", "[]")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "envelope field code.commit is no longer required")
    assert any("diff of policies/relax.yaml" in n for n in checks["policy:loosened"]["notes"])


@pytest.mark.parametrize("spelling", ["./base.yaml", "../policies/base.yaml", "base.yaml/",
                                      "./sub/../base.yaml"])
def test_a_parent_spelled_another_way_is_still_diffed(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        spelling: str) -> None:
    (repo / "policies" / "sub").mkdir()
    (repo / "policies" / "sub" / "keep").write_text("")
    commit(repo, {"policies/base.yaml": base("2").replace("[code.commit]", "[]"),
                  "policies/gate.yaml": gate(version="2").replace("base.yaml", spelling)})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "envelope field code.commit is no longer required")


def test_a_parent_named_with_another_case_does_not_load_and_the_base_gates(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/Base.yaml": base("2").replace("[code.commit]", "[]"),
                  "policies/gate.yaml": gate(version="2").replace("base.yaml", "BASE.yaml")})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 0  # the pass bundle passes the base version, which gates
    assert checks["policy:changed"]["status"] == "warn"
    assert "does not load" in checks["policy:changed"]["message"]
    assert "envelope:code.commit" in checks  # the base's required field is still checked


def test_a_parent_reached_through_a_symlinked_folder_is_refused(
        repo: Path, tmp_path: Path, github: FakeGitHub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`sub/../base.yaml` names policies/base.yaml to git (and to the diff), but the file system
    follows the link: the policy read would be lib/base.yaml, which the approval check never
    compared. Approved for a small loosening, the author loosened lib/base.yaml further."""
    (repo / "lib" / "deep").mkdir(parents=True)
    (repo / "policies" / "sub").symlink_to(Path("..") / "lib" / "deep")
    first = commit(repo, {"lib/base.yaml": base("2").replace("alice, bob", "alice, bob, carol"),
                          "policies/gate.yaml": gate(floor="0.4", version="2").replace(
                              "extends: base.yaml", "extends: sub/../base.yaml")})
    review(github, "alice", "APPROVED", first)
    commit(repo, {"lib/base.yaml": base("3").replace("[code.commit]", "[]")})
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    changed = checks["policy:changed"]
    assert changed["status"] == "warn" and "goes through a symlink" in changed["message"]
    assert "policy:approval" not in checks  # nothing of the PR's policy is used
    assert checks["metric:accuracy:min"]["threshold"] == 0.5  # the base gates
    assert "envelope:code.commit" in checks and code == 0


def test_a_symlinked_parent_file_is_refused(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "lib").mkdir()
    write(repo, {"lib/loose.yaml": base("2").replace("[code.commit]", "[]")})
    (repo / "policies" / "base.yaml").unlink()
    (repo / "policies" / "base.yaml").symlink_to(Path("..") / "lib" / "loose.yaml")
    commit(repo, {"policies/gate.yaml": gate(version="2")})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 0  # the base gates; the head does not load
    assert checks["policy:changed"]["status"] == "warn"
    assert "goes through a symlink" in checks["policy:changed"]["message"]


# --- branch overrides and enforcement -----------------------------------------------------------

def test_a_renamed_release_override_is_a_loosening_on_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    override = "branches:\n  'release/*':\n    envelope: {min_seeds: 5, require_clean_code: true}\n"
    repo = make_repo(tmp_path / "repo", {"policies/base.yaml": base(),
                                         "policies/gate.yaml": gate(extra=override)})
    commit(repo, {"policies/gate.yaml": gate(version="2",
                                             extra=override.replace("release/", "relase/"))})
    code, checks = local(repo, monkeypatch, capsys, "--target-branch", "release/1")
    assert_needs_approval(code, checks, "min_seeds lowered from 5", "clean code is no longer",
                          "branch overrides changed: relase/*")


def test_turning_a_rule_advisory_needs_approval(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/gate.yaml": gate(version="2").replace(
        "min: 0.5}", "min: 0.5, enforcement: advisory}")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "accuracy enforcement lowered from soft to advisory")


def test_turning_a_rule_advisory_in_a_release_override_needs_approval(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/gate.yaml": gate(version="2", extra=(
        "branches:\n  'release/*':\n    metrics:\n"
        "      - {metric: accuracy, enforcement: advisory}\n"))})
    code, checks = local(repo, monkeypatch, capsys, "--target-branch", "release/1")
    assert_needs_approval(code, checks, "enforcement lowered from soft to advisory")


# --- YAML tricks: the base and the head are read by the same loader as the diff ------------------

def test_a_floor_lowered_behind_a_merge_key_is_seen(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/gate.yaml": gate(version="2").replace(
        "  - {metric: accuracy, min: 0.5}", "  - {<<: {min: 0.1}, metric: accuracy}")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "accuracy: floor lowered from 0.5 to 0.1")


def test_a_parent_hidden_behind_a_merge_key_is_diffed(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {
        "policies/gate.yaml": gate(version="2").replace(
            "extends: base.yaml", "<<: {extends: [base.yaml, relax.yaml]}"),
        "policies/relax.yaml": base().replace("[code.commit]", "[]")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "code.commit is no longer required")
    assert any("diff of policies/relax.yaml" in n for n in checks["policy:loosened"]["notes"])


@pytest.mark.parametrize(("text", "why"), [
    (gate(version="2") + "metrics:\n  - {metric: accuracy, min: 0.1}\n", "duplicate key"),
    (gate(version="2").replace("min: 0.5", "min: !!float '0.1'"), "explicit YAML tag"),
])
def test_yaml_the_loader_refuses_leaves_the_base_gating(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        text: str, why: str) -> None:
    commit(repo, {"policies/gate.yaml": text})
    code, checks = local(repo, monkeypatch, capsys)
    assert checks["policy:changed"]["status"] == "warn"
    assert why in checks["policy:changed"]["message"]
    assert checks["metric:accuracy:min"]["threshold"] == 0.5  # the base's floor
    assert "policy:approval" not in checks and code == 0


def test_a_byte_order_mark_hides_nothing(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/gate.yaml": "\ufeff" + gate(floor="0.1", version="2")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "floor lowered from 0.5 to 0.1")


def test_crlf_policies_are_diffed_and_approved_like_any_other(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git keeps a file's CRLF line ends: read through git (the base, an approved commit) and
    from the checkout (the head), the same file must compare equal."""
    crlf = {"policies/base.yaml": base().replace("\n", "\r\n"),
            "policies/gate.yaml": gate().replace("\n", "\r\n")}
    repo = make_repo(tmp_path / "repo", crlf)
    commit(repo, {"bundle/notes.txt": "no policy edit\n"})
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert code == 0 and not [c for c in checks if c.startswith("policy:")], checks
    head = commit(repo, {"policies/gate.yaml": gate("0.1", "2").replace("\n", "\r\n")})
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "floor lowered from 0.5 to 0.1")
    review(github, "alice", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    assert "approved by alice" in checks["policy:approval"]["message"]


def test_a_lone_carriage_return_is_a_line_break_on_both_sides(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2").replace(
        "\n  - {metric", "\r  - {metric")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "floor lowered from 0.5 to 0.1")


# --- metadata.version ---------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["'1.0'", "'01'", "'1.0.0'", "'1'", "'0001.0'", "'v1'",
                                     "'V1.0'", "'1.-1'", "'one'", "'1_0'", "' 2'"])
def test_a_version_that_is_the_same_number_is_no_bump(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        version: str) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.6", version=version)})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 1
    assert checks["policy:version"]["status"] == "block", checks["policy:version"]


@pytest.mark.parametrize("version", ["'2'", "'1.1'", "2", "'1.0.1'", "'v2'"])
def test_a_version_that_grew_as_a_number_passes(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        version: str) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.6", version=version)})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 0, checks
    assert checks["policy:version"]["status"] == "pass"


def test_a_version_with_superscript_digits_is_a_name_not_a_crash(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # "²".isdigit() is true but int("²") fails: such a version is a name (it crashed the gate),
    # and a number never grows into a name
    commit(repo, {"policies/gate.yaml": gate(floor="0.6", version="'1.²'")})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 1 and checks["policy:version"]["status"] == "block"
    commit(repo, {"policies/base.yaml": base("'1.²'"),
                  "policies/gate.yaml": gate(floor="0.6", version="'1.²'")})
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "pr")
    git(repo, "checkout", "-qb", "pr2")
    commit(repo, {"policies/gate.yaml": gate(floor="0.7", version="'1.²'")})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 1 and checks["policy:version"]["status"] == "block"


def test_a_version_lowered_in_a_parent_is_no_bump(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/base.yaml": base("'1.0'").replace("[code.commit]",
                                                               "[code.commit, seeds]"),
        "policies/gate.yaml": gate(version="2")})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 1
    assert "policies/base.yaml (version 1.0)" in checks["policy:version"]["message"]


# --- renaming the policy ------------------------------------------------------------------------

def test_a_renamed_policy_is_a_new_policy(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "mv", "policies/gate.yaml", "policies/gate-v2.yaml")
    commit(repo, {"policies/gate-v2.yaml": gate(floor="0.01", version="2")})
    code, checks = local(repo, monkeypatch, capsys, policy="policies/gate-v2.yaml")
    assert code == 1
    assert checks["policy:approval"]["status"] == "block"
    assert "this PR adds policies/gate-v2.yaml" in checks["policy:approval"]["message"]


def test_the_policy_named_through_a_symlink_is_the_file_git_knows(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`--policy gate.yaml` at the root, a link to policies/gate.yaml: the base is read at
    policies/gate.yaml, and so must the head be, or `extends: base.yaml` would name the PR's own
    root-level base.yaml on one side only."""
    (repo / "gate.yaml").symlink_to(Path("policies") / "gate.yaml")
    commit(repo, {"base.yaml": base("2").replace("[code.commit]", "[]"),
                  "policies/gate.yaml": gate(floor="0.6", version="2")})
    code, checks = local(repo, monkeypatch, capsys, policy="gate.yaml")
    assert code == 0, checks
    assert checks["policy:changed"]["status"] == "pass"  # a tightening of policies/gate.yaml
    assert "policy:loosened" not in checks


# --- waivers ------------------------------------------------------------------------------------

def test_a_waiver_moved_into_a_shared_parent_needs_approval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The gated policy keeps the waiver, but the parent now carries it for every policy that
    extends it (here release.yaml): the parent itself got looser."""
    waiver = "waivers:\n" + WAIVER.replace("CHECK", "metric:accuracy:min")
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base(), "policies/gate.yaml": gate(extra=waiver),
        "policies/release.yaml": gate(floor="0.99")})
    commit(repo, {"policies/base.yaml": base("2", waiver),
                  "policies/gate.yaml": gate(version="2")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "policies/base.yaml",
                          "waiver added for metric:accuracy:min")


def test_a_parent_loosened_under_a_child_that_overrides_it_needs_approval(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/base.yaml": base("2").replace("[code.commit]", "[]"),
                  "policies/gate.yaml": gate(version="2").replace(
                      "metrics:", "envelope:\n  required: [code.commit]\nmetrics:")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "policies/base.yaml",
                          "envelope field code.commit is no longer required")


def test_a_waiver_glob_widened_to_cover_a_block_needs_approval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    waiver = "waivers:\n" + WAIVER
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base(),
        "policies/gate.yaml": gate("0.99", extra=waiver.replace("CHECK", "metric:accuracy:max"))})
    commit(repo, {"policies/gate.yaml": gate("0.99", "2", waiver.replace(
        "CHECK", "metric:accuracy:*"))})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "waiver added for metric:accuracy:*")
    assert checks["metric:accuracy:min"]["status"] == "block"  # the base's waiver misses it


# --- approvals ----------------------------------------------------------------------------------

def test_an_approval_of_the_base_commit_approves_nothing(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    review(github, "alice", "APPROVED", git(repo, "rev-parse", "main").strip())
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "floor lowered")
    assert "approve the current commit" in checks["policy:approval"]["message"]


def test_an_approval_before_a_parent_was_loosened_further_is_stale(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    first = commit(repo, {"policies/gate.yaml": gate(floor="0.4", version="2")})
    review(github, "alice", "APPROVED", first)
    commit(repo, {"policies/base.yaml": base("2").replace("[code.commit]", "[]")})
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "code.commit is no longer required")


def test_an_approval_before_a_parent_was_added_is_stale(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    first = commit(repo, {"policies/gate.yaml": gate(floor="0.4", version="2")})
    review(github, "alice", "APPROVED", first)
    commit(repo, {"policies/gate.yaml": gate(floor="0.4", version="3").replace(
        "extends: base.yaml", "extends: [base.yaml, relax.yaml]"),
        "policies/relax.yaml": base().replace("[code.commit]", "[]")})
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "code.commit is no longer required")


def test_an_approver_login_matches_whatever_its_case(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub logins are case-insensitive (no two accounts differ only by case), and the API
    spells a login its own way: `approvers: [Alice]` is the account the API calls alice."""
    repo = make_repo(tmp_path / "repo", {"policies/base.yaml": base().replace("alice", "Alice"),
                                         "policies/gate.yaml": gate()})
    head = commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    review(github, "alice", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    assert "approved by alice" in checks["policy:approval"]["message"]


def test_respelling_an_approver_in_another_case_adds_nobody(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/base.yaml": base("2").replace("alice, bob", "ALICE, Bob"),
                  "policies/gate.yaml": gate(version="2")})
    _code, checks = local(repo, monkeypatch, capsys)
    assert "policy:loosened" not in checks and "policy:approval" not in checks, checks
    assert checks["policy:version"]["status"] == "pass"


def test_a_dismissal_in_another_case_withdraws_the_approval(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    head = commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    review(github, "alice", "APPROVED", head)
    review(github, "Alice", "DISMISSED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "floor lowered")


def test_an_approval_claimed_in_the_event_payload_approves_nothing(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    head = commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    claimed = {"review": {"state": "approved", "user": {"login": "alice"}, "commit_id": head},
               "sender": {"login": "alice", "id": 1, "type": "User"}}
    code, checks = on_github(repo, tmp_path, github, monkeypatch, event_extra=claimed)
    assert_needs_approval(code, checks, "floor lowered")
    assert github.requests("GET", rf".*/pulls/{PR}/reviews")


def test_reviews_beyond_the_first_page_count_and_withdraw(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    head = commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    review(github, "alice", "APPROVED", head)
    for i in range(105):  # the gate asks for 100 a page
        review(github, f"reader{i}", "COMMENTED", head)
    review(github, "alice", "DISMISSED", head)  # on the second page
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "floor lowered")
    review(github, "bob", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    assert "approved by bob" in checks["policy:approval"]["message"]
    pages = github.requests("GET", rf".*/pulls/{PR}/reviews.*")
    assert any(p.query.get("page") == "2" for p in pages), pages


# --- the baseline, in a parent ------------------------------------------------------------------

@pytest.mark.parametrize(("before", "after", "words"), [
    ("{alias: production}", "{alias: staging}", "baseline alias changed"),
    ("{alias: production}", "{alias: production, registry: 'file:reg'}",
     "baseline registry changed"),
    ("{alias: production, on_unverified: block}", "{alias: production}",
     "baseline on_unverified weakened from block to warn"),
    ("{alias: production, on_missing: block}", "{alias: production, on_missing: warn}",
     "baseline on_missing weakened"),
])
def test_a_baseline_changed_in_a_parent_needs_approval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        before: str, after: str, words: str) -> None:
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base(extra=f"baseline: {before}\n"),
        "policies/gate.yaml": gate()})
    commit(repo, {"policies/base.yaml": base("2", f"baseline: {after}\n"),
                  "policies/gate.yaml": gate(version="2")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, words)


def test_an_approval_cannot_be_matched_past_the_files_the_chain_can_list(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain is listed file by file up to a cap (32): with more parents, the files past the
    cap were never compared with the approved commit, and one of them loosened further."""
    fragment = "apiVersion: gatekeeper/v1\n"
    names = [f"f{i:02d}.yaml" for i in range(33)]
    first = commit(repo, {
        **{f"policies/{n}": fragment for n in names},
        "policies/gate.yaml": gate(floor="0.4", version="2").replace(
            "extends: base.yaml", f"extends: [base.yaml, {', '.join(names)}]")})
    review(github, "alice", "APPROVED", first)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert code == 1, checks  # not even the first approval can be matched to its text
    assert "cannot be listed one by one" in checks["policy:approval"]["message"]
    for name in names[:2]:  # the last files listed: past the cap
        commit(repo, {f"policies/{name}": fragment + "envelope: {required: []}\n"})
        code, checks = on_github(repo, tmp_path, github, monkeypatch)
        assert_needs_approval(code, checks, "code.commit is no longer required")


def test_a_parent_whose_meaning_changed_under_an_overriding_child_must_bump(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # the gated policy sets the field itself, so its effective meaning did not change
    commit(repo, {"policies/base.yaml": base(extra="  min_seeds: 3\n"),
                  "policies/gate.yaml": gate(extra="envelope:\n  min_seeds: 5\n"
                                                   "  required: [code.commit]\n")})
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "pr")
    git(repo, "checkout", "-qb", "pr2")
    commit(repo, {"policies/base.yaml": base(extra="  min_seeds: 4\n")})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 1
    assert checks["policy:version"]["status"] == "block"
    assert "policies/base.yaml (version 1)" in checks["policy:version"]["message"]


def test_approval_cannot_be_claimed_on_the_command_line(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit) as exc:
        main(["check", "bundle", "--policy", "policies/gate.yaml", "--base-ref", "main",
              "--approved-by", "alice"])
    assert exc.value.code == 2
    assert "--approved-by" in capsys.readouterr().err


FRAGMENT = ("apiVersion: gatekeeper/v1\napprovers: [alice, bob]\n"
            "envelope:\n  required: [code.commit]\n")


def test_a_waiver_moved_into_a_shared_fragment_needs_approval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A parent that is not a policy on its own (no metadata) cannot be judged alone; release.yaml
    extends it too, and would now carry the waiver."""
    waiver = "waivers:\n" + WAIVER.replace("CHECK", "metric:accuracy:min")
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": FRAGMENT, "policies/gate.yaml": gate(extra=waiver),
        "policies/release.yaml": gate(floor="0.99")})
    commit(repo, {"policies/base.yaml": FRAGMENT + waiver,
                  "policies/gate.yaml": gate(version="2")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks,
                          "policies/base.yaml changed, and is not a policy on its own")


def test_a_comment_in_a_fragment_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"policies/base.yaml": FRAGMENT,
                                         "policies/gate.yaml": gate()})
    commit(repo, {"policies/base.yaml": "# shared by every gate\n" + FRAGMENT})
    code, checks = local(repo, monkeypatch, capsys)
    assert code == 0 and checks["policy:changed"]["status"] == "pass", checks
    assert "policy:approval" not in checks and "policy:version" not in checks


def test_a_shared_parent_loosened_needs_its_own_approvers_too(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """base.yaml belongs to the platform team (carol); gate.yaml names its own approvers. A
    loosening of base.yaml shows in gate.yaml too, but alice cannot approve it for every
    other policy that extends base.yaml."""
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base().replace("alice, bob", "carol"),
        "policies/gate.yaml": gate(extra="approvers: [alice, bob]\n")})
    head = commit(repo, {
        "policies/base.yaml": base("2").replace("alice, bob", "carol").replace(
            "[code.commit]", "[]"),
        "policies/gate.yaml": gate(version="2", extra="approvers: [alice, bob]\n")})
    review(github, "alice", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "code.commit is no longer required")
    assert "this PR loosens policies/base.yaml" in checks["policy:approval"]["message"]
    assert "(carol)" in checks["policy:approval"]["message"]
    review(github, "carol", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert code == 0, checks
    approval = checks["policy:approval"]["message"]
    assert "approved by alice" in approval and "approved by carol" in approval


def test_a_new_policy_cannot_carry_an_unseen_loosening_of_a_shared_parent(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PR adds gate-v2.yaml (which needs approval anyway) and, in passing, loosens
    base.yaml, which release.yaml extends too: the approver must be told, the parent's version
    must grow, and the parent's own approver (carol) must approve."""
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base().replace("alice, bob", "carol"),
        "policies/release.yaml": gate(floor="0.99")})
    head = commit(repo, {
        "policies/gate-v2.yaml": gate(extra="approvers: [alice]\n"),
        "policies/base.yaml": base().replace("alice, bob", "carol").replace(
            "[code.commit]", "[]")})
    review(github, "carol", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch,
                             policy="policies/gate-v2.yaml")
    assert code == 1
    changed = checks["policy:changed"]["message"]
    assert "policies/base.yaml on its own: envelope field code.commit is no longer" in changed
    assert "policies/base.yaml (version 1)" in checks["policy:version"]["message"]
    assert checks["policy:approval"]["status"] == "pass"  # carol approves both
    assert any("diff of policies/base.yaml" in n for n in checks["policy:changed"]["notes"])


def test_a_new_policy_beside_an_untouched_parent_reports_no_parent_change(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"policies/new.yaml": gate(floor="0.1")})
    code, checks = local(repo, monkeypatch, capsys, policy="policies/new.yaml")
    assert code == 1 and checks["policy:approval"]["status"] == "block"
    assert "also loosens" not in checks["policy:changed"]["message"]
    assert "policy:version" not in checks


def test_a_login_that_folds_into_an_approver_is_not_one(
        tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Case is ignored for ASCII logins only: the Kelvin sign lower-cases to "k"."""
    repo = make_repo(tmp_path / "repo", {"policies/base.yaml": base().replace("alice", "kim"),
                                         "policies/gate.yaml": gate()})
    head = commit(repo, {"policies/gate.yaml": gate(floor="0.1", version="2")})
    review(github, "\u212aim", "APPROVED", head)
    code, checks = on_github(repo, tmp_path, github, monkeypatch)
    assert_needs_approval(code, checks, "floor lowered")


@pytest.mark.parametrize(("rules", "what"), [
    ("metrics:\n  - {metric: accuracy, min: 0.99, enforcement: advisory}\n"
     "  - {metric: accuracy, min: 0.99}\n",
     "metric rule 'accuracy' gives the check id metric:accuracy:min, as metric rule 'accuracy'"),
    ("budgets:\n  - {name: latency_ms, max: 1, enforcement: advisory}\n"
     "  - {name: latency_ms, max: 1}\n",
     "budget 'latency_ms' gives the check id budget:latency_ms, as budget 'latency_ms' does"),
    ("budgets:\n  - {name: 'latency_ms:vs_baseline', max: 1, enforcement: advisory}\n"
     "  - {name: latency_ms, max: 1}\n",
     "budget 'latency_ms' gives the check id budget:latency_ms:vs_baseline, as budget "
     "'latency_ms:vs_baseline' does"),
])
def test_a_rule_listed_twice_cannot_hide_an_advisory_twin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        rules: str, what: str) -> None:
    """Both rules give the same check id, and an advisory level applies to the id: the soft
    twin listed last is what a rule-by-name comparison would see. A policy names each rule
    once."""
    header, _twin, rule, _ = rules.split("\n")
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base(),
        "policies/gate.yaml": gate().replace("metrics:\n  - {metric: accuracy, min: 0.5}\n",
                                             f"{header}\n{rule}\n")})
    commit(repo, {"policies/gate.yaml": gate(version="2").replace(
        "metrics:\n  - {metric: accuracy, min: 0.5}\n", rules)})
    code, checks = local(repo, monkeypatch, capsys)
    changed = checks["policy:changed"]
    assert changed["status"] == "warn" and what in changed["message"], changed
    assert code == 1  # the base's soft rule still blocks


def test_a_parent_dropped_from_extends_and_loosened_is_still_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """gate.yaml stops extending base.yaml (copying what it needs), and base.yaml, which
    release.yaml still extends, is loosened in the same PR."""
    repo = make_repo(tmp_path / "repo", {
        "policies/base.yaml": base(), "policies/gate.yaml": gate(),
        "policies/release.yaml": gate(floor="0.99")})
    commit(repo, {
        "policies/gate.yaml": gate(version="2").replace("extends: base.yaml\n", "")
        + "approvers: [alice, bob]\nenvelope:\n  required: [code.commit]\n",
        "policies/base.yaml": base("2").replace("[code.commit]", "[]")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks,
                          "policies/base.yaml on its own: envelope field code.commit")


def test_a_floor_lowered_through_an_anchor_and_alias_is_seen(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The loose rule is written once, as an anchor in an override for a branch nobody
    targets, and used through an alias where it applies."""
    commit(repo, {"policies/gate.yaml": gate(version="2").replace(
        "metrics:\n  - {metric: accuracy, min: 0.5}\n",
        "branches:\n  'never/*':\n    metrics: [&loose {metric: accuracy, min: 0.1}]\n"
        "metrics:\n  - *loose\n")})
    code, checks = local(repo, monkeypatch, capsys)
    assert_needs_approval(code, checks, "accuracy: floor lowered from 0.5 to 0.1")


@pytest.mark.parametrize("event", ["pull_request_review", "pull_request_review_comment",
                                   "pull_request_review_thread"])
def test_a_gate_rerun_on_a_review_event_is_gated_by_the_base_policy(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        event: str) -> None:
    """A workflow that re-runs the gate when a review arrives (to pick up an approval) checks
    out the PR's merge ref: the review event must read the base's policy like the PR's own."""
    commit(repo, {"policies/gate.yaml": gate(floor="0.01", version="2")})
    code, checks = on_github(repo, tmp_path, github, monkeypatch, event=event,
                             payload="pull_request_review.submitted.1.json")
    assert code == 1
    assert checks["policy:approval"]["status"] == "block"
    assert checks["metric:accuracy:min"]["threshold"] == 0.5  # the base's floor gated


@pytest.mark.parametrize("flag", [["--base-ref", "HEAD"], ["--target-branch", "sandbox"]])
def test_a_workflow_flag_cannot_move_the_events_base_or_target(
        repo: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    """The workflow is the PR's to edit: `--base-ref HEAD` would gate the PR with its own
    policy, and another `--target-branch` would skip the release override."""
    commit(repo, {"policies/gate.yaml": gate(floor="0.01", version="2")})
    capsys.readouterr()
    code, _checks = on_github(repo, tmp_path, github, monkeypatch, *flag)
    assert code == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} {flag[1]} disagrees with the event's" in err
