"""What reporters may use beyond the verdict: the loaded bundles and policy (for the
"what changed" table and the model card). Every field is optional so a verdict.json alone can
be re-rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper.inputs.bundle import Bundle
from gatekeeper.policy.loader import LoadedPolicy


@dataclass(frozen=True)
class ReportContext:
    candidate: Bundle | None = None
    baseline: Bundle | None = None
    policy: LoadedPolicy | None = None
    details_url: str | None = None  # where the full report lives (job summary / artifact)
    template_dir: Path | None = None  # user templates that may extend the built-in ones
    server_url: str = "https://github.com"  # GITHUB_SERVER_URL, for commit links (GHES)
    as_of: str | None = None  # the --as-of date (YYYY-MM-DD) the verdict was judged on
    # What a report read from the bundles' files (the series curves), kept so the several
    # renderings of one gate (report, comment attempts, model card) read each file once.
    memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
