"""Artifacts are present and match their sha256 and size (streamed hashing)."""

from __future__ import annotations

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.verdict import Check


def run(ctx: Evidence) -> list[Check]:
    out: list[Check] = []
    for i, status in enumerate(ctx.bundle.verify_artifacts()):
        src = source_of(ctx.bundle.location("artifacts", i, "sha256"))
        if status.ok:
            out.append(check(ids.artifact(status.path), "pass",
                             f"{status.path}: sha256 and size match", source=src))
        else:
            out.append(check(ids.artifact(status.path), "block",
                             f"{status.path}: {status.problem}",
                             observed=status.actual_sha256, threshold=status.expected_sha256,
                             source=src))
    return out
