"""The gate's policy step: which policy gates this change, and how the change edits it.

Outside pull requests the policy in the working tree gates. On a pull request (a base ref) the
base commit's version gates, because a PR must not choose its own rules. The PR's edit of every
file of the ``extends`` chain is shown as a diff and judged:

- ``policy:changed``  the edit (pass; warn when the new version does not load or is new)
- ``policy:loosened`` the edit loosens the effective policy (warn until approved)
- ``policy:version``  the effective meaning changed: the policy's ``metadata.version`` (and that
  of each edited parent whose meaning changed) must grow, else block
- ``policy:approval`` a loosening or a new policy: block until one of the *base* policy's
  ``approvers`` approved the PR (``Approvals``, read from the platform by the command)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.checks import ids
from gatekeeper.checks.base import check
from gatekeeper.errors import InputError
from gatekeeper.inputs.yamlio import parse_text
from gatekeeper.models.common import login_key
from gatekeeper.models.policy import Policy
from gatekeeper.models.verdict import Check, Source
from gatekeeper.policy.diff import loosenings, version_grew
from gatekeeper.policy.loader import LoadedPolicy, load_policy
from gatekeeper.policy.source import MAX_FILES, Fetch, materialize, parents_of, repo_relative
from gatekeeper.policy.textdiff import unified_diff

MAX_DIFF_LINES = 80
_LEVELS = {"advisory": 0, "soft": 1, "hard": 2}


@dataclass(frozen=True)
class Approvals:
    """Who approved the change under review: the logins whose latest review approves it.

    ``unavailable`` says why there are none to read (no platform, no token, an API error), so
    that ``policy:approval`` can say so instead of implying nobody approved.
    """

    logins: tuple[str, ...] = ()
    unavailable: str | None = None
    # The commit each approving review was given on (GitHub's ``commit_id``), by login. An
    # approval counts only where the policy files it saw are the ones gated now: a PR cannot
    # be approved for a small loosening and then loosened further.
    commits: tuple[tuple[str, str | None], ...] = ()

    def commit_of(self, login: str) -> str | None:
        return dict(self.commits).get(login)


NO_PLATFORM = Approvals(unavailable=(
    "approval comes from the pull request's reviews, and no GitHub settings or token were "
    "given (run with --github on the pull request)"))


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
    # How to read the repository at another commit (an approving review's): None where only
    # the base can be read, and then no approval of an earlier commit counts.
    fetch_at: Callable[[str], Fetch] | None = None


@dataclass(frozen=True)
class _Chain:
    """The policy file and every file it extends, at the base and at the head."""

    base_dir: Path  # the base versions, copied under their repository paths
    repo: Path
    files: tuple[str, ...]  # repository paths, the gated policy first
    fetch_at: Callable[[str], Fetch] | None = None
    # False when the head's chain could not be listed file by file (more files than
    # ``source.MAX_FILES``, a parent missing): no approval can then be matched to its text.
    complete: bool = True

    def base_text(self, rel: str) -> str | None:
        return _read_head(self.base_dir / rel)  # the base's copy, line ends as committed

    def head_text(self, rel: str) -> str | None:
        return _read_head(self.repo / rel)


def resolve_policy(policy_path: Path, target_branch: str | None, base: BaseSource | None,
                   workdir: Path, approvals: Approvals | None = None,
                   root: Path | None = None) -> PolicyOutcome:
    """``root`` (off pull requests): the folder ``extends`` stays in, if the caller knows it."""
    if base is None:
        return PolicyOutcome(load_policy(policy_path, target_branch=target_branch, root=root))
    approvals = approvals or NO_PLATFORM
    rel = repo_relative(policy_path, base.repo)
    base_dir = workdir / "base-policy"
    base_path = materialize(rel, base.fetch, base_dir)
    # The head is read at the path git knows (``rel``), as the base is: through a linked
    # ``--policy`` its ``extends`` would otherwise name other files on each side.
    head_path = base.repo / rel
    if base_path is None:
        head = load_policy(head_path, target_branch=target_branch, display=str(policy_path))
        return PolicyOutcome(head, _new_policy_checks(rel, base, workdir, target_branch,
                                                      approvals))
    shown = f"{rel}@{base.ref[:12]}"
    base_policy = load_policy(base_path, target_branch=target_branch, display=shown,
                              root=base_dir)
    chain = _chain(rel, base, base_dir, workdir)
    diffs = {f: _text_diff(chain.base_text(f), chain.head_text(f), f) for f in chain.files}
    diffs = {f: d for f, d in diffs.items() if d}
    annotation = HeadPath(shown=shown, path=rel, same_text=rel not in diffs)
    if not diffs:
        return PolicyOutcome(base_policy, annotation=annotation)
    checks = _change_checks(head_path, str(policy_path), target_branch, base_policy, chain,
                            diffs, approvals)
    return PolicyOutcome(base_policy, checks, annotation)


def _new_policy_checks(rel: str, base: BaseSource, workdir: Path, target_branch: str | None,
                       approvals: Approvals) -> list[Check]:
    """A policy the PR adds needs approval; so does an edit of a parent it extends that exists
    on the base (other policies extend it too), and such a parent's version must grow."""
    parent, approvers = _parent_approvers(rel, base, workdir)
    base_dir = workdir / "base-policy"
    for name in _extends_order(workdir / "new-policy", rel):
        with contextlib.suppress(InputError):  # absent or broken on the base: judged as new
            materialize(name, base.fetch, base_dir)
    chain = _chain(rel, base, base_dir, workdir)
    diffs = {f: _text_diff(chain.base_text(f), chain.head_text(f), f) for f in chain.files[1:]}
    parents, fragments = _edited_parents(chain, {f: d for f, d in diffs.items() if d},
                                         target_branch)
    what = f"this PR adds {rel}" + (f" (approvers from {parent} on the base)" if parent
                                    else "")
    loose, needs = _chain_loosenings((what, [f"{rel} is new"], list(approvers)), parents,
                                     fragments)
    notes = [line for f, d in diffs.items() if d for line in (f"diff of {f}:", *d)]
    also = f"; it also loosens what others extend: {'; '.join(loose[1:])}" if loose[1:] else ""
    out = [check(ids.policy("changed"), "warn",
                 f"{rel} does not exist on the base ({base.ref}): this PR adds the policy that "
                 f"gates it, so it needs approval{also}", notes=notes),
           _approvals_for(needs, _current(approvals, chain))]
    stale = _stale_parents(parents)
    if stale:
        out.append(_stale_check(stale))
    return out


def _chain(rel: str, base: BaseSource, base_dir: Path, workdir: Path) -> _Chain:
    """Every file of the chain at either end: a parent the PR adds or drops is edited too."""
    def head_fetch(path: str) -> str | None:
        return _read_head(base.repo / path)

    head_dir = workdir / "head-policy"
    complete = True
    try:
        materialize(rel, head_fetch, head_dir)
    except InputError:
        complete = False  # a broken head does not load, and its check says why
    found = {p.relative_to(d).as_posix() for d in (base_dir, head_dir) if d.is_dir()
             for p in d.rglob("*") if p.is_file()}
    return _Chain(base_dir, base.repo, (rel, *sorted(found - {rel})), base.fetch_at,
                  complete)


def _parent_approvers(rel: str, base: BaseSource, workdir: Path
                      ) -> tuple[str | None, tuple[str, ...]]:
    """Who may approve a policy the PR adds: the approvers of the nearest policy it extends,
    as that policy is on the base. The new file's own ``approvers`` never count: the PR wrote
    them."""
    head_dir = workdir / "new-policy"
    with contextlib.suppress(InputError):  # a broken chain finds no parent, and so no approver
        materialize(rel, lambda path: _read_head(base.repo / path), head_dir)
    parents = _extends_order(head_dir, rel)
    base_dir = workdir / "new-policy-base"
    for parent in parents:
        try:
            path = materialize(parent, base.fetch, base_dir / parent.replace("/", "_"))
            if path is None:
                continue
            loaded = load_policy(path, root=base_dir / parent.replace("/", "_"))
        except InputError:
            continue  # a fragment that is not a policy on its own names no approvers
        if loaded.policy.approvers:
            return parent, tuple(loaded.policy.approvers)
    return None, ()


def _extends_order(head_dir: Path, rel: str) -> list[str]:
    """The repository paths a materialised policy extends, nearest first (breadth first)."""
    order: list[str] = []
    queue = [rel]
    while queue:
        current = queue.pop(0)
        text = _read_head(head_dir / current)
        if text is None:
            continue
        try:
            parents = parents_of(text, current)
        except InputError:
            continue  # a parent outside the repository: the head's own load says so
        for parent in parents:
            if parent not in order and parent != rel:
                order.append(parent)
                queue.append(parent)
    return order


def _read_head(path: Path) -> str | None:
    """A file of the checkout as git gives it at a commit: line ends kept (a CRLF file read with
    newline translation would differ from its own committed text, and never match an approval)."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _text_diff(base_text: str | None, head_text: str | None, rel: str) -> list[str]:
    return unified_diff(base_text, head_text, rel).splitlines()[:MAX_DIFF_LINES]


def _change_checks(head_path: Path, shown_path: str, target_branch: str | None,
                   base_policy: LoadedPolicy, chain: _Chain, diffs: dict[str, list[str]],
                   approvals: Approvals) -> list[Check]:
    notes: list[str] = []
    for rel, diff in diffs.items():
        notes += [f"diff of {rel} (the base version gates this PR):", *diff]
    shown = {"notes": notes, "policy_diff": tuple(line for d in diffs.values() for line in d)}
    edited = ", ".join(diffs)
    try:
        head = load_policy(head_path, target_branch=target_branch, display=shown_path)
    except InputError as exc:
        return [check(ids.policy("changed"), "warn",
                      f"this PR changes {edited} and the new version does not load ({exc}); "
                      "the base version was used", **shown)]
    parents, fragments = _edited_parents(chain, diffs, target_branch)
    out = [_version_check(base_policy, head, chain, parents)]
    gated = (f"this PR loosens {chain.files[0]}", _loosened(base_policy.policy, head.policy),
             base_policy.policy.approvers)
    loose, needs = _chain_loosenings(gated, parents, fragments)
    if not loose:
        out.insert(0, check(ids.policy("changed"), "pass",
                            f"this PR changes {edited} without loosening it; the base version "
                            "was used", **shown))
        return [c for c in out if c is not None]
    approval = _approvals_for(needs, _current(approvals, chain))
    out.insert(0, check(ids.policy("loosened"), "pass" if approval.status == "pass" else "warn",
                        f"this PR loosens the policy ({'; '.join(loose)}): the base version was "
                        "used, and the change needs approval", **shown))
    out.append(approval)
    return [c for c in out if c is not None]


def _chain_loosenings(gated: tuple[str, list[str], list[str]],
                      parents: list[tuple[str, LoadedPolicy, LoadedPolicy]], fragments: list[str]
                      ) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Each loosening of the chain, and whose approval each needs. ``gated``: what the gated
    policy's change is called, its loosenings and its base approvers; an edited parent needs
    its own base approvers too, where it names them.

    A parent is a policy of its own, extended by others too: loosened under a child that
    overrides it (or by a waiver moved up into it), it loosens every policy that extends it.
    A fragment (a parent that is not a policy on its own) cannot be judged alone, yet other
    policies may extend it: a change of its content needs approval."""
    what, loose, approvers = gated
    loose = [*loose, *(f"{rel} changed, and is not a policy on its own to be judged alone"
                       for rel in fragments)]
    needs = [(what, approvers)] if loose else []
    for rel, old, new in parents:
        own = _loosened(old.policy, new.policy)
        loose += [f"{rel} on its own: {item}" for item in own if item not in loose]
        group = old.policy.approvers or approvers
        # Its own approvers too, when the same loosening shows in the gated policy.
        if own and all(group != approvers for _, approvers in needs):
            needs.append((f"this PR loosens {rel}", group))
    return loose, needs


def _loosened(base: Policy, head: Policy) -> list[str]:
    return [*loosenings(base, head), *_governance_loosenings(base, head)]


def _approvals_for(needs: list[tuple[str, list[str]]], approvals: Approvals) -> Check:
    """One approval per policy loosened (the gated one, a parent with approvers of its own)."""
    found = [_approval(what, approvers, approvals) for what, approvers in needs]
    blocked = [c for c in found if c.status != "pass"]
    if blocked or len(found) == 1:
        return (blocked or found)[0]
    return check(ids.policy("approval"), "pass", "; ".join(c.message for c in found))


def _current(approvals: Approvals, chain: _Chain) -> Approvals:
    """Only the approvals given on a commit whose policy files are the ones gated now."""
    kept: list[str] = []
    stale: list[str] = []
    for login in approvals.logins:
        commit = approvals.commit_of(login)
        if commit is not None and _same_policy_at(commit, chain):
            kept.append(login)
        else:
            stale.append(login)
    if not stale:
        return approvals
    why = approvals.unavailable or (
        f"the approval by {', '.join(stale)} was given on a commit whose policy files differ "
        "from this one's: approve the current commit" if chain.complete else
        f"the PR's policy extends files that cannot be listed one by one (at most "
        f"{MAX_FILES}), so no approval can be matched to the text it saw")
    return Approvals(tuple(kept), why if not kept else None, approvals.commits)


def _same_policy_at(commit: str, chain: _Chain) -> bool:
    # Compared by text, not by sha: the gated tree may be a merge commit or a merge queue's,
    # never the commit the reviewer saw, and a push after the approval that leaves the policy
    # files alone keeps it.
    if chain.fetch_at is None or not chain.complete:
        return False
    fetch = chain.fetch_at(commit)
    try:
        return all(fetch(rel) == chain.head_text(rel) for rel in chain.files)
    except InputError:
        return False  # a commit that cannot be read approves nothing


def _governance_loosenings(base: Policy, head: Policy) -> list[str]:
    """Loosenings of the rules about rules: enforcement levels, tickets, approvers."""
    out: list[str] = []
    for kind, old_rules, new_rules in (
            ("metric", {m.metric: m.enforcement for m in base.metrics},
             {m.metric: m.enforcement for m in head.metrics}),
            ("budget", {b.name: b.enforcement for b in base.budgets},
             {b.name: b.enforcement for b in head.budgets})):
        for name, level in old_rules.items():
            new = new_rules.get(name)
            if new is not None and _LEVELS[new] < _LEVELS[level]:
                out.append(f"{kind} rule {name} enforcement lowered from {level} to {new}")
    if base.waiver_policy.require_ticket and not head.waiver_policy.require_ticket:
        out.append("waivers no longer need a ticket")
    return [*out, *_approvers_loosened(base.approvers, head.approvers)]


def _approvers_loosened(base: list[str], head: list[str]) -> list[str]:
    # GitHub logins are case-insensitive (no two accounts differ only by case).
    known = {login_key(login) for login in base}
    added = sorted({a for a in head if login_key(a) not in known})
    if added or (base and not head):
        return ["approvers changed: " + (", ".join(added) + " added" if added
                                         else "the list was emptied")]
    return []


def _version_check(base: LoadedPolicy, head: LoadedPolicy, chain: _Chain,
                   parents: list[tuple[str, LoadedPolicy, LoadedPolicy]]) -> Check | None:
    """The gated policy's version must grow when its effective meaning changed, and so must
    each edited parent's whose own meaning changed. Whitespace and comments change nothing."""
    stale: list[str] = []
    if base.sha256 != head.sha256 and not version_grew(base.policy.metadata.version,
                                                       head.policy.metadata.version):
        stale.append(f"{chain.files[0]} (version {head.policy.metadata.version})")
    stale += _stale_parents(parents)
    if stale:
        return _stale_check(stale)
    if base.sha256 == head.sha256:
        return None
    return check(ids.policy("version"), "pass",
                 f"the policy's meaning changed and its version grew from "
                 f"{base.policy.metadata.version} to {head.policy.metadata.version}")


def _stale_parents(parents: list[tuple[str, LoadedPolicy, LoadedPolicy]]) -> list[str]:
    return [f"{rel} (version {new.policy.metadata.version})" for rel, old, new in parents
            if old.sha256 != new.sha256 and not version_grew(old.policy.metadata.version,
                                                             new.policy.metadata.version)]


def _stale_check(stale: list[str]) -> Check:
    return check(ids.policy("version"), "block",
                 "this PR changes what the policy means but does not raise metadata.version "
                 f"of {', '.join(stale)}: raise it, so verdicts name the rules they used")


def _edited_parents(chain: _Chain, diffs: dict[str, list[str]], target_branch: str | None
                    ) -> tuple[list[tuple[str, LoadedPolicy, LoadedPolicy]], list[str]]:
    """Each edited parent present at both ends that loads as a policy on its own, at the base
    and at the head (an added or dropped parent is judged through the gated policy); and the
    edited fragments, parents that are not policies on their own, whose content changed."""
    out: list[tuple[str, LoadedPolicy, LoadedPolicy]] = []
    fragments: list[str] = []
    for rel in chain.files[1:]:
        base_path, head_path = chain.base_dir / rel, chain.repo / rel
        if rel not in diffs or not base_path.is_file() or not head_path.is_file():
            continue
        try:
            old = load_policy(base_path, target_branch=target_branch, root=chain.base_dir)
            new = load_policy(head_path, target_branch=target_branch, display=rel)
        except InputError:
            if _content(chain.base_text(rel), rel) != _content(chain.head_text(rel), rel):
                fragments.append(rel)
            continue
        out.append((rel, old, new))
    return out, fragments


def _content(text: str | None, rel: str) -> object:
    """A file's parsed content (comments and layout aside); a file that does not parse is
    equal to nothing."""
    try:
        return parse_text(text, rel)[0] if text is not None else None
    except InputError:
        return object()


def _approval(what: str, approvers: list[str] | tuple[str, ...], approvals: Approvals) -> Check:
    if not approvers:
        return check(ids.policy("approval"), "block",
                     f"{what}, which needs approval, and the base policy lists no approvers: "
                     "add `approvers:` to the base policy first, in a change of its own")
    # GitHub logins are case-insensitive, and the API spells each its own way.
    listed = {login_key(login) for login in approvers}
    found = [login for login in approvals.logins if login_key(login) in listed]
    if found:
        return check(ids.policy("approval"), "pass",
                     f"{what}; approved by {found[0]} (an approver of the base policy)")
    why = (f" ({approvals.unavailable})" if approvals.unavailable
           else " (no approving review by one of them)")
    return check(ids.policy("approval"), "block",
                 f"{what}: one of the base policy's approvers ({', '.join(approvers)}) must "
                 f"approve the pull request{why}")
