"""The whole envelope: Python, platform, lockfile or installed packages, hardware,
determinism settings, allow-listed environment variables, and the code's git state."""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.capture.determinism import capture_determinism
from gatekeeper.capture.git import capture_code
from gatekeeper.capture.hardware import capture_hardware
from gatekeeper.capture.lockfile import distributions_sha256, find_lockfile
from gatekeeper.errors import InputError, Location
from gatekeeper.safe_text import credential_kind


@dataclass(frozen=True)
class Envelope:
    environment: dict[str, Any]
    code: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The ``environment`` and ``code`` keys of run.yaml."""
        out: dict[str, Any] = {"environment": self.environment}
        if self.code:
            out["code"] = self.code
        return out


def platform_tag() -> str:
    """``linux-x86_64``: the OS and machine as the platform module reports them."""
    return f"{platform.system().lower()}-{platform.machine().lower()}"


def _variables(environ: Mapping[str, str], allow: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(set(allow)):
        if name not in environ:
            continue
        kind = credential_kind(environ[name])
        if kind is not None:
            raise InputError(f"the allow-listed variable holds what looks like a {kind}: "
                             "credentials are never recorded (the value is not shown)",
                             Location(field=f"environment.variables.{name}"))
        out[name] = environ[name]
    return out


def capture_envelope(workdir: Path, environ: Mapping[str, str],
                     allow_env: Sequence[str] = ()) -> Envelope:
    """What the system says about this run's environment and code, read now from ``workdir``
    (the repository and its lockfile are looked up from there)."""
    missing: list[str] = []
    code = capture_code(workdir, missing)
    root = Path(code.pop("_top")) if "_top" in code else workdir
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform_tag(),
    }
    lock = find_lockfile(root)
    if lock is not None:
        env["lockfile"] = lock
    else:
        missing.append("environment.lockfile: no lockfile in the repository; "
                       "packages_sha256 hashes the installed distributions instead")
        env["packages_sha256"] = distributions_sha256()
    hardware = capture_hardware(missing)
    if hardware:
        env["hardware"] = hardware
    determinism = capture_determinism(environ, missing)
    if determinism:
        env["determinism"] = determinism
    variables = _variables(environ, allow_env)
    if variables:
        env["variables"] = variables
    if missing:
        env["missing"] = sorted(missing)
    return Envelope(environment=env, code=code)
