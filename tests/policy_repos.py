"""Real git repositories for the policy-change tests: a base policy with approvers and a gate
policy that extends it on `main`, the PR on a branch `pr`, the example pass bundle beside them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import EXAMPLES

BASE = """apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: team-base, version: BASE_VERSION}
approvers: [alice, bob]
envelope:
  required: [code.commit]
"""
GATE = """apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: repo-policy, version: VERSION}
extends: base.yaml
metrics:
  - {metric: accuracy, min: FLOOR}
"""


def base(version: str = "1", extra: str = "") -> str:
    return BASE.replace("BASE_VERSION", version) + extra


def gate(floor: str = "0.5", version: str = "1", extra: str = "") -> str:
    return GATE.replace("FLOOR", floor).replace("VERSION", version) + extra


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True, env=env).stdout


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "core.autocrlf", "false")
    write(root, files)
    shutil.copytree(EXAMPLES / "bundles" / "pass", root / "bundle")
    git(root, "add", ".")
    git(root, "commit", "-qm", "policy on main")
    git(root, "checkout", "-qb", "pr")
    return root


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def commit(repo: Path, files: dict[str, str]) -> str:
    """The PR's next commit; returns its sha."""
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "PR edits the policy")
    return git(repo, "rev-parse", "HEAD").strip()
