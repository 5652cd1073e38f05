"""The gate's pipeline: policy → bundle → baseline → checks → waivers → verdict.

Each step is a function that takes values and returns a value; ``run_gate`` is the only place
that orders them. Reporters and publishers take the ``GateResult`` and decide nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Literal

from gatekeeper import __version__
from gatekeeper.models.common import worst
from gatekeeper.models.verdict import (
    BaselineInfo,
    CandidateRef,
    Check,
    Counts,
    GateInfo,
    PolicyRef,
    RollbackTarget,
    Verdict,
    exit_code_for,
)


def build_verdict(
    *,
    checks: Sequence[Check],
    fail_on: Literal["warn", "block"],
    policy: PolicyRef,
    candidate: CandidateRef,
    baseline: BaselineInfo | None,
    rollback_target: RollbackTarget | None,
    rng_seed: int,
) -> Verdict:
    status = worst([c.status for c in checks])
    counts = Counts.model_validate({
        "pass": sum(c.status == "pass" for c in checks),
        "warn": sum(c.status == "warn" for c in checks),
        "block": sum(c.status == "block" for c in checks),
        "waived": sum(c.waiver is not None for c in checks),
    })
    return Verdict(
        verdict=status,
        exit_code=exit_code_for(status, fail_on),
        fail_on=fail_on,
        counts=counts,
        policy=policy,
        candidate=candidate,
        baseline=baseline,
        rollback_target=rollback_target,
        checks=list(checks),
        gate=GateInfo(gatekeeper_version=__version__, rng_seed=rng_seed,
                      python=f"{sys.version_info.major}.{sys.version_info.minor}"),
    )
