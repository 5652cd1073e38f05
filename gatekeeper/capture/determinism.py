"""Determinism settings: PYTHONHASHSEED, CUBLAS_WORKSPACE_CONFIG and, when torch is already
imported or importable, its deterministic-algorithms and cuDNN flags."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from typing import Any


def _torch_flags() -> dict[str, Any] | None:
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        return None
    # lazy: torch is heavy and optional; only read when the user's environment has it
    import torch  # type: ignore[import-not-found,unused-ignore]

    flags: dict[str, Any] = {
        "torch_version": str(torch.__version__),
        "torch_deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
    }
    cudnn = getattr(getattr(torch, "backends", None), "cudnn", None)
    if cudnn is not None:
        flags["cudnn_deterministic"] = bool(cudnn.deterministic)
        flags["cudnn_benchmark"] = bool(cudnn.benchmark)
    return flags


def capture_determinism(environ: Mapping[str, str], missing: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG"):
        if name in environ:
            out[name] = environ[name]
        else:
            missing.append(f"environment.determinism.{name}: not set")
    torch = _torch_flags()
    if torch is None:
        missing.append("environment.determinism.torch: torch is not installed")
    else:
        out.update(torch)
    return out
