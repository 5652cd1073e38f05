"""The gate's leaderboard step: before the checks, read how often the candidate's eval sets
have informed a decision (and how big its sweep was); after the verdict, record the decision.

A policy without a ``leaderboard:`` section reads and records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone

from gatekeeper.errors import RegistryError, RegistryNotFoundError
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.leaderboard.context import LeaderboardContext, Role, SweepSize, Usage
from gatekeeper.leaderboard.identity import EvalSet, identify
from gatekeeper.models.policy import Policy
from gatekeeper.registry.interface import LedgerRecord, ModelVersion, Registry


def _in_window(record: LedgerRecord, as_of: date, window_days: float | None) -> bool:
    if window_days is None:
        return True
    try:
        when = datetime.strptime(record.recorded_at, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc)
    except ValueError:
        return True  # an unreadable time counts: never a way out of the budget
    start = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc) \
        + timedelta(days=1) - timedelta(days=window_days)
    return when >= start


def _shares(record: LedgerRecord, eval_set: EvalSet) -> bool:
    """The record's decision used this eval set, or any of its files: a set that adds a file
    to a spent one (a dummy second test entry) still answers from the spent file's labels."""
    return record.eval_set == eval_set.sha256 or not set(record.data).isdisjoint(eval_set.data)


def _usage(role: Role, eval_set: EvalSet | None, records: Iterable[LedgerRecord],
           bundle_sha256: str, as_of: date, window_days: float | None) -> Usage | None:
    if eval_set is None:
        return None
    earlier = {r.bundle_sha256 for r in records
               if _shares(r, eval_set) and r.bundle_sha256 != bundle_sha256
               and _in_window(r, as_of, window_days)}
    return Usage(role, eval_set, len(earlier))


def _registry_trials(registry: Registry, model: str, parent: str) -> list[ModelVersion]:
    """The registry's versions of ``model`` whose run names ``parent``."""
    try:
        versions = registry.list_versions(model)
    except RegistryNotFoundError:
        return []
    return [v for v in versions if registry.run_info(v).parent_run_id == parent]


def sweep_size(bundle: Bundle, records: Iterable[LedgerRecord], registry: Registry,
               eval_set: EvalSet | None) -> SweepSize:
    """k = the larger of run.yaml's ``sweep.trials`` and the trials sharing the candidate's
    ``parent_run_id`` that the ledger (on the same eval set) and the registry know."""
    run = bundle.run
    claimed = max(1, run.sweep.trials if run.sweep is not None else 1)
    parent = run.parent_run_id
    if not parent:
        return SweepSize(claimed, claimed, 1)
    siblings = [r for r in records if r.parent_run_id == parent
                and (eval_set is None or _shares(r, eval_set))]
    versions = _registry_trials(registry, run.model, parent)
    # Trials told apart by run id and by bundle, whichever finds more: a sweep that gives
    # every trial one run id still has a bundle per trial.
    run_ids = {run.run_id, *(r.run_id for r in siblings),
               *(v.run_id or v.version for v in versions)}
    bundles = {bundle.sha256(), *(r.bundle_sha256 for r in siblings),
               *(v.bundle_sha256 or v.version for v in versions)}
    trials = max(len(run_ids), len(bundles))
    return SweepSize(max(claimed, trials), claimed, trials, parent)


def read_usage(policy: Policy, bundle: Bundle, baseline: Bundle | None, ledger: Registry,
               as_of: date) -> LeaderboardContext:
    rule = policy.leaderboard
    assert rule is not None
    sets = identify(policy, bundle.run, baseline.run if baseline is not None else None)
    try:
        records = ledger.decisions()
    except RegistryError as exc:
        raise RegistryError(f"leaderboard: cannot read the usage ledger: {exc}") from exc
    sha = bundle.sha256()
    return LeaderboardContext(
        rule=rule, sets=sets,
        public=_usage("public", sets.public, records, sha, as_of, rule.window_days),
        sealed=_usage("sealed", sets.sealed, records, sha, as_of, rule.window_days),
        sweep=sweep_size(bundle, records, ledger, sets.public),
        ledger=ledger.uri,
    )


def decision_records(ctx: LeaderboardContext, bundle: Bundle, verdict: str, pr: int | None,
                     policy: str) -> list[LedgerRecord]:
    """One record per eval set the decision used (the public set, the sealed holdout)."""
    run = bundle.run
    return [LedgerRecord(eval_set=u.eval_set.sha256, data=u.eval_set.data, role=u.role,
                         model=run.model, run_id=run.run_id, bundle_sha256=bundle.sha256(),
                         verdict=verdict, parent_run_id=run.parent_run_id, pr=pr,
                         policy=policy)
            for u in (ctx.public, ctx.sealed) if u is not None]


def record_decision(ledger: Registry, records: Iterable[LedgerRecord]) -> None:
    for record in records:
        ledger.append_decision(record)
