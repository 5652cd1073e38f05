"""Facts from PyTorch's ``collect_env`` text (lm-eval's ``pretty_env_info``)."""

from __future__ import annotations

import re
from typing import Any

_UNKNOWN = {"", "n/a", "none", "no cuda", "could not collect", "false"}


def _field(text: str, label: str) -> str | None:
    match = re.search(rf"^{re.escape(label)}:[ \t]*(.*)$", text, flags=re.MULTILINE)
    if not match:
        return None
    value = match.group(1).strip()
    return None if value.lower() in _UNKNOWN else value


def parse_env_info(text: str) -> dict[str, Any]:
    """Python, platform, hardware and package versions; what is not there stays absent."""
    env: dict[str, Any] = {}
    python = _field(text, "Python version")
    if python:
        env["python"] = python.split()[0]
    platform = _field(text, "Python platform")
    if platform:
        env["platform"] = platform
    hardware = _hardware(text)
    if hardware:
        env["hardware"] = hardware
    packages = _packages(text)
    if packages:
        env["packages"] = packages
    return env


def _hardware(text: str) -> dict[str, Any]:
    hardware: dict[str, Any] = {}
    gpus = re.findall(r"^(?:GPU models and configuration:\s*)?GPU \d+: (.+)$", text,
                      flags=re.MULTILINE)
    if not gpus:
        single = _field(text, "GPU models and configuration")
        if single:
            gpus = [single]
    if gpus:
        hardware["accelerator"] = gpus[0].strip()
        hardware["count"] = len(gpus)
    driver = _field(text, "Nvidia driver version")
    if driver:
        hardware["driver"] = driver
    cuda = _field(text, "CUDA runtime version") or _field(text, "CUDA used to build PyTorch")
    if cuda:
        hardware["cuda"] = cuda
    cpu = _field(text, "Model name")
    if cpu is None:
        match = re.search(r"^CPU:\s*\n([^\n:]+)$", text, flags=re.MULTILINE)
        cpu = match.group(1).strip() if match else None
    if cpu:
        hardware["cpu"] = cpu
    return hardware


def _packages(text: str) -> dict[str, str]:
    packages: dict[str, str] = {}
    torch = _field(text, "PyTorch version")
    if torch:
        packages["torch"] = torch
    for name, version in re.findall(r"^\[pip3?\] ([A-Za-z0-9_.\-]+)==(\S+)", text,
                                    flags=re.MULTILINE):
        packages.setdefault(name, version)
    return packages
