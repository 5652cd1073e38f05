"""Which eval set a run used, by content: the sha256 of each ``data[]`` entry that is an eval
split (test, eval, validation), that the policy names, or that a compared metric was scored on.

A name or a split is whatever the run.yaml says, so a PR could rename its eval split to keep it
out of the count. Two things hold it in: an entry that a compared metric names (``data:``) is
the eval set whatever its split says, and an entry whose sha256 the *baseline* bundle (from the
registry, out of the PR's reach) records as an eval split or a sealed set is counted as such.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gatekeeper.models.policy import Leaderboard, Policy
from gatekeeper.models.run import DataVersion, Run

EVAL_SPLITS = frozenset({"test", "eval", "evaluation", "validation", "val", "dev"})


@dataclass(frozen=True)
class EvalSet:
    """An eval set as the ledger knows it: its entries' sha256s and one sha256 over them."""

    sha256: str
    data: tuple[str, ...]  # sorted, unique
    names: tuple[str, ...]  # the entries' names in this run (for messages)

    @property
    def short(self) -> str:
        return self.sha256[:12]


@dataclass(frozen=True)
class EvalSets:
    public: EvalSet | None
    sealed: EvalSet | None
    # metrics scored on the sealed holdout (their ``data:`` names a sealed entry)
    sealed_metrics: frozenset[str]
    unhashed: tuple[str, ...]  # eval entries that give no sha256: they cannot be counted
    # The baseline's own eval set (its eval splits), to say when the candidate's differs.
    baseline: EvalSet | None = None


def eval_set_of(entries: Iterable[DataVersion]) -> EvalSet | None:
    shas = sorted({e.sha256 for e in entries if e.sha256})
    if not shas:
        return None
    names = tuple(sorted({e.name for e in entries if e.sha256}))
    digest = hashlib.sha256("\n".join(shas).encode()).hexdigest()
    return EvalSet(digest, tuple(shas), names)


def _is_eval(entry: DataVersion, rule: Leaderboard, compared: set[str]) -> bool:
    # Spelling is the run.yaml's to choose: " Test" is the test split all the same.
    return ((entry.split or "").strip().lower() in EVAL_SPLITS or entry.name in rule.eval_sets
            or entry.name in compared)


def _compared(policy: Policy, run: Run) -> set[str]:
    """data[] names that the policy's compared metrics were scored on (``metrics.M.data``)."""
    rules = {m.metric for m in policy.metrics if m.vs_baseline is not None}
    return {spec.data for name, spec in run.metrics.items() if spec.data and name in rules}


def _shas(entries: Iterable[DataVersion], keep: Callable[[DataVersion], bool]) -> set[str]:
    return {e.sha256 for e in entries if e.sha256 and keep(e)}


def _sealed_metrics(run: Run, sealed: list[DataVersion]) -> frozenset[str]:
    names = {e.name for e in sealed}
    return frozenset(name for name, spec in run.metrics.items() if spec.data in names)


def identify(policy: Policy, run: Run, baseline: Run | None) -> EvalSets:
    """The run's public eval set and sealed holdout (``policy.leaderboard`` must be set)."""
    rule = policy.leaderboard
    assert rule is not None
    compared = _compared(policy, run)
    base_entries = baseline.data if baseline is not None else []
    sealed_shas = _shas([*run.data, *base_entries], lambda e: e.name in rule.sealed)
    base_eval = _shas(base_entries, lambda e: _is_eval(e, rule, set()))
    sealed = [e for e in run.data if e.name in rule.sealed or e.sha256 in sealed_shas]
    public = [e for e in run.data
              if e not in sealed and (_is_eval(e, rule, compared) or e.sha256 in base_eval)]
    unhashed = tuple(sorted(e.name for e in [*public, *sealed] if not e.sha256))
    base_public = [e for e in base_entries if e.sha256 in base_eval - sealed_shas]
    return EvalSets(eval_set_of(public), eval_set_of(sealed), _sealed_metrics(run, sealed),
                    unhashed, eval_set_of(base_public))
