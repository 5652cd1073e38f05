"""The action's gate step records gatekeeper's exit code even under `bash -e`, so a block is
never lost between the gate and the step that fails the job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT


def _gate_step() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "gate"]
    script: str = step["run"]
    return script


@pytest.mark.parametrize(("bundle", "code"), [("pass", "0"), ("block", "1")])
def test_gate_step_records_the_exit_code_under_bash_e(tmp_path: Path, bundle: str,
                                                      code: str) -> None:
    # GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
    runner_temp = tmp_path / "runner"
    (runner_temp / "gatekeeper-venv" / "bin").mkdir(parents=True)
    os.symlink(shutil.which("gatekeeper") or Path(sys.executable).parent / "gatekeeper",
               runner_temp / "gatekeeper-venv" / "bin" / "gatekeeper")
    script = tmp_path / "gate.sh"
    script.write_text(_gate_step())
    output = tmp_path / "output.txt"
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(output),
           "INPUT_BUNDLE": str(EXAMPLES / "bundles" / bundle),
           "INPUT_POLICY": "policies/default.yaml", "INPUT_REGISTRY": "",
           "INPUT_FAIL_ON": "block", "INPUT_COMMENT": "off", "INPUT_CHECK_NAME": "gatekeeper",
           "INPUT_TARGET_BRANCH": ""}
    for key in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_TOKEN"):
        env.pop(key, None)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr  # the step itself succeeds; the last step exits
    assert f"gate-exit-code={code}" in output.read_text()
