"""`gatekeeper policy validate|show|diff`: tools for policy authors and reviewers."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from gatekeeper.errors import EXIT_INPUT, InputError
from gatekeeper.policy.loader import LoadedPolicy, load_policy


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("policy", help="validate, show or diff policies")
    commands = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    commands.required = True

    v = commands.add_parser("validate", help="report every problem of policies and run files")
    v.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="a policy, a run.yaml/run.json, or a bundle folder")
    v.add_argument("--skip-unknown", action="store_true",
                   help="skip YAML/JSON files that are neither a policy nor a run file "
                        "(for pre-commit, which passes every YAML file)")
    v.set_defaults(run=run_validate)

    s = commands.add_parser("show", help="the effective policy, each value with its origin")
    s.add_argument("policy", type=Path)
    s.add_argument("--target-branch", default=None)
    s.add_argument("--format", choices=("yaml", "json"), default="yaml")
    s.set_defaults(run=run_show)

    d = commands.add_parser("diff", help="what changed between two effective policies")
    d.add_argument("paths", nargs="+", type=Path, metavar="POLICY",
                   help="OLD NEW, or with --base-ref the one POLICY")
    d.add_argument("--base-ref", default=None,
                   help="compare POLICY with its version (and its extends chain) at this ref")
    d.add_argument("--target-branch", default=None)
    d.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    d.set_defaults(run=run_diff)


def run_validate(args: argparse.Namespace) -> int:
    # lazy: bundle loading (numpy) stays off `gatekeeper --help`, which imports every command
    from gatekeeper.policy.validate import kind_of, validate

    failed = False
    for path in args.files:
        if args.skip_unknown and path.is_file() and kind_of(path) is None:
            continue
        problems = validate(path)
        for problem in problems:
            print(problem.render())
        if problems:
            failed = True
        else:
            print(f"ok {path}")
    return EXIT_INPUT if failed else 0


def run_show(args: argparse.Namespace) -> int:
    # lazy: the renderer is loaded only by `policy show`, not by `gatekeeper --help`
    from gatekeeper.policy.show import as_json, as_yaml

    loaded = load_policy(args.policy, target_branch=args.target_branch)
    sys.stdout.write(as_json(loaded) if args.format == "json" else as_yaml(loaded))
    return 0


def _locator(loaded: LoadedPolicy) -> Any:
    def locate(path: tuple[str | int, ...]) -> tuple[str | None, int | None]:
        key = path
        while key and key not in loaded.sources:
            key = key[:-1]
        found = loaded.sources.get(key) if key else None
        return (found[0], found[1]) if found else (None, None)
    return locate


def _dump(loaded: LoadedPolicy) -> dict[str, Any]:
    data: dict[str, Any] = loaded.policy.model_dump(mode="json", by_alias=True)
    return data


def _base_policy(path: Path, ref: str, workdir: Path, branch: str | None) -> LoadedPolicy:
    # lazy: git and base-commit reading are loaded only by `policy diff --base-ref`
    from gatekeeper.policy.source import git_fetcher, materialize, repo_relative
    from gatekeeper.repo.git import git_toplevel

    repo = git_toplevel(path.resolve().parent)
    if repo is None:
        raise InputError(f"--base-ref {ref} needs the policy in a git checkout")
    rel = repo_relative(path, repo)
    copied = materialize(rel, git_fetcher(repo, ref), workdir)
    if copied is None:
        raise InputError(f"{rel} does not exist at {ref}")
    return load_policy(copied, target_branch=branch, display=f"{rel}@{ref}", root=workdir)


def run_diff(args: argparse.Namespace) -> int:
    # lazy: the diff engine is loaded only by `policy diff`, not by `gatekeeper --help`
    from gatekeeper.policy.diff import structured_diff

    expected = 1 if args.base_ref else 2
    if len(args.paths) != expected:
        raise InputError("give OLD NEW, or --base-ref REF POLICY")
    with tempfile.TemporaryDirectory(prefix="gatekeeper-policy-") as tmp:
        if args.base_ref:
            old = _base_policy(args.paths[0], args.base_ref, Path(tmp), args.target_branch)
        else:
            old = load_policy(args.paths[0], target_branch=args.target_branch)
        new = load_policy(args.paths[-1], target_branch=args.target_branch)
        diff = structured_diff(_dump(old), _dump(new), _locator(old), _locator(new))
    if args.format == "json":
        print(json.dumps(diff.as_dict(), indent=2))
    else:
        print(_render(diff, markdown=args.format == "markdown"))
    return 1 if diff.meaning_changed and not diff.version_bumped else 0


def _render(diff: Any, *, markdown: bool) -> str:
    def show(value: Any) -> str:
        return "(none)" if value is None else json.dumps(value)

    lines: list[str] = []
    if markdown:
        lines += ["| direction | rule | field | before | after | where |",
                  "|---|---|---|---|---|---|"]
    for c in diff.changes:
        where = f"{c.file}:{c.line}" if c.file else ""
        before, after = show(c.as_dict()["before"]), show(c.as_dict()["after"])
        if markdown:
            cells = [c.direction, c.rule, f"`{c.path}`", f"`{before}`", f"`{after}`", where]
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        else:
            lines.append(f"{c.direction}: {c.rule}: {c.path}: {before} -> {after}"
                         + (f" ({where})" if where else ""))
    if not diff.changes:
        lines.append("no change in meaning")
    bump = "metadata.version grew" if diff.version_bumped else "metadata.version did not grow"
    if diff.meaning_changed and not diff.version_bumped:
        bump += ": the meaning changed, bump it"
    lines.append(("\n" if markdown else "") + bump)
    return "\n".join(lines)
