"""The rollback target over the file registry: each rule, and the reasons it reports."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.baseline.rollback import find_rollback_target
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.registry.file import FileRegistry
from gatekeeper.registry.interface import Approval

COMPLETE: dict[str, Any] = {
    "seeds": [0], "code": {"commit": "9fceb02d0ae598e95dc970b74767f19372d61af8"},
    "environment": {"lockfile": {"path": "uv.lock", "sha256": "c" * 64}},
    "data": [{"name": "eval", "sha256": "d" * 64}],
}


def add(reg: FileRegistry, tmp_path: Path, run_id: str, *, verdict: str | None = "pass",
        envelope: dict[str, Any] | None = None, alias: str | None = "production") -> str:
    root = tmp_path / run_id
    root.mkdir()
    weights = run_id.encode()
    (root / "model.bin").write_bytes(weights)
    doc = {"schema": "gatekeeper.run/v1", "run_id": run_id, "model": "clf",
           "artifacts": [{"path": "model.bin", "size": len(weights),
                          "sha256": hashlib.sha256(weights).hexdigest()}],
           **(COMPLETE if envelope is None else envelope)}
    (root / "run.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    loaded = load_bundle(root)
    return reg.promote(root, model="clf", alias=alias, verdict=verdict,
                       approval=Approval("alice", "2026-11-20T10:00:00Z"),
                       bundle_sha256=loaded.sha256(), run_id=run_id).version


@pytest.fixture
def reg(tmp_path: Path) -> FileRegistry:
    return FileRegistry(tmp_path / "registry")


def target_reasons(reg: FileRegistry, tmp_path: Path, **kw: Any) -> tuple[str | None,
                                                                          dict[str, list[str]]]:
    target = find_rollback_target(reg, "clf", workdir=tmp_path / "work", **kw)
    return target.version, {c.version: c.reasons for c in target.considered}


def test_the_current_holder_qualifies_first(reg: FileRegistry, tmp_path: Path) -> None:
    add(reg, tmp_path, "r1")
    add(reg, tmp_path, "r2")
    target = find_rollback_target(reg, "clf", workdir=tmp_path)
    assert target.version == "2" and "(holds it now)" in target.reason
    assert [c.version for c in target.considered] == ["2"]


def test_block_and_unknown_verdicts_are_skipped(reg: FileRegistry, tmp_path: Path) -> None:
    add(reg, tmp_path, "r1", verdict="warn")
    add(reg, tmp_path, "r2", verdict=None)
    add(reg, tmp_path, "r3", verdict="block")
    version, reasons = target_reasons(reg, tmp_path)
    assert version == "1"
    assert reasons == {"3": ["its own gate verdict was block"], "2": ["no recorded gate verdict"],
                       "1": []}


def test_incomplete_envelope_names_the_missing_fields(reg: FileRegistry, tmp_path: Path) -> None:
    add(reg, tmp_path, "r1", envelope={"seeds": [0], "data": [{"name": "eval"}]})
    version, reasons = target_reasons(reg, tmp_path)
    assert version is None
    assert reasons["1"] == ["envelope incomplete: missing code.commit, "
                            "environment.lockfile.sha256, data[0].sha256"]
    # A policy may require less: then the same version qualifies.
    version, _ = target_reasons(reg, tmp_path, required=["seeds"])
    assert version == "1"


def test_missing_artifact_and_missing_bundle(reg: FileRegistry, tmp_path: Path) -> None:
    add(reg, tmp_path, "r1")
    add(reg, tmp_path, "r2")
    (reg.root / "clf" / "versions" / "2" / "model.bin").unlink()
    version, reasons = target_reasons(reg, tmp_path)
    assert version == "1"
    assert reasons["2"][0] == "artifact model.bin: file is missing"
    assert any("differs from the registered" in r for r in reasons["2"])
    import shutil

    shutil.rmtree(reg.root / "clf" / "versions" / "1")
    version, reasons = target_reasons(reg, tmp_path)
    assert version is None and reasons["1"][0].startswith("bundle unavailable: ")


def test_exclusions_and_versions_that_never_held_the_alias(
    reg: FileRegistry, tmp_path: Path
) -> None:
    add(reg, tmp_path, "r1")
    add(reg, tmp_path, "r2", alias="staging")  # never production: not a candidate
    version, reasons = target_reasons(reg, tmp_path, exclude_version="1")
    assert version is None
    assert reasons == {"1": ["excluded (the version under evaluation)"]}
    none = find_rollback_target(reg, "clf", "canary", workdir=tmp_path)
    assert none.version is None and none.considered == []
    assert "no version of 'clf' has held alias 'canary'" in none.reason


# -- the CLI: the same envelope rules as `gatekeeper check` -----------------------------
def rollback_cli(reg: FileRegistry, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    from gatekeeper.cli import main

    assert main(["registry", "rollback-target", "--registry", f"file:{reg.root}",
                 "--model", "clf", "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_uses_the_policy_envelope_and_alias(
    reg: FileRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only a commit recorded: complete for this policy, incomplete for the default list.
    add(reg, tmp_path, "r1", envelope={"code": COMPLETE["code"]}, alias="canary")
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({
        "apiVersion": "gatekeeper/v1", "kind": "Policy",
        "metadata": {"name": "release", "version": 1},
        "baseline": {"alias": "canary"},
        "envelope": {"required": ["code.commit"]},
    }), encoding="utf-8")
    default = rollback_cli(reg, capsys, "--alias", "canary")
    assert default["version"] is None
    assert "environment.lockfile.sha256" in default["considered"][0]["reasons"][0]
    assert rollback_cli(reg, capsys, "--policy", str(policy))["version"] == "1"
    stricter = rollback_cli(reg, capsys, "--policy", str(policy), "--require", "seeds",
                            "--require", "data[*].sha256")
    assert stricter["version"] is None
    assert stricter["considered"][0]["reasons"] == [
        "envelope incomplete: missing seeds, data[*] (no entries)"]
    assert rollback_cli(reg, capsys, "--require", "code.commit", "--alias",
                        "canary")["version"] == "1"
    # --alias wins over the policy's baseline alias.
    assert "no version of 'clf' has held alias 'production'" in rollback_cli(
        reg, capsys, "--policy", str(policy), "--alias", "production")["reason"]
