"""Run the CLI in a child process under a file-size limit or without write permission.

``RLIMIT_FSIZE`` makes a write fail part way, as a full disk does; SIGXFSZ is ignored in the
child so that the write raises EFBIG instead of killing the process. A read-only folder stops
root only if root lacks CAP_DAC_OVERRIDE, so when the tests run as root the child drops it from
its bounding set before exec (``prctl(PR_CAPBSET_DROP)``); where that is impossible the tests
that need it are skipped.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.conftest import ROOT, Result

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1


def _drop_dac_override() -> None:
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _preexec(fsize: int | None) -> Callable[[], None]:
    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        _drop_dac_override()

    return setup


def run_limited(*args: str, fsize: int | None = None,
                env: Mapping[str, str] | None = None) -> Result:
    """``python -m gatekeeper ARGS`` from the repository root, never with write permission
    beyond the file modes, and with at most ``fsize`` bytes per file written."""
    environ = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "gatekeeper", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=environ,
                          preexec_fn=_preexec(fsize))
    return Result(proc.returncode, proc.stdout, proc.stderr)


def read_only_folder(path: Path) -> Path:
    """``path`` created empty with mode 0555; skips when a child could still write in it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    probe = subprocess.run([sys.executable, "-c",
                            f"open({str(path / 'probe')!r}, 'w')"],
                           capture_output=True, preexec_fn=_preexec(None))
    if probe.returncode == 0:
        (path / "probe").unlink()
        pytest.skip("cannot make a folder read-only for a child process here")
    return path
