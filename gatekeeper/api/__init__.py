"""The Python API for training and evaluation scripts: ``gatekeeper.Run`` writes a bundle."""

from __future__ import annotations

from gatekeeper.api.run import Run

__all__ = ["Run"]
