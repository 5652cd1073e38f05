"""The baseline must be the bundle the registry recorded — and, on a PR, the registry entry on
the base branch — and the verdict must not depend on the directory gatekeeper runs from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.acceptance.test_base_policy_git import git
from tests.conftest import AS_OF, EXAMPLES, ROOT, run_subprocess


def _policy(root: Path, registry: str) -> Path:
    path = root / "policies" / "gate.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((ROOT / "policies" / "default.yaml").read_text().replace(
        "file:examples/registry", registry))
    return path


def test_tampered_baseline_bundle_blocks_and_is_not_compared(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "registry", tmp_path / "registry")
    run = tmp_path / "registry" / "sentiment-clf" / "versions" / "3" / "scores" / \
        "exact_match.csv"
    run.write_text(run.read_text().replace("ex-0001,1", "ex-0001,0").replace("ex-0002,1",
                                                                             "ex-0002,0"))
    policy = _policy(tmp_path, f"file:{tmp_path / 'registry'}")
    res = run_subprocess("check", str(EXAMPLES / "bundles" / "pass"), "--policy", str(policy),
                         "--format", "json", "--as-of", AS_OF)
    assert res.code == 1, res.err
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    integrity = checks["baseline:integrity"]
    assert integrity["status"] == "block" and "has changed since it was registered" in \
        integrity["message"]
    assert "no baseline to compare with" in checks["metric:exact_match:vs_baseline"]["message"]


def test_verdict_is_the_same_from_any_directory(tmp_path: Path) -> None:
    args = ("check", str(EXAMPLES / "bundles" / "warn"), "--policy",
            str(ROOT / "policies" / "default.yaml"), "--format", "json", "--as-of", AS_OF)
    here = run_subprocess(*args)
    elsewhere = run_subprocess(*args, cwd=tmp_path)
    assert here.code == elsewhere.code == 0, elsewhere.err
    assert here.out == elsewhere.out


def test_pr_that_moves_the_baseline_alias_is_blocked(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(EXAMPLES / "registry", repo / "registry")
    shutil.copytree(EXAMPLES / "bundles" / "block", repo / "bundle")
    _policy(repo, "file:registry")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "main")
    git(repo, "checkout", "-qb", "pr")
    index = repo / "registry" / "sentiment-clf" / "index.json"
    data = json.loads(index.read_text())
    data["aliases"]["production"] = "1"  # a weaker baseline makes the candidate look better
    index.write_text(json.dumps(data))
    git(repo, "commit", "-qam", "PR moves production to v1")
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--format", "json",
                         "--as-of", AS_OF, "--base-ref", "main", cwd=repo)
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    assert checks["baseline:integrity"]["status"] == "block"
    assert "moves alias 'production'" in checks["baseline:integrity"]["message"]
    # without the base ref (a push build) the same registry is taken as it is
    plain = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--format",
                           "json", "--as-of", AS_OF, cwd=repo)
    plain_checks = {c["id"]: c for c in json.loads(plain.out)["checks"]}
    assert plain_checks["baseline:integrity"]["status"] == "pass"
