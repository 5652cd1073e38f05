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
    repo = _repo_with_registry(tmp_path)
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


# -- a change must not choose its own baseline ----------------------------------------------


def _repo_with_registry(tmp_path: Path) -> Path:
    """main holds the registry (production = v3) and the block demo; the PR branch is open."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(EXAMPLES / "registry", repo / "registry")
    shutil.copytree(EXAMPLES / "bundles" / "block", repo / "bundle")
    _policy(repo, "file:registry")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "main")
    git(repo, "checkout", "-qb", "pr")
    return repo


def _weakened_copy(src: Path, dest: Path, *, model: str | None = None) -> None:
    """The registry entry with production moved to v1, the weakest version."""
    shutil.copytree(src, dest)
    index = dest / "index.json"
    data = json.loads(index.read_text())
    data["aliases"]["production"] = "1"
    if model is not None:
        data["model"] = model
    index.write_text(json.dumps(data))


def _gate(repo: Path, *extra: str) -> dict[str, dict[str, object]]:
    res = run_subprocess("check", "bundle", "--policy", "policies/gate.yaml", "--format", "json",
                         "--as-of", AS_OF, "--base-ref", "main", *extra, cwd=repo)
    assert res.code in (0, 1), res.err
    return {c["id"]: c for c in json.loads(res.out)["checks"]}


def test_a_registry_folder_swapped_for_a_link_inside_the_repository_blocks(
        tmp_path: Path) -> None:
    repo = _repo_with_registry(tmp_path)
    model_dir = repo / "registry" / "sentiment-clf"
    _weakened_copy(model_dir, repo / "registry" / "weak")
    shutil.rmtree(model_dir)
    model_dir.symlink_to("weak", target_is_directory=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "PR links the model folder to a weaker copy")
    checks = _gate(repo)
    assert checks["baseline:integrity"]["status"] == "block"
    assert "moves alias 'production'" in str(checks["baseline:integrity"]["message"])


def test_a_registry_folder_linked_outside_the_repository_blocks(tmp_path: Path) -> None:
    repo = _repo_with_registry(tmp_path)
    model_dir = repo / "registry" / "sentiment-clf"
    _weakened_copy(model_dir, tmp_path / "elsewhere")
    shutil.rmtree(model_dir)
    model_dir.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "PR links the model folder outside the repository")
    checks = _gate(repo)
    assert checks["baseline:integrity"]["status"] == "block"


def test_a_renamed_model_with_its_own_registry_entry_blocks(tmp_path: Path) -> None:
    repo = _repo_with_registry(tmp_path)
    _weakened_copy(repo / "registry" / "sentiment-clf", repo / "registry" / "sentiment-clf-2",
                   model="sentiment-clf-2")
    run = repo / "bundle" / "run.yaml"
    run.write_text(run.read_text().replace("model: sentiment-clf", "model: sentiment-clf-2"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "PR renames the model and registers its own baseline")
    checks = _gate(repo)
    integrity = checks["baseline:integrity"]
    assert integrity["status"] == "block"
    assert "brings its own registry entry" in str(integrity["message"])


def test_a_recorded_hash_set_to_null_in_the_pr_blocks(tmp_path: Path) -> None:
    repo = _repo_with_registry(tmp_path)
    index = repo / "registry" / "sentiment-clf" / "index.json"
    data = json.loads(index.read_text())
    for v in data["versions"]:
        v["bundle_sha256"] = None
    index.write_text(json.dumps(data))
    git(repo, "commit", "-qam", "PR forgets the hashes")
    checks = _gate(repo)
    assert checks["baseline:integrity"]["status"] == "block"
    assert "edits the registered bundle sha256" in str(checks["baseline:integrity"]["message"])


def test_an_unverifiable_baseline_blocks_where_the_policy_says_so(tmp_path: Path) -> None:
    """No hash on the base either: a warning by default, a block under on_unverified: block."""
    repo = _repo_with_registry(tmp_path)
    git(repo, "checkout", "-q", "main")
    index = repo / "registry" / "sentiment-clf" / "index.json"
    data = json.loads(index.read_text())
    for v in data["versions"]:
        v["bundle_sha256"] = None
    index.write_text(json.dumps(data))
    git(repo, "commit", "-qam", "a legacy registry without hashes")
    git(repo, "checkout", "-q", "pr")
    git(repo, "merge", "-q", "main")
    assert _gate(repo)["baseline:integrity"]["status"] == "warn"
    policy = repo / "policies" / "gate.yaml"
    policy.write_text(policy.read_text().replace("  alias: production\n",
                                                 "  alias: production\n  on_unverified: block\n"))
    git(repo, "commit", "-qam", "release rules")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "pr")  # the stricter policy is on the base now
    git(repo, "checkout", "-q", "pr")
    assert _gate(repo)["baseline:integrity"]["status"] == "block"
