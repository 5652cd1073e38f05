"""The envelope fields a replay compares, flattened to dotted paths, and why each matters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatekeeper.models.run import Run

_HARDWARE = ("accelerator", "count", "driver", "cuda", "cpu")
_ENVIRONMENT = ("python", "implementation", "platform", "packages_sha256")


@dataclass(frozen=True)
class FieldDifference:
    field: str
    original: str
    replay: str

    @property
    def reason(self) -> str:
        """What kind of difference: the reasons `gatekeeper replay` names."""
        head = self.field.split(".")
        if self.field.startswith("environment.hardware"):
            return "hardware differs"
        if self.field.startswith(("environment.lockfile", "environment.packages_sha256")):
            return "lockfile differs"
        if self.field.startswith("environment.determinism"):
            return "determinism settings differ"
        if head[0] == "code":
            return "code differs"
        if head[0] == "data":
            return "data differs"
        if head[0] == "command":
            return "another command was run"
        if head[0] in ("params", "seeds"):
            return f"{head[0]} differ"
        return "environment differs"


def _text(value: Any) -> str:
    if value is None:
        return "(not recorded)"
    return str(value)


def _attrs(prefix: str, obj: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {f"{prefix}.{key}": getattr(obj, key) if obj is not None else None for key in keys}


def _environment(run: Run) -> dict[str, Any]:
    env = run.environment
    out = _attrs("environment", env, _ENVIRONMENT)
    out.update(_attrs("environment.lockfile", env.lockfile if env else None, ("path", "sha256")))
    out.update(_attrs("environment.hardware", env.hardware if env else None, _HARDWARE))
    for key, value in sorted(((env.determinism if env else None) or {}).items()):
        out[f"environment.determinism.{key}"] = value
    return out


def flatten(run: Run) -> dict[str, Any]:
    """Every compared field of ``run``: code, environment, data hashes, params, seeds."""
    out: dict[str, Any] = {"model": run.model, "seeds": run.seeds,
                           "command": " ".join(run.command) if run.command else None}
    out.update(_attrs("code", run.code, ("commit", "dirty", "diff_sha256")))
    out.update(_environment(run))
    for entry in run.data:
        out[f"data.{entry.name}.sha256"] = entry.sha256
    for key, value in sorted(run.params.items()):
        out[f"params.{key}"] = value
    return out


def compare_envelopes(original: Run, replay: Run) -> list[FieldDifference]:
    a, b = flatten(original), flatten(replay)
    return [FieldDifference(key, _text(a.get(key)), _text(b.get(key)))
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def nondeterministic_kernels(run: Run) -> bool:
    """The run says nondeterministic kernels were allowed (torch's deterministic algorithms
    off, or cuDNN benchmark on)."""
    flags = (run.environment.determinism if run.environment else None) or {}
    return (flags.get("torch_deterministic_algorithms") is False
            or flags.get("cudnn_benchmark") is True)
