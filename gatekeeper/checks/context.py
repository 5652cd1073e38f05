"""What every check may look at. Built once by ``evaluate.py``; read-only for checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.scores import LoadedMetric, load_metric
from gatekeeper.models.common import Status
from gatekeeper.models.verdict import BaselineInfo, RollbackTarget
from gatekeeper.policy.loader import LoadedPolicy


@dataclass
class Context:
    policy: LoadedPolicy
    bundle: Bundle
    as_of: date  # the day waivers and staleness are judged on: an input, not the wall clock
    baseline: Bundle | None = None
    baseline_info: BaselineInfo | None = None
    rollback_target: RollbackTarget | None = None
    # Metrics whose candidate-vs-baseline Δ must not be computed, with the status and reason
    # (e.g. the LLM judge changed). Written by checks/judge.py, which runs before
    # checks/baseline.py; the only state one family hands to another.
    not_comparable: dict[str, tuple[Status, str]] = field(default_factory=dict)
    _metrics: dict[tuple[str, str], LoadedMetric] = field(default_factory=dict, repr=False)

    def metric(self, which: str, name: str) -> LoadedMetric:
        """Load (once) metric ``name`` of the candidate or the baseline bundle."""
        key = (which, name)
        if key not in self._metrics:
            bundle = self.bundle if which == "candidate" else self.baseline
            assert bundle is not None
            self._metrics[key] = load_metric(bundle, name)
        return self._metrics[key]
