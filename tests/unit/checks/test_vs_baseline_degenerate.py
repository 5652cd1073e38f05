"""Comparisons without a usable interval say so instead of printing a zero-width one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from gatekeeper.checks import vs_baseline as baseline
from gatekeeper.checks.evidence import Evidence
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.policy.loader import load_policy


def _bundle(root: Path, run_id: str, value: float) -> Path:
    root.mkdir(parents=True)
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": run_id, "model": "m",
        "metrics": {"f1": {"value": value}}}))
    return root


def test_single_values_give_no_interval_and_never_pass(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
                      "metrics:\n  - {metric: f1, vs_baseline: {margin: 0.01}}\n")
    ctx = Evidence(policy=load_policy(policy),
                  bundle=load_bundle(_bundle(tmp_path / "c", "c", 0.91)),
                  as_of=date(2026, 11, 26), baseline=load_bundle(_bundle(tmp_path / "b", "b", 0.9)))
    [chk] = baseline.run(ctx, {})
    assert chk.status == "warn" and chk.outcome == "no_information"
    assert chk.ci is None
    assert "no interval" in chk.message and "CI [" not in chk.message
