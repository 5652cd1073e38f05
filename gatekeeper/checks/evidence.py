"""What every check may look at: the policy, the candidate, the baseline and the day.

Built once per gate by ``gate.py`` and read-only for the check families: what one family finds
for another (the judge's verdict on comparability) is passed between them explicitly by
``checks/families.py``, never written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.scores import LoadedMetric, load_metric
from gatekeeper.leaderboard.context import LeaderboardContext
from gatekeeper.policy.loader import LoadedPolicy


@dataclass(frozen=True)
class Evidence:
    policy: LoadedPolicy
    bundle: Bundle
    as_of: date  # the day waivers and staleness are judged on: an input, not the wall clock
    baseline: Bundle | None = None
    # The eval sets' usage and the sweep size, when the policy has a leaderboard: section.
    leaderboard: LeaderboardContext | None = None
    # A memo of loaded score files, so two families reading one metric read its file once.
    _metrics: dict[tuple[str, str], LoadedMetric] = field(default_factory=dict, repr=False,
                                                          compare=False)

    def metric(self, which: str, name: str) -> LoadedMetric:
        """Load (once) metric ``name`` of the candidate or the baseline bundle."""
        key = (which, name)
        if key not in self._metrics:
            bundle = self.bundle if which == "candidate" else self.baseline
            assert bundle is not None
            self._metrics[key] = load_metric(bundle, name)
        return self._metrics[key]
