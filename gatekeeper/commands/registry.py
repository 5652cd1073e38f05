"""``gatekeeper registry list|show|promote|archive|history|search|set-alias|rollback-target|
eval-usage``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gatekeeper.errors import InputError, Location, RegistryError
from gatekeeper.registry import open_registry
from gatekeeper.registry.interface import Approval, ModelVersion, PromotionRefused, Registry

DEFAULT_REGISTRY = "file:.gatekeeper/registry"
__all__ = ["DEFAULT_REGISTRY", "PromotionRefused", "register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("registry", help="list, promote, archive and search versions")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    def common(p: argparse.ArgumentParser, *, model: bool = True) -> None:
        p.add_argument("--registry", default=DEFAULT_REGISTRY, metavar="URI",
                       help=f"file:PATH or mlflow+http(s)://HOST:PORT (default {DEFAULT_REGISTRY})")
        p.add_argument("--format", choices=("text", "json"), default="text")
        if model:
            p.add_argument("--model", required=True, metavar="NAME")

    p = actions.add_parser("list", help="models, or the versions of --model")
    common(p, model=False)
    p.add_argument("--model", metavar="NAME")

    p = actions.add_parser("show", help="one version (VERSION or --alias)")
    common(p)
    p.add_argument("version", nargs="?")
    p.add_argument("--alias")

    p = actions.add_parser("promote", help="record a checked bundle as a new version")
    common(p, model=False)
    p.add_argument("bundle", type=Path)
    p.add_argument("--model", metavar="NAME", help="default: the run's model")
    p.add_argument("--alias", default=None, help="point this alias at it (e.g. production)")
    p.add_argument("--approved-by", required=True, metavar="NAME")
    p.add_argument("--ticket")
    p.add_argument("--verdict-file", type=Path, help="the verdict.json of `gatekeeper check`")
    p.add_argument("--waiver", metavar="TEXT", help="promote despite a block verdict, and why")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")

    p = actions.add_parser("archive", help="archive a version (never a rollback target)")
    common(p)
    p.add_argument("version")

    p = actions.add_parser("set-alias", help="point an alias at a version (manual rollback)")
    common(p)
    p.add_argument("version")
    p.add_argument("--alias", required=True)
    p.add_argument("--set-by", metavar="NAME")

    p = actions.add_parser("history", help="which version held an alias, when")
    common(p)
    p.add_argument("--alias", default="production")

    p = actions.add_parser("search", help="versions matching an expression")
    common(p, model=False)
    p.add_argument("expression", nargs="?", default="")
    p.add_argument("--model", metavar="NAME")
    p.add_argument("--parent", metavar="RUN_ID", help="only a sweep's trials")

    p = actions.add_parser("rollback-target", help="the newest version safe to return to")
    common(p)
    p.add_argument("--alias", default=None,
                   help="default: the policy's baseline.alias, else production")
    p.add_argument("--exclude", metavar="VERSION")
    p.add_argument("--policy", type=Path, metavar="FILE",
                   help="judge envelopes by its envelope.required, as `gatekeeper check` does")
    p.add_argument("--require", action="append", default=[], metavar="PATH",
                   help="a required envelope field (repeatable; added to the policy's)")

    p = actions.add_parser("eval-usage",
                           help="the usage ledger: gate decisions recorded per eval set")
    common(p, model=False)
    p.add_argument("--model", metavar="NAME", help="only this model's decisions")
    p.add_argument("--data", metavar="SHA",
                   help="only this eval set: its sha256, or one data entry's (a prefix will do)")

    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry = open_registry(args.registry, base_dir=Path.cwd())
    handler = _ACTIONS.get(args.action)
    if handler is None:  # pragma: no cover - argparse allows only the actions below
        raise InputError(f"unknown registry action {args.action!r}")
    return handler(args, registry)


def _list(args: argparse.Namespace, registry: Registry) -> int:
    if args.model is None:
        models = registry.list_models()
        return _emit(args, {"models": models}, "\n".join(models))
    return _emit_versions(args, registry.list_versions(args.model))


def _show(args: argparse.Namespace, registry: Registry) -> int:
    if (args.version is None) == (args.alias is None):
        raise InputError("give either VERSION or --alias")
    version = (registry.resolve_alias(args.model, args.alias) if args.alias
               else registry.get_version(args.model, args.version))
    return _emit(args, _version_dict(version), _version_text(version, detail=True))


def _archive(args: argparse.Namespace, registry: Registry) -> int:
    return _emit_versions(args, [registry.archive(args.model, args.version)])


def _set_alias(args: argparse.Namespace, registry: Registry) -> int:
    version = registry.set_alias(args.model, args.alias, args.version, set_by=args.set_by)
    return _emit_versions(args, [version])


def _history(args: argparse.Namespace, registry: Registry) -> int:
    events = registry.alias_history(args.model, args.alias)
    # The ticket of the promotion that put each version there: an alias move is traced back to
    # the decision behind it.
    tickets = {v.version: v.approval.ticket for v in registry.list_versions(args.model)
               if v.approval is not None and v.approval.ticket}
    text = "\n".join(f"{e.alias}\t{e.version}\t{e.since}\t{e.until or 'now'}\t"
                     f"{e.set_by or ''}\t{tickets.get(e.version, '')}" for e in events)
    return _emit(args, {"history": [{**asdict(e), "ticket": tickets.get(e.version)}
                                    for e in events]}, text)


def _search(args: argparse.Namespace, registry: Registry) -> int:
    if not args.expression.strip() and args.parent is None:
        raise InputError("give an expression, --parent RUN_ID, or both")
    return _emit_versions(args, registry.search(args.expression, model=args.model,
                                                parent_run_id=args.parent))


def _eval_usage(args: argparse.Namespace, registry: Registry) -> int:
    data = args.data
    if data is not None and (len(data) < 7 or any(c not in "0123456789abcdefABCDEF"
                                                  for c in data)):
        raise InputError(f"--data {data!r}: give a sha256 (or a prefix of 7 or more hex "
                         "digits) of an eval set or of a data entry")
    records = registry.decisions(model=args.model, data=data)
    per_set: dict[str, int] = {}
    for r in records:
        per_set[r.eval_set] = per_set.get(r.eval_set, 0) + 1
    lines = [f"{r.recorded_at}\t{r.eval_set[:12]}\t{r.role}\t{r.model}\t{r.run_id}\t"
             f"{r.verdict}\t{'PR #' + str(r.pr) if r.pr is not None else ''}" for r in records]
    lines += [f"eval set {sha[:12]}: {n} decision{'s' if n != 1 else ''}"
              for sha, n in sorted(per_set.items())]
    return _emit(args, {"decisions": [r.as_dict() for r in records],
                        "eval_sets": dict(sorted(per_set.items()))},
                 "\n".join(lines) or "(no decisions recorded)")


def _rollback_target(args: argparse.Namespace, registry: Registry) -> int:
    # lazy: pydantic, yaml and the models stay off `registry list`, `show`, `history`,
    # `set-alias` and `archive`, which read and write only the registry's own records
    from gatekeeper.baseline.rollback import find_rollback_target

    alias, required = _rollback_rules(args)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-rollback-") as tmp:
        target = find_rollback_target(registry, args.model, alias, workdir=Path(tmp),
                                      exclude_version=args.exclude, required=required)
    lines = [f"rollback target: {target.version or 'none'} ({target.reason})"]
    lines += [f"  {c.version}: {'eligible' if c.eligible else '; '.join(c.reasons)}"
              for c in target.considered]
    return _emit(args, target.model_dump(mode="json"), "\n".join(lines))


def _rollback_rules(args: argparse.Namespace) -> tuple[str, tuple[str, ...]]:
    """The alias and required envelope fields, as ``gatekeeper check`` would use them: the
    policy's ``envelope.required`` plus every ``--require`` (the default list when both are
    empty), and ``--alias``, else the policy's ``baseline.alias``, else production."""
    # lazy: pydantic, yaml and the models stay off the registry commands that read and write
    # only the registry's own records (list, show, history, set-alias, archive)
    from gatekeeper.baseline.rollback import DEFAULT_ROLLBACK_REQUIRED
    from gatekeeper.policy.loader import load_policy

    required: list[str] = []
    alias = args.alias
    if args.policy is not None:
        policy = load_policy(args.policy).policy
        required.extend(policy.envelope.required)
        if alias is None and policy.baseline is not None:
            alias = policy.baseline.alias
    for path in args.require:
        if not path.strip():
            raise InputError("--require needs an envelope field path such as code.commit")
        if path not in required:
            required.append(path)
    return alias or "production", tuple(required) or DEFAULT_ROLLBACK_REQUIRED


def _promote(args: argparse.Namespace, registry: Registry) -> int:
    # lazy: pydantic, yaml and the run model stay off the registry commands that read and write
    # only the registry's own records (list, show, history, set-alias, archive)
    from gatekeeper.inputs.bundle import load_bundle

    bundle = load_bundle(args.bundle)
    sha = bundle.sha256()
    verdict: str | None = None
    policy_name = policy_version = None
    if args.verdict_file is not None:
        verdict, policy_name, policy_version = _read_verdict(args.verdict_file, sha)
    if verdict == "block" and not args.waiver:
        raise PromotionRefused(
            f"refusing to promote {args.bundle}: its verdict ({args.verdict_file}) is block; "
            "fix the run, or name a waiver with --waiver TEXT"
        )
    if verdict is None and not args.waiver:
        _require_recorded_verdict(args, registry, bundle.run.model, sha)
    tags: dict[str, str] = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--tag needs KEY=VALUE, got {item!r}")
        tags[key] = value
    approval = Approval(
        approved_by=args.approved_by,
        approved_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ticket=args.ticket, policy_name=policy_name, policy_version=policy_version,
        waiver=args.waiver,
    )
    version = registry.promote(
        args.bundle, model=args.model or bundle.run.model, alias=args.alias, approval=approval,
        verdict=verdict, bundle_sha256=sha, run_id=bundle.run.run_id, tags=tags,
    )
    # A re-promotion appends its approval to the ones the version was promoted with before.
    again = len(version.approvals) > 1
    return _emit(args, _version_dict(version),
                 f"{'re-promoted' if again else 'promoted'} {_version_text(version)}"
                 + _promote_note(version, verdict, again))


def _require_recorded_verdict(args: argparse.Namespace, registry: Registry, run_model: str,
                              sha: str) -> None:
    """Promotion moves what serves users: it needs a passing verdict for *this* bundle, given
    now (--verdict-file) or recorded when the same bundle was registered before."""
    model = args.model or run_model
    try:
        versions = registry.list_versions(model)
    except RegistryError:
        versions = []  # a new model or a new registry: nothing recorded, so nothing to reuse
    if any(v.bundle_sha256 == sha and v.verdict is not None for v in versions):
        # A re-promotion keeps the verdict it was recorded with; the registry's guards refuse
        # a recorded block without a waiver (registry/interface.check_repromotion).
        return
    raise PromotionRefused(
        f"refusing to promote {args.bundle}: there is no verdict for this bundle. Gate it first "
        "(gatekeeper check BUNDLE --output-dir OUT) and pass --verdict-file OUT/verdict.json, "
        "or promote it anyway with --waiver TEXT (recorded with --approved-by in the history)")


def _promote_note(version: ModelVersion, verdict: str | None, again: bool) -> str:
    notes = []
    if again:
        notes.append(f"this bundle was already registered as version {version.version}: no new "
                     "version was written; the approval was added to its approvals")
    if version.verdict is None:
        notes.append("no --verdict-file: the version has no recorded verdict and cannot be a "
                     "rollback target")
    elif verdict is None:
        notes.append(f"no --verdict-file: the version keeps its recorded verdict "
                     f"{version.verdict}")
    return "".join(f"\nnote: {n}" for n in notes)


def _read_verdict(path: Path, bundle_sha: str) -> tuple[str, str | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the verdict file: {exc}", Location(str(path))) from exc
    verdict = data.get("verdict") if isinstance(data, dict) else None
    if verdict not in {"pass", "warn", "block"}:
        raise InputError("not a verdict.json (no verdict pass/warn/block)",
                         Location(str(path), "verdict"))
    checked = (data.get("candidate") or {}).get("bundle_sha256")
    if checked and checked != bundle_sha:
        raise InputError(
            f"the verdict was given for bundle {checked[:12]}…, not this bundle "
            f"({bundle_sha[:12]}…): check the bundle you promote",
            Location(str(path), "candidate.bundle_sha256"),
        )
    policy = data.get("policy") or {}
    version = policy.get("version")
    return verdict, policy.get("name"), None if version is None else str(version)


def _version_dict(version: ModelVersion) -> dict[str, Any]:
    out = asdict(version)
    out["aliases"] = list(version.aliases)
    return out


def _version_text(version: ModelVersion, *, detail: bool = False) -> str:
    flags = []
    if version.aliases:
        flags.append("aliases: " + ",".join(version.aliases))
    if version.archived:
        flags.append("archived")
    text = (f"{version.model} v{version.version}  verdict={version.verdict or '-'}  "
            f"run={version.run_id or '-'}  {version.created_at}"
            + (f"  [{'; '.join(flags)}]" if flags else ""))
    if detail:
        if version.approval is not None:
            a = version.approval
            text += f"\n  approved by {a.approved_by} at {a.approved_at}" + (
                f" ({a.ticket})" if a.ticket else "") + (f", waiver: {a.waiver}" if a.waiver
                                                         else "")
        if version.bundle_sha256:
            text += f"\n  bundle sha256 {version.bundle_sha256}"
        for key, value in sorted(version.tags.items()):
            text += f"\n  tag {key}={value}"
    return text


def _emit_versions(args: argparse.Namespace, versions: list[ModelVersion]) -> int:
    return _emit(args, {"versions": [_version_dict(v) for v in versions]},
                 "\n".join(_version_text(v) for v in versions) or "(no versions)")


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> int:
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


# One handler per action; `register` defines the same names as subcommands.
_ACTIONS: dict[str, Callable[[argparse.Namespace, Registry], int]] = {
    "list": _list,
    "show": _show,
    "promote": _promote,
    "archive": _archive,
    "set-alias": _set_alias,
    "history": _history,
    "search": _search,
    "rollback-target": _rollback_target,
    "eval-usage": _eval_usage,
}
