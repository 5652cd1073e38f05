"""The gate's policy step: which policy gates this change, and how the change edits it.

Outside pull requests the policy in the working tree gates. On a pull request (a base ref) the
base commit's version gates, because a PR must not choose its own rules; the PR's edit is shown
as a diff and classified: ``policy:changed`` (pass, or warn when the new version does not load
or is new) or ``policy:loosened`` (warn: it needs approval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.checks import ids
from gatekeeper.checks.base import check
from gatekeeper.errors import InputError
from gatekeeper.models.verdict import Check, Source
from gatekeeper.policy.diff import loosenings
from gatekeeper.policy.loader import LoadedPolicy, load_policy
from gatekeeper.policy.source import Fetch, materialize, repo_relative
from gatekeeper.policy.textdiff import unified_diff

MAX_DIFF_LINES = 80


@dataclass(frozen=True)
class PolicyOutcome:
    loaded: LoadedPolicy
    checks: list[Check] = field(default_factory=list)
    # On a PR the base version is shown as "path@ref" in messages; annotations must name a path
    # of the head commit instead, and a line only where the head's file still has it.
    annotation: HeadPath | None = None


@dataclass(frozen=True)
class HeadPath:
    shown: str  # how the base version's file is named in messages ("policies/x.yaml@ab12…")
    path: str  # the repository path
    same_text: bool  # the head's file is the base's, line for line

    def source(self, source: Source | None) -> Source | None:
        if source is None or source.file != self.shown:
            return source
        return Source(file=self.path, line=source.line if self.same_text else None)


@dataclass(frozen=True)
class BaseSource:
    """How to read the repository at the PR's base commit."""

    ref: str
    fetch: Fetch
    repo: Path


def resolve_policy(policy_path: Path, target_branch: str | None, base: BaseSource | None,
                   workdir: Path) -> PolicyOutcome:
    if base is None:
        return PolicyOutcome(load_policy(policy_path, target_branch=target_branch))
    rel = repo_relative(policy_path, base.repo)
    base_path = materialize(rel, base.fetch, workdir / "base-policy")
    if base_path is None:
        head = load_policy(policy_path, target_branch=target_branch)
        return PolicyOutcome(head, [check(
            ids.policy("changed"), "warn",
            f"{rel} does not exist on the base ({base.ref}): this PR adds the policy that "
            "gates it, so it needs approval")])
    shown = f"{rel}@{base.ref[:12]}"
    base_policy = load_policy(base_path, target_branch=target_branch, display=shown,
                              root=workdir / "base-policy")
    diff = _text_diff(base_path, policy_path, rel)
    annotation = HeadPath(shown=shown, path=rel, same_text=not diff)
    if not diff:
        return PolicyOutcome(base_policy, annotation=annotation)
    return PolicyOutcome(base_policy, [_change_check(policy_path, target_branch, base_policy,
                                                     rel, diff)], annotation)


def _text_diff(base_path: Path, policy_path: Path, rel: str) -> list[str]:
    base_text = base_path.read_text(encoding="utf-8")
    try:
        head_text: str | None = policy_path.read_text(encoding="utf-8")
    except OSError:
        head_text = None
    return unified_diff(base_text, head_text, rel).splitlines()[:MAX_DIFF_LINES]


def _change_check(policy_path: Path, target_branch: str | None, base_policy: LoadedPolicy,
                  rel: str, diff: list[str]) -> Check:
    notes = [f"diff of {rel} (the base version gates this PR):", *diff]
    shown = {"notes": notes, "policy_diff": tuple(diff)}
    try:
        head = load_policy(policy_path, target_branch=target_branch)
    except InputError as exc:
        return check(ids.policy("changed"), "warn",
                     f"this PR changes {rel} and the new version does not load ({exc}); the "
                     "base version was used", **shown)
    loose = loosenings(base_policy.policy, head.policy)
    if loose:
        return check(ids.policy("loosened"), "warn",
                     f"this PR loosens {rel} ({'; '.join(loose)}): the base version was used, "
                     "and the change needs approval", **shown)
    return check(ids.policy("changed"), "pass",
                 f"this PR changes {rel} without loosening it; the base version was used",
                 **shown)
