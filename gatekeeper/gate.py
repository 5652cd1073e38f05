"""The gate's pipeline: policy → bundle → baseline → checks → waivers → verdict.

``run_gate`` is the only place that orders the steps; each step takes values and returns a
value (no shared, mutated context). Reporters and publishers take the ``GateResult`` and decide
nothing.

    resolve_policy     policy/changes.py    the policy that gates (base branch on PRs) + policy:*
    load_bundle        inputs/bundle.py     the candidate's evidence, paths and hashes checked
    resolve_baseline   baseline/resolve.py  registry baseline + baseline:* + rollback target
    ledger_step        leaderboard/step.py  eval-set usage and sweep size (leaderboard: only)
    evaluate           checks/families.py   every check family, in report order
    apply_waivers      checks/waivers.py    approved, unexpired exceptions
    build_verdict      (here)               worst status, exit code, the gate's own envelope
    record_decision    leaderboard/step.py  the decision, into the usage ledger
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gatekeeper import __version__
from gatekeeper.baseline.resolve import BaselineOutcome, BaselineSource, resolve_baseline
from gatekeeper.checks.evidence import Evidence
from gatekeeper.checks.families import evaluate
from gatekeeper.checks.waivers import apply_enforcement, apply_waivers
from gatekeeper.errors import InputError
from gatekeeper.inputs.bundle import Bundle, load_bundle
from gatekeeper.leaderboard.context import LeaderboardContext
from gatekeeper.leaderboard.step import decision_records, read_usage, record_decision
from gatekeeper.models.common import worst
from gatekeeper.models.policy import rule_check_ids
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
from gatekeeper.policy.changes import Approvals, BaseSource, resolve_policy
from gatekeeper.policy.loader import LoadedPolicy
from gatekeeper.policy.source import fetcher_for
from gatekeeper.registry import open_registry
from gatekeeper.registry.interface import Registry
from gatekeeper.repo.git import git_toplevel

if TYPE_CHECKING:
    from gatekeeper.github.settings import GitHubSettings

FailOn = Literal["warn", "block"]


@dataclass(frozen=True)
class GateInputs:
    """Everything that decides a verdict. Nothing else is read: no clock, no environment."""

    bundle: Path
    policy: Path
    as_of: date  # waiver expiry and baseline age are judged on this day
    fail_on: FailOn = "block"
    registry: str | None = None  # overrides the policy's baseline.registry; relative to cwd
    target_branch: str | None = None  # selects the policy's branch overrides
    base_ref: str | None = None  # on PRs: read the policy and registry record at this ref
    # For reading the base commit through GitHub's contents API when the checkout is shallow.
    github: GitHubSettings | None = None
    # On PRs: who approved the change (its reviews, read by the command). None: no platform to
    # ask, so a change that needs approval blocks and says why.
    approvals: Approvals | None = None
    # A prepared way to read the base commit, for callers with no git checkout (the App reads
    # both ends through the contents API). None: built from base_ref and the cwd's checkout.
    base: BaseSource | None = None
    # Write the decision to the usage ledger (policies with a leaderboard: section). Off for
    # policy unit tests, whose runs are not decisions.
    record_usage: bool = True


@dataclass(frozen=True)
class GateResult:
    """The verdict and what the reporters need to render it."""

    verdict: Verdict
    policy: LoadedPolicy
    candidate: Bundle
    baseline: Bundle | None


def run_gate(inputs: GateInputs, workdir: Path) -> GateResult:
    """``workdir`` holds downloaded baselines and the base-branch policy; it must outlive the
    reporters, which may read the bundles' files."""
    base = inputs.base or base_source(inputs)
    # The repository holding the policy: its ``extends`` stay inside it, and registries it
    # names are relative to it. One `git rev-parse` for both (each is a process).
    root = _policy_root(inputs.policy)
    policy = resolve_policy(inputs.policy, inputs.target_branch, base, workdir,
                            inputs.approvals, root=root if base is None else None)
    bundle = load_bundle(inputs.bundle)
    baseline = baseline_step(inputs, policy.loaded, bundle, base, workdir, root)
    ledger = ledger_step(inputs, policy.loaded, bundle, baseline.bundle, root)
    evidence = Evidence(policy=policy.loaded, bundle=bundle, as_of=inputs.as_of,
                        baseline=baseline.bundle,
                        leaderboard=ledger.context if ledger is not None else None)
    checks = [*policy.checks, *baseline.checks, *evaluate(evidence)]
    rules = policy.loaded.policy
    checks = apply_enforcement(checks, set(rule_check_ids(rules, "advisory")))
    checks = apply_waivers(checks, rules.waivers, inputs.as_of,
                           hard=set(rule_check_ids(rules, "hard")))
    if policy.annotation is not None:
        head = policy.annotation
        checks = [c.model_copy(update={"source": head.source(c.source)}) for c in checks]
    verdict = build_verdict(
        checks=checks,
        fail_on=inputs.fail_on,
        policy=policy_ref(policy.loaded, inputs),
        candidate=CandidateRef(run_id=bundle.run.run_id, model=bundle.run.model,
                               bundle_sha256=bundle.sha256(), path=str(inputs.bundle)),
        baseline=baseline.info,
        rollback_target=baseline.rollback_target,
        gate=GateInfo(gatekeeper_version=__version__, rng_seed=policy.loaded.policy.stats.seed,
                      python=f"{sys.version_info.major}.{sys.version_info.minor}",
                      as_of=inputs.as_of.isoformat(), base_ref=inputs.base_ref,
                      registry=inputs.registry),
    )
    if ledger is not None and inputs.record_usage:
        meta = policy.loaded.policy.metadata
        record_decision(ledger.registry, decision_records(
            ledger.context, bundle, verdict.verdict,
            inputs.github.pr_number if inputs.github is not None else None,
            f"{meta.name}@{meta.version}"))
    return GateResult(verdict, policy.loaded, bundle, baseline.bundle)


def base_source(inputs: GateInputs) -> BaseSource | None:
    """How to read files at the PR's base commit (git, else the contents API); None off PRs."""
    if inputs.base_ref is None:
        return None
    repo = git_toplevel(Path.cwd())
    if repo is None:
        raise InputError(f"--base-ref {inputs.base_ref} needs a git checkout "
                         f"(none at {Path.cwd()})")
    return BaseSource(inputs.base_ref, fetcher_for(repo, inputs.base_ref, inputs.github), repo,
                      fetch_at=lambda ref: fetcher_for(repo, ref, inputs.github))


def baseline_step(inputs: GateInputs, loaded: LoadedPolicy, bundle: Bundle,
                  base: BaseSource | None, workdir: Path, policy_root: Path) -> BaselineOutcome:
    ref = loaded.policy.baseline
    registry_uri = inputs.registry or (ref.registry if ref else None)
    if ref is None or not registry_uri:
        if any(r.vs_baseline for r in loaded.policy.metrics):
            raise InputError(
                "the policy compares with a baseline but names no registry: set "
                "baseline.registry or pass --registry", loaded.location("baseline"))
        return BaselineOutcome()
    # A --registry typed on the command line is relative to the cwd; a registry named in the
    # policy is relative to the repository that holds the policy.
    base_dir = Path.cwd() if inputs.registry else policy_root
    source = BaselineSource(registry_uri=registry_uri, base_dir=base_dir, workdir=workdir,
                            base_fetch=base.fetch if base else None,
                            repo_root=base.repo if base else None)
    return resolve_baseline(loaded, bundle, inputs.as_of, source)


@dataclass(frozen=True)
class LedgerOutcome:
    registry: Registry
    context: LeaderboardContext


def ledger_step(inputs: GateInputs, loaded: LoadedPolicy, bundle: Bundle,
                baseline: Bundle | None, policy_root: Path) -> LedgerOutcome | None:
    """The usage ledger and what it says about the candidate's eval sets; None (nothing read,
    nothing recorded) for a policy without a leaderboard: section."""
    rule = loaded.policy.leaderboard
    if rule is None:
        return None
    ref = loaded.policy.baseline
    # leaderboard.ledger, else the registry the baseline came from (--registry, else the
    # policy's); a URI in the policy is relative to the policy's repository.
    uri = rule.ledger or inputs.registry or (ref.registry if ref else None)
    if not uri:
        raise InputError("the policy's leaderboard section needs a usage ledger: set "
                         "leaderboard.ledger or baseline.registry, or pass --registry",
                         loaded.location("leaderboard"))
    from_cli = rule.ledger is None and inputs.registry is not None
    registry = open_registry(uri, base_dir=Path.cwd() if from_cli else policy_root)
    return LedgerOutcome(registry, read_usage(loaded.policy, bundle, baseline, registry,
                                              inputs.as_of))


def _policy_root(policy_path: Path) -> Path:
    folder = policy_path.resolve().parent
    return git_toplevel(folder) or folder


def policy_ref(loaded: LoadedPolicy, inputs: GateInputs) -> PolicyRef:
    meta = loaded.policy.metadata
    return PolicyRef(name=meta.name, version=meta.version, sha256=loaded.sha256,
                     path=str(inputs.policy), target_branch=inputs.target_branch)


def build_verdict(
    *,
    checks: Sequence[Check],
    fail_on: FailOn,
    policy: PolicyRef,
    candidate: CandidateRef,
    baseline: BaselineInfo | None,
    rollback_target: RollbackTarget | None,
    gate: GateInfo,
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
        gate=gate,
    )
