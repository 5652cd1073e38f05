"""Load a policy: safe YAML, duplicate keys rejected, ``extends`` resolved (cycles rejected),
per-branch overrides applied, then validated against ``models.policy.Policy``.

Merging (docs/policy.md): mappings merge key by key, later wins; the lists ``metrics`` and
``budgets`` merge item by item on their identity key (``metric`` / ``name``), so a stricter
policy can tighten one rule without restating the others; ``waivers`` accumulate.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import os
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gatekeeper.errors import Location, PolicyError
from gatekeeper.inputs import limits
from gatekeeper.inputs.envelope import parse_path
from gatekeeper.inputs.names import name_problem
from gatekeeper.inputs.yamlio import LineMap, first_problem, nearest, read_document, render_path
from gatekeeper.models.policy import (
    POLICY_API_VERSION,
    Policy,
    rule_check_ids,
    waiver_problems,
)
from gatekeeper.repo.git import git_toplevel

SourceMap = dict[tuple[str | int, ...], tuple[str, int, int]]
_KEYED_LISTS = {"metrics": "metric", "budgets": "name"}
_APPENDED_LISTS = {"waivers"}
MAX_EXTENDS_DEPTH = 16
# Resampling cost grows with stats.resamples times the number of examples: a policy asking
# for 10^12 would hold the gate for days. 10^6 is a hundred times the default.
MAX_RESAMPLES = 1_000_000
# A margin is a difference of metric values: below 1e-9 it is no margin a float can express
# next to values of order 1, only a way to drive the power analysis (margin^-2) to infinity.
MIN_MARGIN = 1e-9


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    path: Path
    display: str
    sha256: str  # of the effective policy (after extends and branch overrides), canonical JSON
    sources: SourceMap  # field path → (file, line, column), for messages and annotations
    target_branch: str | None
    branch_patterns: tuple[str, ...]  # which `branches:` patterns applied

    def location(self, *path: str | int) -> Location:
        key: tuple[str | int, ...] = tuple(path)
        while key and key not in self.sources:
            key = key[:-1]
        if key in self.sources:
            file, line, col = self.sources[key]
            return Location(file, render_path(path) or None, line, col)
        return Location(self.display, render_path(path) or None)


def _merge(base: Any, over: Any, base_src: SourceMap, over_src: SourceMap,
           path: tuple[str | int, ...], out_src: SourceMap) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_mappings(base, over, base_src, over_src, path, out_src)
    if _top_level_lists(path, base, over, _KEYED_LISTS):
        return _merge_keyed_lists(base, over, base_src, over_src, path, out_src)
    if _top_level_lists(path, base, over, _APPENDED_LISTS):
        for i in range(len(base)):
            _copy_sources(base_src, (*path, i), (*path, i), out_src)
        for j in range(len(over)):
            _copy_sources(over_src, (*path, j), (*path, len(base) + j), out_src)
        return [*base, *over]
    _copy_sources(over_src, path, path, out_src)
    return over


def _top_level_lists(path: tuple[str | int, ...], base: Any, over: Any,
                     names: Container[Any]) -> bool:
    """Whether ``base`` and ``over`` are both the top-level list ``path[0]``, one of ``names``."""
    return (len(path) == 1 and path[0] in names and isinstance(base, list)
            and isinstance(over, list))


def _merge_mappings(base: dict[Any, Any], over: dict[Any, Any], base_src: SourceMap,
                    over_src: SourceMap, path: tuple[str | int, ...],
                    out_src: SourceMap) -> dict[Any, Any]:
    """Key by key, later wins; a key in both merges recursively."""
    result = dict(base)
    for key, value in over.items():
        child = (*path, str(key))
        if key in base:
            result[key] = _merge(base[key], value, base_src, over_src, child, out_src)
        else:
            result[key] = value
            _copy_sources(over_src, child, child, out_src)
    for key in base:
        if key not in over:
            _copy_sources(base_src, (*path, str(key)), (*path, str(key)), out_src)
    if path in over_src:
        out_src[path] = over_src[path]
    return result


def _merge_keyed_lists(base: list[Any], over: list[Any], base_src: SourceMap,
                       over_src: SourceMap, path: tuple[str | int, ...],
                       out_src: SourceMap) -> list[Any]:
    """``metrics`` and ``budgets``: item by item on their identity key; new items append."""
    ident = _KEYED_LISTS[str(path[0])]
    result_list: list[Any] = []
    index: dict[Any, int] = {}
    for i, item in enumerate(base):
        index[_identity(item, ident)] = len(result_list)
        _copy_sources(base_src, (*path, i), (*path, len(result_list)), out_src)
        result_list.append(item)
    for j, item in enumerate(over):
        key = _identity(item, ident)
        if key is not None and key in index:
            pos = index[key]
            result_list[pos] = _merge_item(result_list[pos], item)
            _copy_sources(over_src, (*path, j), (*path, pos), out_src)
        else:
            _copy_sources(over_src, (*path, j), (*path, len(result_list)), out_src)
            result_list.append(item)
    return result_list


def _identity(item: Any, ident: str) -> str | None:
    """An item's name to merge on: a string, or None (a mapping or a list where the name goes
    is no name; validation reports it with its line)."""
    key = item.get(ident) if isinstance(item, dict) else None
    return key if isinstance(key, str) else None


def _merge_item(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _copy_sources(src: SourceMap, from_path: tuple[str | int, ...],
                  to_path: tuple[str | int, ...], out: SourceMap) -> None:
    n = len(from_path)
    for key, value in src.items():
        if key[:n] == from_path:
            out[(*to_path, *key[n:])] = value


def _sources(lines: LineMap, file: str) -> SourceMap:
    return {k: (file, v[0], v[1]) for k, v in lines.items()}


def _at(lines: LineMap, display: str, key: tuple[str | int, ...], field: str) -> Location:
    line, col = lines.get(key, (0, 0))
    return Location(display, field, line or None, col or None)


def _read(path: Path, display: str, stack: tuple[Path, ...], root: Path
          ) -> tuple[dict[str, Any], SourceMap]:
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(p.name for p in (*stack, resolved))
        raise PolicyError(f"extends cycle: {chain}", Location(display, "extends"))
    if len(stack) >= MAX_EXTENDS_DEPTH:
        raise PolicyError(f"extends chain deeper than {MAX_EXTENDS_DEPTH}",
                          Location(display, "extends"))
    data, lines = _read_one(path, display)
    src = _sources(lines, display)
    parents = data.get("extends")
    if parents is None:
        return data, src
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise PolicyError("extends must be a path or a list of paths",
                          _at(lines, display, ("extends",), "extends"))
    merged: dict[str, Any] = {}
    merged_src: SourceMap = {}
    for i, rel in enumerate(parents):
        key: tuple[str | int, ...] = (("extends", i) if isinstance(data.get("extends"), list)
                                      else ("extends",))
        parent_path = _parent_path(path, rel, root, _at(lines, display, ("extends",), "extends"),
                                   _at(lines, display, key, "extends"))
        parent_display = str(Path(display).parent / rel)
        pdata, psrc = _read(parent_path, parent_display, (*stack, resolved), root)
        new_src: SourceMap = {}
        merged = _merge(merged, pdata, merged_src, psrc, (), new_src) if merged else pdata
        merged_src = new_src if new_src else psrc
    out_src: SourceMap = {}
    result = _merge(merged, data, merged_src, src, (), out_src)
    return result, out_src


def _read_one(path: Path, display: str) -> tuple[dict[str, Any], LineMap]:
    """One policy file, before its ``extends``: a mapping with the right apiVersion."""
    data, lines, _ = read_document(path, display)
    if not isinstance(data, dict):
        raise PolicyError("a policy must be a YAML mapping", Location(display, line=1))
    api = data.get("apiVersion")
    if api != POLICY_API_VERSION:
        line, col = lines.get(("apiVersion",), (1, 1))
        raise PolicyError(f"apiVersion must be {POLICY_API_VERSION!r} (got {api!r})",
                          Location(display, "apiVersion", line, col))
    return data, lines


def _parent_path(path: Path, rel: str, root: Path, extends_at: Location,
                 item_at: Location) -> Path:
    """The file an ``extends`` entry names: relative, inside ``root``, and there."""
    if Path(rel).is_absolute():
        raise PolicyError(f"extends path {rel!r} must be relative to the policy file",
                          extends_at)
    if not rel or "\x00" in rel:
        raise PolicyError("extends names an empty or invalid path", item_at)
    parent_path = path.parent / rel
    try:
        resolved = parent_path.resolve()
        is_file = parent_path.is_file()
    except (OSError, RuntimeError) as exc:  # a name too long, a symlink loop
        raise PolicyError(f"extends {rel[:80]!r}: {getattr(exc, 'strerror', None) or exc}",
                          item_at) from exc
    if not resolved.is_relative_to(root):
        # A policy may build on policies of its own repository, not on any file the
        # machine has (and a PR's policy could otherwise read files outside the checkout).
        raise PolicyError(f"extends {rel!r} leaves {root}", item_at)
    if resolved != Path(os.path.normpath(path.parent.resolve() / rel)):
        # On a pull request the chain is read, diffed and compared with an approved commit by
        # its repository paths (git has no links to follow): a link would let the file this
        # loader reads differ from the file the review saw.
        raise PolicyError(f"extends {rel!r} goes through a symlink: name the file itself",
                          item_at)
    if not is_file:
        raise PolicyError(f"extended policy {rel!r} not found", item_at)
    return parent_path


def _override(data: dict[str, Any], sources: SourceMap, shown: str, pattern: str,
              override: Any) -> tuple[dict[str, Any], SourceMap]:
    """``data`` with the ``branches`` override for ``pattern`` merged on top; sources follow."""
    if not isinstance(override, dict):
        file, line, col = sources.get(("branches", pattern), (shown, 0, 0))
        raise PolicyError("a branch override must be a mapping",
                          Location(file, f"branches.{pattern}", line or None, col or None))
    for forbidden in ("branches", "extends", "apiVersion", "kind"):
        if forbidden in override:
            file, line, col = sources.get(("branches", pattern, forbidden),
                                          sources.get(("branches", pattern), (shown, 0, 0)))
            raise PolicyError(f"{forbidden!r} cannot be overridden per branch",
                              Location(file, f"branches.{pattern}.{forbidden}", line or None,
                                       col or None))
    over_src = {k[2:]: v for k, v in sources.items()
                if k[:2] == ("branches", pattern) and len(k) > 2}
    new_src: SourceMap = {}
    merged = _merge(data, copy.deepcopy(override), sources, over_src, (), new_src)
    return merged, {**sources, **new_src}


def _validate(data: dict[str, Any], sources: SourceMap, shown: str,
              pattern: str | None = None) -> Policy:
    effective = {k: v for k, v in data.items() if k != "extends"}
    _check_counts(effective, sources, shown)
    try:
        policy = Policy.model_validate(effective)
    except ValidationError as exc:
        raise _policy_validation_error(exc, sources, shown, pattern) from exc
    _check_names(policy, sources, shown, pattern)
    _check_unique(policy, sources, shown, pattern)
    for path, message in waiver_problems(policy):
        raise PolicyError(_in_override(message, pattern), _where(sources, shown, *path))
    for i, req in enumerate(policy.envelope.required):
        try:
            parse_path(req)
        except ValueError as exc:
            file, line, col = sources.get(("envelope", "required", i), (shown, 0, 0))
            raise PolicyError(_in_override(str(exc), pattern),
                              Location(file, f"envelope.required[{i}]", line or None,
                                       col or None)) from exc
    return policy


def _where(sources: SourceMap, shown: str, *path: str | int) -> Location:
    file, line, col = sources.get(nearest(path, sources), (shown, 0, 0))
    return Location(file, render_path(path), line or None, col or None)


def _check_counts(data: dict[str, Any], sources: SourceMap, shown: str) -> None:
    for key in ("metrics", "budgets", "waivers"):
        items = data.get(key)
        if isinstance(items, list):
            limits.METRICS.check(len(items), f"{len(items):,} entries",
                                 _where(sources, shown, key), PolicyError)


def _check_names(policy: Policy, sources: SourceMap, shown: str, pattern: str | None) -> None:
    """Metric and budget names that read as what they are (``inputs/names.py``); margins a
    float can express; a bounded resampling cost."""
    named = [(("metrics", i, "metric"), rule.metric) for i, rule in enumerate(policy.metrics)]
    named += [(("budgets", i, "name"), budget.name) for i, budget in enumerate(policy.budgets)]
    for path, name in named:
        problem = name_problem(name)
        if problem is not None:
            raise PolicyError(_in_override(f"name {name!r} {problem}", pattern),
                              _where(sources, shown, *path))
    for i, rule in enumerate(policy.metrics):
        vs = rule.vs_baseline
        if vs is None:
            continue
        for key in ("margin", "margin_rel", "min_gain"):
            value = getattr(vs, key)
            if value is not None and 0 < value < MIN_MARGIN:
                raise PolicyError(_in_override(f"{key} {value:g} is below {MIN_MARGIN:g}; write "
                                               "0 for no margin", pattern),
                                  _where(sources, shown, "metrics", i, "vs_baseline", key))
    if policy.stats.resamples > MAX_RESAMPLES:
        raise PolicyError(_in_override(f"at most {MAX_RESAMPLES:,} resamples", pattern),
                          _where(sources, shown, "stats", "resamples"))


def _check_unique(policy: Policy, sources: SourceMap, shown: str, pattern: str | None) -> None:
    """Each check id from one rule. Two rules that give one id (a name listed twice, or a budget
    named ``cost_usd:vs_baseline`` beside ``cost_usd``) share what applies to the id: an
    advisory twin would make the other rule advisory too, while a comparison of rules by name
    sees them apart."""
    owners: dict[str, str] = {}
    rules = [("metrics", i, f"metric rule {m.metric!r}",
              policy.model_copy(update={"metrics": [m], "budgets": []}), m.enforcement)
             for i, m in enumerate(policy.metrics)]
    rules += [("budgets", i, f"budget {b.name!r}",
               policy.model_copy(update={"metrics": [], "budgets": [b]}), b.enforcement)
              for i, b in enumerate(policy.budgets)]
    for key, i, rule, alone, level in rules:
        for check_id in rule_check_ids(alone, level):
            if check_id in owners:
                raise PolicyError(_in_override(
                    f"{rule} gives the check id {check_id}, as {owners[check_id]} does: give "
                    "each rule once, under a name of its own (rules of the same name in a "
                    "parent and a child merge)", pattern), _where(sources, shown, key, i))
            owners[check_id] = rule


def _in_override(message: str, pattern: str | None) -> str:
    return message if pattern is None else f"with the branch override {pattern!r}: {message}"


def load_policy(path: Path, *, target_branch: str | None = None,
                display: str | None = None, root: Path | None = None) -> LoadedPolicy:
    """``root`` bounds ``extends``: by default the git repository holding the policy, or the
    policy's own folder outside git."""
    shown = display or str(path)
    if root is None:
        folder = path.resolve().parent
        root = git_toplevel(folder) or folder
    data, sources = _read(path, shown, (), root.resolve())
    branches = _branches(data, sources, shown)
    # Every override is checked now, whatever the target branch: a typo in a release override
    # must fail the PR that makes it, not the first release PR after it.
    overrides = [(str(pattern), override) for pattern, override in branches.items()]
    merged = [(pattern, *_override(data, sources, shown, pattern, override))
              for pattern, override in overrides]
    policy = _validate(data, sources, shown)
    for pattern, merged_data, merged_src in merged:
        _validate(merged_data, merged_src, shown, pattern)
    applied: list[str] = []
    for pattern, override in overrides:
        if target_branch and fnmatch.fnmatchcase(target_branch, pattern):
            data, sources = _override(data, sources, shown, pattern, override)
            applied.append(pattern)
    if applied:
        policy = _validate(data, sources, shown)
    canonical = json.dumps(policy.model_dump(mode="json", by_alias=True), sort_keys=True,
                           separators=(",", ":"))
    return LoadedPolicy(
        policy=policy,
        path=path,
        display=shown,
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        sources=sources,
        target_branch=target_branch,
        branch_patterns=tuple(applied),
    )


def _branches(data: dict[str, Any], sources: SourceMap, shown: str) -> dict[Any, Any]:
    branches = data.get("branches") or {}
    if not isinstance(branches, dict):
        file, line, col = sources.get(("branches",), (shown, 0, 0))
        raise PolicyError("branches must map branch patterns to overrides",
                          Location(file, "branches", line or None, col or None))
    return branches


def _policy_validation_error(exc: ValidationError, sources: SourceMap, shown: str,
                             pattern: str | None = None) -> PolicyError:
    loc, msg = first_problem(exc, "policy")
    file, line, col = sources.get(nearest(loc, sources), (shown, 0, 0))
    return PolicyError(_in_override(msg, pattern),
                       Location(file, render_path(loc) or None, line or None, col or None))
