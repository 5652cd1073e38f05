"""The whole envelope against what the system reports: platform, /proc/cpuinfo, the
environment; and `gatekeeper capture env`."""

from __future__ import annotations

import os
import platform
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gatekeeper.capture import capture_envelope
from gatekeeper.capture.hardware import capture_hardware, cpu_model
from gatekeeper.errors import InputError
from gatekeeper.models.run import CodeVersion, Environment
from tests.conftest import ROOT, run_subprocess


def test_python_and_platform_are_what_the_platform_module_says(tmp_path: Path) -> None:
    env = capture_envelope(tmp_path, {}).environment
    assert env["python"] == platform.python_version()
    assert env["implementation"] == platform.python_implementation()
    assert env["platform"] == f"{platform.system().lower()}-{platform.machine().lower()}"
    Environment.model_validate(env)


def test_cpu_model_is_the_model_name_in_proc_cpuinfo() -> None:
    text = Path("/proc/cpuinfo").read_text()
    first = re.search(r"^model name\s*:\s*(.+)$", text, flags=re.MULTILINE)
    assert first is not None
    assert cpu_model() == first.group(1).strip()
    mem = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)
    assert mem is not None
    hardware = capture_hardware([])
    assert hardware["memory_gb"] == round(int(mem.group(1)) / 2**20, 1)


def test_an_arm_cpuinfo_names_its_hardware(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nBogoMIPS\t: 48.00\n\nHardware\t: BCM2835\n")
    assert cpu_model(info) == "BCM2835"


def test_no_gpu_driver_is_said_not_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    missing: list[str] = []
    hardware = capture_hardware(missing)
    assert "accelerator" not in hardware
    assert any(m.startswith("environment.hardware.accelerator: nvidia-smi not found")
               for m in missing)


def test_nvidia_smi_output_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nvidia-smi's own output format (two L4 cards), from an executable on PATH.
    script = tmp_path / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--query-gpu=name,driver_version" ]; then\n'
        "  printf 'NVIDIA L4, 550.54.15\\nNVIDIA L4, 550.54.15\\n'\n"
        "else\n"
        "  printf '| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4 |\\n'\n"
        "fi\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    missing: list[str] = []
    hardware = capture_hardware(missing)
    assert hardware["accelerator"] == "NVIDIA L4"
    assert hardware["count"] == 2
    assert hardware["driver"] == "550.54.15"
    assert hardware["cuda"] == "12.4"
    assert not [m for m in missing if "accelerator" in m or "cuda" in m]


def test_determinism_settings_and_what_is_missing(tmp_path: Path) -> None:
    env = capture_envelope(tmp_path, {"PYTHONHASHSEED": "0"}).environment
    assert env["determinism"]["PYTHONHASHSEED"] == "0"
    assert "environment.determinism.CUBLAS_WORKSPACE_CONFIG: not set" in env["missing"]
    assert "environment.determinism.PYTHONHASHSEED: not set" not in env["missing"]
    torch_installed = subprocess.run(
        [sys.executable, "-c", "import importlib.util,sys; "
                         "sys.exit(importlib.util.find_spec('torch') is None)"],
        check=False).returncode == 0
    assert ("environment.determinism.torch: torch is not installed" in env["missing"]) \
        is not torch_installed


def test_environment_variables_only_when_allow_listed(tmp_path: Path) -> None:
    environ = {"CUDA_VISIBLE_DEVICES": "0", "HOME": "/root", "OMP_NUM_THREADS": "4"}
    env = capture_envelope(tmp_path, environ, ["OMP_NUM_THREADS", "NOT_SET"]).environment
    assert env["variables"] == {"OMP_NUM_THREADS": "4"}
    assert "variables" not in capture_envelope(tmp_path, environ).environment


def test_an_allow_listed_credential_is_refused_by_name(tmp_path: Path) -> None:
    token = "ghp_" + "A1b2C3d4" * 5
    with pytest.raises(InputError) as info:
        capture_envelope(tmp_path, {"GH_TOKEN": token}, ["GH_TOKEN"])
    assert "environment.variables.GH_TOKEN" in str(info.value)
    assert token not in str(info.value)


def test_a_lockfile_beside_the_repository_top_is_found_from_a_subfolder(tmp_path: Path
                                                                         ) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=30)
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / "src").mkdir()
    env = capture_envelope(tmp_path / "src", {}).environment
    assert env["lockfile"]["path"] == "uv.lock"
    assert "packages_sha256" not in env


def test_without_a_lockfile_the_installed_packages_are_hashed(tmp_path: Path) -> None:
    env = capture_envelope(tmp_path, {}).environment
    assert "lockfile" not in env
    assert re.fullmatch(r"[0-9a-f]{64}", env["packages_sha256"])
    assert any(m.startswith("environment.lockfile:") for m in env["missing"])


def test_capture_env_prints_the_run_yaml_keys() -> None:
    result = run_subprocess("capture", "env")
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert set(doc) == {"environment", "code"}
    Environment.model_validate(doc["environment"])
    CodeVersion.model_validate(doc["code"])
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()
    assert doc["code"]["commit"] == head
    assert doc["environment"]["python"] == platform.python_version()


def test_capture_env_outside_git_has_no_code_commit(tmp_path: Path) -> None:
    result = run_subprocess("capture", "env", cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert "code" not in doc
    assert "code.commit: not a git repository" in doc["environment"]["missing"]


def test_capture_env_refuses_a_credential_variable_with_exit_2() -> None:
    token = "AKIA" + "ABCDEFGHIJKLMNOP"
    result = run_subprocess("capture", "env", "--allow-env", "AWS_KEY",
                            env={**os.environ, "AWS_KEY": token})
    assert result.code == 2
    assert "environment.variables.AWS_KEY" in result.err
    assert token not in result.err + result.out
