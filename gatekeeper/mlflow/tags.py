"""MLflow's own run tags mapped into the run envelope (shared by the MLflow importer and the
MLflow registry backend, so both read a run the same way)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

HEX_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")


def code_from_tags(tags: Mapping[str, str]) -> dict[str, Any]:
    """``code`` of the run from ``mlflow.source.git.*``; a commit only when it is real hex."""
    code: dict[str, Any] = {}
    commit = tags.get("mlflow.source.git.commit", "").strip().lower()
    if HEX_COMMIT.match(commit):
        code["commit"] = commit
    if tags.get("mlflow.source.git.repoURL"):
        code["repo"] = tags["mlflow.source.git.repoURL"]
    if tags.get("mlflow.source.git.branch"):
        code["branch"] = tags["mlflow.source.git.branch"]
    return code
