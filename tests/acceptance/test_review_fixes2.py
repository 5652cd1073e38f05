"""Fixes from the second review: the action's exit code survives `bash -e`, and bad command-line
values are input errors (exit 2), never exit 3 or silently ignored."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT, Result


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


def test_import_into_an_unwritable_place_is_an_input_error(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    src = ROOT / "tests" / "fixtures" / "real" / "promptfoo" / "run1" / "output.json"
    assert src.is_file()
    res = cli("import", "promptfoo", str(src), "--out", "/proc/gatekeeper-bundle")
    assert res.code == 2, res.err
    assert "cannot write the bundle" in res.err and "Traceback" not in res.err


def test_negative_seed_and_missing_template_dir_are_input_errors(
        cli: Callable[..., Result]) -> None:
    res = cli("compare", "examples/bundles/pass", "examples/bundles/warn", "--seed", "-1")
    assert res.code == 2 and "--seed" in res.err
    res = cli("check", "examples/bundles/pass", "--policy", "policies/default.yaml",
              "--template-dir", "/nonexistent-templates")
    assert res.code == 2 and "--template-dir" in res.err
