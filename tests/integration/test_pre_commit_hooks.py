"""The pre-commit hooks, run by the real `pre-commit try-repo` against this repository, offline.

The hooks use ``language: system``: pre-commit installs nothing, it runs the ``gatekeeper`` on
PATH. Here that is this checkout's (PYTHONPATH), so the test checks the hooks as committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, POLICIES, ROOT

pytest.importorskip("pre_commit")

BAD = """apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: bad, version: 1}
metrics:
  - metric: accuracy
    min: 0.9
    on_inconclussive: block
"""

CASE = """bundle: ../../bundles/pass
policy: ../good.yaml
registry: file:../../registry
as_of: 2026-11-26
expect:
  verdict: VERDICT
"""


def _env(tmp: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp),
            "PRE_COMMIT_HOME": str(tmp / "pre-commit-home"), "PYTHONPATH": str(ROOT),
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
            # No network: a hook that tried to install anything would fail here.
            "PIP_NO_INDEX": "1", "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9"}


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*args], cwd=repo, env=_env(repo.parent), capture_output=True,
                          text=True, timeout=300)


def _try(repo: Path, hook: str) -> subprocess.CompletedProcess[str]:
    return _run(repo, sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook,
                "--all-files", "--color", "never", "--verbose")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "policies" / "tests").mkdir(parents=True)
    shutil.copy(POLICIES / "default.yaml", root / "policies" / "good.yaml")
    shutil.copytree(EXAMPLES / "bundles" / "pass", root / "bundles" / "pass")
    shutil.copytree(EXAMPLES / "registry", root / "registry")
    (root / "policies" / "tests" / "pass.yaml").write_text(CASE.replace("VERDICT", "pass"))
    (root / "other.yaml").write_text("jobs: {build: {}}\n")  # not gatekeeper's: skipped
    assert _run(root, "git", "init", "-q", "-b", "main").returncode == 0
    assert _run(root, "git", "add", ".").returncode == 0
    return root


@pytest.mark.slow
def test_validate_hook_passes_a_good_policy_and_fails_a_bad_one(repo: Path) -> None:
    if ROOT.joinpath(".git").exists() is False:
        pytest.skip("try-repo needs this repository as a git checkout")
    good = _try(repo, "gatekeeper-validate")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    (repo / "policies" / "bad.yaml").write_text(BAD)
    _run(repo, "git", "add", ".")
    bad = _try(repo, "gatekeeper-validate")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert ("policies/bad.yaml:7: metrics[0].on_inconclussive: unknown field: did you mean "
            "`on_inconclusive`?") in bad.stdout


@pytest.mark.slow
def test_test_hook_runs_the_policy_unit_tests(repo: Path) -> None:
    if ROOT.joinpath(".git").exists() is False:
        pytest.skip("try-repo needs this repository as a git checkout")
    ok = _try(repo, "gatekeeper-test")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed, 0 failed" in ok.stdout
    (repo / "policies" / "tests" / "wrong.yaml").write_text(CASE.replace("VERDICT", "block"))
    _run(repo, "git", "add", ".")
    wrong = _try(repo, "gatekeeper-test")
    assert wrong.returncode == 1
    assert "1 passed, 1 failed" in wrong.stdout


def test_the_hooks_file_names_both_hooks_offline() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"gatekeeper-validate", "gatekeeper-test"}
    assert all(h["language"] == "system" for h in hooks)  # nothing to download
    assert os.fspath(ROOT)  # the hooks run from this checkout in the tests above
