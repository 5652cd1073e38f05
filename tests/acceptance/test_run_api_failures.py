"""What a script's failure leaves behind: a crash inside the with block gives a failed bundle
that check blocks; a process killed while writing leaves no bundle that loads as complete; a
credential never reaches a bundle; `gatekeeper capture` wraps a command's result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gatekeeper.errors import GatekeeperError
from gatekeeper.inputs.bundle import load_bundle
from tests.conftest import ROOT, Result, run_subprocess

POLICY = """\
apiVersion: gatekeeper/v1
kind: Policy
metadata: {name: floors, version: 1}
metrics:
  - metric: accuracy
    min: 0.5
"""

CRASH = """\
import gatekeeper
with gatekeeper.Run("bundle", model="m", seeds=[0, 1]) as run:
    run.log_metric("accuracy", 0.9, seed=0)
    run.log_metric("accuracy", 0.9, seed=1)
    raise RuntimeError("the loss went to nan at step 812")
"""

# Writes a large artifact so the bundle takes a while to write; the test kills it meanwhile.
BIG = """\
import os, sys
import gatekeeper
with open("weights.bin", "wb") as fh:
    for _ in range(int(sys.argv[1])):
        fh.write(os.urandom(1 << 20))
with gatekeeper.Run("bundle", model="m") as run:
    run.log_metric("accuracy", float(sys.argv[2]))
    run.log_artifact("weights.bin", kind="model")
print("written", flush=True)
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("GATEKEEPER_BUNDLE_DIR", "GATEKEEPER_SEEDS", "GATEKEEPER_COMMAND"):
        env.pop(name, None)
    return env


def gk(work: Path, *args: str) -> Result:
    return run_subprocess(*args, cwd=work, env=_env())


def test_a_crash_leaves_a_failed_bundle_that_check_blocks(tmp_path: Path) -> None:
    (tmp_path / "crash.py").write_text(CRASH)
    (tmp_path / "policy.yaml").write_text(POLICY)
    proc = subprocess.run([sys.executable, "crash.py"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "RuntimeError: the loss went to nan at step 812" in proc.stderr  # it propagated
    doc = yaml.safe_load((tmp_path / "bundle" / "run.yaml").read_text())
    assert doc["status"] == "failed"
    result = gk(tmp_path, "check", "bundle", "--policy", "policy.yaml")
    assert result.code == 1, result.out + result.err
    assert ("BLOCK envelope:run_status: the run failed (RuntimeError: the loss went to nan at step "
            "812)") in " ".join(result.out.split())
    # the metric itself passes its floor: the failure alone blocks
    assert "PASS  metric:accuracy:min" in result.out


def test_deleting_the_failed_status_by_hand_is_caught_by_a_policy_that_requires_it(
        tmp_path: Path) -> None:
    # A PR author who deletes the status line removes the run's own word that it failed; a
    # policy that lists `status` among the required envelope fields blocks that bundle.
    (tmp_path / "crash.py").write_text(CRASH)
    (tmp_path / "policy.yaml").write_text(POLICY + "envelope: {required: [status]}\n")
    subprocess.run([sys.executable, "crash.py"], cwd=tmp_path, env=_env(), capture_output=True,
                   timeout=120, check=False)
    run_file = tmp_path / "bundle" / "run.yaml"
    doc = yaml.safe_load(run_file.read_text())
    del doc["status"]
    run_file.write_text(yaml.safe_dump(doc))
    result = gk(tmp_path, "check", "bundle", "--policy", "policy.yaml")
    assert result.code == 1
    assert "BLOCK envelope:status: required envelope field missing: status" in result.out


@pytest.mark.parametrize("edit", ["complete", None])
def test_a_failure_kept_beside_another_status_still_blocks(tmp_path: Path,
                                                           edit: str | None) -> None:
    (tmp_path / "crash.py").write_text(CRASH)
    (tmp_path / "policy.yaml").write_text(POLICY)
    subprocess.run([sys.executable, "crash.py"], cwd=tmp_path, env=_env(), capture_output=True,
                   timeout=120, check=False)
    run_file = tmp_path / "bundle" / "run.yaml"
    doc = yaml.safe_load(run_file.read_text())
    if edit is None:
        del doc["status"]
    else:
        doc["status"] = edit
    run_file.write_text(yaml.safe_dump(doc))
    result = gk(tmp_path, "check", "bundle", "--policy", "policy.yaml")
    assert result.code == 1
    assert "the run records a failure (RuntimeError: the loss went to nan at step 812) but not " \
        "status: failed" in " ".join(result.out.split())


def _staging(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob(".bundle.*.tmp"))


def _kill_while_writing(tmp_path: Path, megabytes: int, accuracy: float) -> bool:
    """Run BIG and SIGKILL it as soon as its staging folder appears; True when it was killed
    before it finished."""
    proc = subprocess.Popen([sys.executable, "big.py", str(megabytes), str(accuracy)],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _staging(tmp_path):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
    finally:
        proc.wait(timeout=60)
        assert proc.stdout is not None and proc.stderr is not None
        out = proc.stdout.read()
        proc.stdout.close()
        proc.stderr.close()
    return proc.returncode == -signal.SIGKILL and b"written" not in out


def test_killing_the_process_mid_write_leaves_no_bundle_that_loads(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(BIG)
    killed = _kill_while_writing(tmp_path, 64, 0.9)
    assert killed, "the process finished before it could be killed while writing"
    assert _staging(tmp_path), "the kill did not land while the bundle was being written"
    assert not (tmp_path / "bundle").exists()
    with pytest.raises(GatekeeperError):
        load_bundle(tmp_path / "bundle")


def test_killing_a_rewrite_leaves_the_previous_bundle_whole(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(BIG)
    done = subprocess.run([sys.executable, "big.py", "2", "0.7"], cwd=tmp_path, env=_env(),
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert _kill_while_writing(tmp_path, 64, 0.9)
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.run.metrics["accuracy"].value == 0.7  # the old bundle, not half the new one
    assert all(a.ok for a in bundle.verify_artifacts())


def test_a_credential_on_the_command_line_is_refused_with_exit_2(tmp_path: Path) -> None:
    token = "ghp_" + "Z9y8X7w6" * 5
    result = gk(tmp_path, "capture", "--out", "bundle", "--", sys.executable, "-c", "pass",
                "--api-key", token)
    assert result.code == 2
    assert "field 'command[4]'" in result.err
    assert token not in result.err + result.out
    assert not any(token.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_a_credential_param_in_a_script_is_refused_naming_the_field(tmp_path: Path) -> None:
    token = "sk-ant-" + "Q1w2E3r4T5y6" * 4
    (tmp_path / "leak.py").write_text(
        "import gatekeeper, sys\n"
        "from gatekeeper.errors import GatekeeperError\n"
        "try:\n"
        f"    with gatekeeper.Run('bundle', model='m', params={{'api_key': '{token}'}}):\n"
        "        pass\n"
        "except GatekeeperError as exc:\n"
        "    print(exc, file=sys.stderr)\n"
        "    sys.exit(exc.exit_code)\n")
    proc = subprocess.run([sys.executable, "leak.py"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "field 'params.api_key'" in proc.stderr
    assert token not in proc.stderr
    assert not (tmp_path / "bundle").exists()


def test_capture_wraps_a_script_that_writes_through_the_api(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import gatekeeper\n"
        "with gatekeeper.Run('ignored', model='m', seeds=[0, 1]) as run:\n"
        "    for s in run.seeds:\n"
        "        run.log_metric('accuracy', 0.8 + s / 100, seed=s)\n")
    result = gk(tmp_path, "capture", "--out", "bundle", "--", sys.executable, "train.py")
    assert result.code == 0, result.err
    r = load_bundle(tmp_path / "bundle").run
    assert r.command == [sys.executable, "train.py"]
    assert r.metrics["accuracy"].replicates == [0.8, 0.81]
    assert not (tmp_path / "ignored").exists()
    assert not list(tmp_path.glob(".bundle.*"))  # no staging folder left behind
    replay = gk(tmp_path, "replay", "bundle")
    assert replay.out == "replay: repeatable\n", replay.err


def test_capture_wraps_a_metrics_json_with_the_envelope(tmp_path: Path) -> None:
    script = ("import json, os, pathlib\n"
              "d = pathlib.Path(os.environ['GATEKEEPER_BUNDLE_DIR']); d.mkdir(parents=True)\n"
              "(d / 'metrics.json').write_text(json.dumps({'accuracy': 0.91, 'f1': [0.8, 0.82]}))\n"
              "(d / 'model.txt').write_text('weights')\n")
    (tmp_path / "eval.py").write_text(script)
    result = gk(tmp_path, "capture", "--out", "bundle", "--model", "clf", "--seeds", "3,4",
                "--", sys.executable, "eval.py")
    assert result.code == 0, result.err
    r = load_bundle(tmp_path / "bundle").run
    assert r.model == "clf" and r.seeds == [3, 4] and r.status == "complete"
    assert r.metrics["accuracy"].value == 0.91
    assert r.metrics["f1"].replicates == [0.8, 0.82]
    assert [a.path for a in r.artifacts] == ["artifacts/model.txt"]
    assert r.environment is not None and r.environment.python is not None
    assert r.command == [sys.executable, "eval.py"]


def test_capture_of_a_failing_command_writes_a_failed_bundle(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    result = gk(tmp_path, "capture", "--out", "bundle", "--model", "clf", "--",
                sys.executable, "-c", "raise SystemExit(3)")
    assert result.code == 1
    r = load_bundle(tmp_path / "bundle").run
    assert r.status == "failed" and r.failure == "the command exited 3"
    checked = gk(tmp_path, "check", "bundle", "--policy", "policy.yaml")
    assert checked.code == 1
    assert "the run failed (the command exited 3)" in checked.out


def test_capture_without_a_command(tmp_path: Path) -> None:
    result = gk(tmp_path, "capture", "--out", "bundle")
    assert result.code == 2 and "no command" in result.err


def test_replay_of_a_bundle_without_a_command(tmp_path: Path) -> None:
    result = gk(tmp_path, "replay", str(ROOT / "examples" / "bundles" / "pass"))
    assert result.code == 2
    assert "records no command" in result.err


def test_replay_of_a_command_that_fails(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import gatekeeper\n"
        "with gatekeeper.Run('b', model='m') as run:\n"
        "    run.log_metric('accuracy', 0.8)\n")
    assert gk(tmp_path, "capture", "--out", "bundle", "--", sys.executable, "train.py").code == 0
    result = gk(tmp_path, "replay", "bundle", "--", sys.executable, "-c", "raise SystemExit(4)")
    assert result.code == 1
    assert result.out == "replay: not reproducible\n  the command exited 4\n"


def test_a_captured_metrics_json_run_replays_as_repeatable(tmp_path: Path) -> None:
    (tmp_path / "eval.py").write_text(
        "import json, os, pathlib\n"
        "d = pathlib.Path(os.environ['GATEKEEPER_BUNDLE_DIR']); d.mkdir(parents=True)\n"
        "(d / 'metrics.json').write_text(json.dumps({'accuracy': 0.91}))\n")
    assert gk(tmp_path, "capture", "--out", "bundle", "--model", "clf", "--",
              sys.executable, "eval.py").code == 0
    replay = gk(tmp_path, "replay", "bundle", "--keep", "again")
    assert replay.code == 0, replay.err
    assert replay.out == "replay: repeatable\n"
    kept = load_bundle(tmp_path / "again").run
    assert kept.model == "clf" and kept.metrics["accuracy"].value == 0.91
