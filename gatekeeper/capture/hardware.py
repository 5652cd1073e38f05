"""Accelerators from nvidia-smi when it is there, else the CPU model; memory from the OS."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

_TIMEOUT = 30
CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")


def _nvidia(missing: list[str]) -> dict[str, Any]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        missing.append("environment.hardware.accelerator: nvidia-smi not found (no NVIDIA GPU "
                       "driver)")
        return {}
    try:
        query = subprocess.run(
            [exe, "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        banner = subprocess.run([exe], capture_output=True, text=True, timeout=_TIMEOUT,
                                check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        missing.append(f"environment.hardware.accelerator: nvidia-smi failed ({exc})")
        return {}
    rows = [line.split(",") for line in query.stdout.splitlines() if line.strip()]
    if query.returncode != 0 or not rows:
        missing.append("environment.hardware.accelerator: nvidia-smi found no GPU")
        return {}
    out: dict[str, Any] = {"accelerator": rows[0][0].strip(), "count": len(rows)}
    if len(rows[0]) > 1 and rows[0][1].strip():
        out["driver"] = rows[0][1].strip()
    cuda = re.search(r"CUDA Version:\s*([0-9.]+)", banner.stdout)
    if cuda:
        out["cuda"] = cuda.group(1)
    else:
        missing.append("environment.hardware.cuda: nvidia-smi does not show it")
    return out


def cpu_model(cpuinfo: Path = CPUINFO) -> str | None:
    """The CPU model as /proc/cpuinfo names it (``model name``; ``Hardware`` / ``cpu model``
    on some ARM and MIPS kernels), else what the platform module says."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for label in ("model name", "Hardware", "cpu model", "Processor"):
        match = re.search(rf"^{label}\s*:\s*(.+)$", text, flags=re.MULTILINE)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return platform.processor() or None


def memory_gb(meminfo: Path = MEMINFO) -> float | None:
    try:
        text = meminfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pages = getattr(os, "sysconf", None)
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if pages else 0
        except (ValueError, OSError):
            return None
        return round(total / 2**30, 1) if total > 0 else None
    match = re.search(r"^MemTotal:\s*(\d+)\s*kB", text, flags=re.MULTILINE)
    return round(int(match.group(1)) / 2**20, 1) if match else None


def capture_hardware(missing: list[str]) -> dict[str, Any]:
    hardware = _nvidia(missing)
    cpu = cpu_model()
    if cpu:
        hardware["cpu"] = cpu
    else:
        missing.append("environment.hardware.cpu: the CPU model cannot be read")
    mem = memory_gb()
    if mem is not None:
        hardware["memory_gb"] = mem
    else:
        missing.append("environment.hardware.memory_gb: cannot be read")
    return hardware
