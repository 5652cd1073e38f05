"""gatekeeper: a policy-as-code promotion gate for ML and LLM models."""

from __future__ import annotations

__version__ = "0.1.0"
