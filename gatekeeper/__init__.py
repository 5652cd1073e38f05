"""gatekeeper: a policy-as-code promotion gate for ML and LLM models."""

from __future__ import annotations

__version__ = "0.1.0"

# typing.TYPE_CHECKING without importing typing, which would be a tenth of `gatekeeper
# --version` (mypy treats any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gatekeeper.api.run import Run

__all__ = ["Run", "__version__"]


def __getattr__(name: str) -> Any:
    # `gatekeeper.Run` loads the API (pydantic, YAML) on first use only: `import gatekeeper`
    # and the CLI's cold paths stay light.
    if name == "Run":
        # lazy: the Python API (pydantic, yaml, git capture) is off `import gatekeeper`
        from gatekeeper.api.run import Run

        return Run
    raise AttributeError(f"module 'gatekeeper' has no attribute {name!r}")
