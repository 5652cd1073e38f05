"""The gate records its decision after the verdict, with the PR it ran for; a policy without
the section opens no ledger at all."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import yaml

from gatekeeper.gate import GateInputs, run_gate
from gatekeeper.github.settings import GitHubSettings
from gatekeeper.registry.file import FileRegistry
from tests.conftest import EXAMPLES, POLICIES


def _policy(tmp_path: Path, leaderboard: dict[str, object] | None) -> Path:
    shutil.copytree(EXAMPLES / "registry", tmp_path / "registry")
    data = yaml.safe_load((POLICIES / "default.yaml").read_text())
    data["baseline"]["registry"] = f"file:{tmp_path / 'registry'}"
    if leaderboard is not None:
        data["leaderboard"] = leaderboard
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_decision_is_recorded_with_its_pr_and_verdict(tmp_path: Path) -> None:
    inputs = GateInputs(bundle=EXAMPLES / "bundles" / "block",
                        policy=_policy(tmp_path, {"max_decisions": 5}),
                        as_of=date(2026, 11, 26), github=GitHubSettings(pr_number=42))
    result = run_gate(inputs, tmp_path / "work")
    [record] = FileRegistry(tmp_path / "registry").decisions()
    assert (record.pr, record.verdict, record.policy) == (42, "block", "default@1")
    assert record.verdict == result.verdict.verdict
    assert record.bundle_sha256 == result.verdict.candidate.bundle_sha256
    assert record.run_id == "run-cand-block" and record.parent_run_id is None


def test_record_usage_off_reads_but_does_not_write(tmp_path: Path) -> None:
    inputs = GateInputs(bundle=EXAMPLES / "bundles" / "pass",
                        policy=_policy(tmp_path, {"max_decisions": 5}),
                        as_of=date(2026, 11, 26), record_usage=False)
    checks = {c.id: c for c in run_gate(inputs, tmp_path / "work").verdict.checks}
    assert checks["leaderboard:reuse"].status == "pass"
    assert FileRegistry(tmp_path / "registry").decisions() == []


def test_no_section_no_ledger(tmp_path: Path) -> None:
    inputs = GateInputs(bundle=EXAMPLES / "bundles" / "pass", policy=_policy(tmp_path, None),
                        as_of=date(2026, 11, 26))
    run_gate(inputs, tmp_path / "work")
    assert not (tmp_path / "registry" / ".ledger").exists()
