"""`gatekeeper replay --record` and a policy that requires a replay record (release
branches): a record passes, a missing one blocks, one kept after the run was edited blocks,
and a not reproducible one blocks."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, Result

SCRIPT = """\
import sys
import gatekeeper
with gatekeeper.Run("b", model="m", seeds=[0, 1]) as run:
    for s in run.seeds:
        run.log_metric("accuracy", 0.8 + s / 100 + float(sys.argv[1]), seed=s)
"""

POLICY = """\
apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: p, version: 1}
metrics:
  - metric: accuracy
    min: 0.5
branches:
  "release/*":
    reproducibility: {require_replay: true}
"""


@pytest.fixture
def made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    for name in ("GATEKEEPER_BUNDLE_DIR", "GATEKEEPER_SEEDS", "GATEKEEPER_COMMAND"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def _capture(cli: Callable[..., Result], work: Path) -> Path:
    bundle = work / "bundle"
    result = cli("capture", "--out", str(bundle), "--", sys.executable,
                 str(work / "train.py"), "0")
    assert result.code == 0, result.err
    return bundle


def _check(cli: Callable[..., Result], work: Path, branch: str) -> Result:
    return cli("check", str(work / "bundle"), "--policy", str(work / "policy.yaml"),
               "--target-branch", branch)


def test_a_release_branch_needs_a_replay_record(cli: Callable[..., Result], made: Path) -> None:
    _capture(cli, made)
    assert _check(cli, made, "main").code == 0
    blocked = _check(cli, made, "release/2.0")
    assert blocked.code == 1
    assert "BLOCK envelope:replay: no replay record" in blocked.out


def test_a_recorded_repeatable_replay_passes(cli: Callable[..., Result], made: Path) -> None:
    bundle = _capture(cli, made)
    replay = cli("replay", str(bundle), "--record")
    assert replay.out == "replay: repeatable\n", replay.err
    record = yaml.safe_load((bundle / "run.yaml").read_text())["replay"]
    assert record["result"] == "repeatable"
    result = _check(cli, made, "release/2.0")
    assert result.code == 0, result.out
    assert "PASS  envelope:replay: replayed: repeatable" in result.out


def test_a_record_kept_after_the_metrics_were_edited_blocks(cli: Callable[..., Result],
                                                             made: Path) -> None:
    bundle = _capture(cli, made)
    assert cli("replay", str(bundle), "--record").code == 0
    doc = yaml.safe_load((bundle / "run.yaml").read_text())
    doc["metrics"]["accuracy"]["replicates"] = [0.99, 0.99]
    (bundle / "run.yaml").write_text(yaml.safe_dump(doc))
    result = _check(cli, made, "release/2.0")
    assert result.code == 1
    assert "the replay record is for other content" in result.out


def test_a_record_copied_from_another_run_blocks(cli: Callable[..., Result],
                                                 made: Path) -> None:
    bundle = _capture(cli, made)
    assert cli("replay", str(bundle), "--record").code == 0
    record = yaml.safe_load((bundle / "run.yaml").read_text())["replay"]
    other = cli("capture", "--out", str(made / "other"), "--", sys.executable,
                str(made / "train.py"), "0.05")
    assert other.code == 0
    doc = yaml.safe_load((made / "other" / "run.yaml").read_text())
    doc["replay"] = record
    (made / "bundle" / "run.yaml").write_text(yaml.safe_dump(doc))
    result = _check(cli, made, "release/2.0")
    assert result.code == 1
    assert "the replay record is for other content" in result.out


def test_a_not_reproducible_record_blocks(cli: Callable[..., Result], made: Path) -> None:
    bundle = _capture(cli, made)
    replay = cli("replay", str(bundle), "--record", "--", sys.executable,
                 str(made / "train.py"), "0.01")
    assert replay.code == 1
    assert replay.out.startswith("replay: not reproducible\n  metric accuracy (2 of 2 seeds moved")
    result = _check(cli, made, "release/2.0")
    assert result.code == 1
    assert "BLOCK envelope:replay: the replay was not reproducible: metric accuracy" in result.out


def test_the_replay_tolerance_comes_from_the_policy(cli: Callable[..., Result],
                                                   made: Path) -> None:
    bundle = _capture(cli, made)
    (made / "tol.yaml").write_text(POLICY + "reproducibility:\n  replay_tolerance:\n"
                                   "    accuracy: 0.02\n")
    args = ("--", sys.executable, str(made / "train.py"), "0.01")
    within = cli("replay", str(bundle), "--policy", str(made / "tol.yaml"), *args)
    assert within.code == 0
    assert within.out.startswith("replay: reproducible within tolerance\n")
    (made / "tight.yaml").write_text(POLICY + "reproducibility:\n  replay_tolerance:\n"
                                     "    accuracy: 0.001\n")
    beyond = cli("replay", str(bundle), "--policy", str(made / "tight.yaml"), *args)
    assert beyond.code == 1
