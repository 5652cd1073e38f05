"""``gatekeeper policy validate``: every problem of a policy or run file, not only the first.

The loader stops at the first problem (a gate needs one reason to refuse); an author fixing a
file wants them all, each with its line, and a hint when an unknown key is a typo of a known
one. Policies are validated after ``extends`` (a child alone may be partial) and with each
``branches:`` override applied, as the gate does.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from gatekeeper.errors import GatekeeperError
from gatekeeper.inputs.bundle import find_run_file, load_bundle
from gatekeeper.inputs.yamlio import nearest, read_document, render_path
from gatekeeper.models.policy import Policy, waiver_problems
from gatekeeper.models.run import Run
from gatekeeper.policy import loader
from gatekeeper.repo.git import git_toplevel

RUN_NAMES = ("run.yaml", "run.yml", "run.json")
SourceMap = dict[tuple[str | int, ...], tuple[str, int, int]]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(document)'}: {self.message}"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def field_names_at(root: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    """The field names (and aliases) of the model(s) found at ``path`` below ``root``."""
    models = [root]
    for step in path:
        if isinstance(step, int):
            continue  # a list item: the annotation's arguments already name the item model
        found: list[type[BaseModel]] = []
        for model in models:
            for name, info in model.model_fields.items():
                if step in (name, info.alias):
                    found.extend(_models_in(info.annotation))
        models = found
    names: list[str] = []
    for model in models:
        for name, info in model.model_fields.items():
            names.append(info.alias or name)
    return names


def _message(error: Any, root: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    if error["type"] == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(key, field_names_at(root, loc[:-1]), n=1)
        hint = f": did you mean `{close[0]}`?" if close else ""
        return f"unknown field{hint}"
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "literal_error":
        return str(error["msg"]) + _closest_choice(error)
    return str(error["msg"]).removeprefix("Value error, ")


def _closest_choice(error: Any) -> str:
    """A did-you-mean for a misspelt choice (``reduce: bets`` → ``best``)."""
    choices = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
    given = error.get("input")
    close = difflib.get_close_matches(given, choices, n=1) if isinstance(given, str) else []
    return f": did you mean `{close[0]}`?" if close else ""


def problems_of(exc: ValidationError, root: type[BaseModel], sources: SourceMap,
                shown: str, prefix: str = "") -> list[Problem]:
    out: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if isinstance(p, str | int) and p != "[key]")
        file, line, _col = sources.get(nearest(loc, sources), (shown, 0, 0))
        out.append(Problem(file, line or None, render_path(loc),
                           prefix + _message(error, root, loc)))
    return out


def _validate_policy(path: Path) -> list[Problem]:
    shown = str(path)
    try:
        folder = path.resolve().parent
        root = (git_toplevel(folder) or folder).resolve()
        data, sources = loader._read(path, shown, (), root)
        branches = loader._branches(data, sources, shown)
        versions: list[tuple[str | None, dict[str, Any], SourceMap]] = [(None, data, sources)]
        for pattern, override in branches.items():
            merged, merged_src = loader._override(data, sources, shown, str(pattern), override)
            versions.append((str(pattern), merged, merged_src))
    except GatekeeperError as exc:
        return [_from_error(exc, shown)]
    out: list[Problem] = []
    seen: set[tuple[str, int | None, str, str]] = set()
    for pattern, version, version_src in versions:
        prefix = "" if pattern is None else f"with the branch override {pattern!r}: "
        for problem in _validate_data(version, version_src, shown, prefix):
            key = (problem.file, problem.line, problem.field,
                   problem.message.removeprefix(prefix))
            if key not in seen:  # a base problem shows again under every override
                seen.add(key)
                out.append(problem)
    return out


def _validate_data(data: dict[str, Any], sources: SourceMap, shown: str,
                   prefix: str) -> list[Problem]:
    effective = {k: v for k, v in data.items() if k != "extends"}
    try:
        policy = Policy.model_validate(effective)
    except ValidationError as exc:
        return problems_of(exc, Policy, sources, shown, prefix)
    waivers = waiver_problems(policy)
    if waivers:  # all of them, each at its own line
        return [_problem_at(sources, shown, path, prefix + message) for path, message in waivers]
    try:
        loader._validate(data, sources, shown)
    except GatekeeperError as exc:
        return [_from_error(exc, shown)]
    return []


def _problem_at(sources: SourceMap, shown: str, path: tuple[str | int, ...],
                message: str) -> Problem:
    file, line, _col = sources.get(nearest(path, sources), (shown, 0, 0))
    return Problem(file, line or None, render_path(path), message)


def _from_error(exc: GatekeeperError, shown: str) -> Problem:
    loc = exc.location
    return Problem(loc.file if loc and loc.file else shown, loc.line if loc else None,
                   (loc.field or "") if loc else "", exc.message)


def _validate_run(path: Path, bundle: Path | None) -> list[Problem]:
    shown = str(path)
    try:
        data, lines, _ = read_document(path, shown)
    except GatekeeperError as exc:
        return [_from_error(exc, shown)]
    sources = {k: (shown, v[0], v[1]) for k, v in lines.items()}
    try:
        Run.model_validate(data)
    except ValidationError as exc:
        return problems_of(exc, Run, sources, shown)
    if bundle is not None:
        try:
            load_bundle(bundle)  # paths, hashes' files, the schema line
        except GatekeeperError as exc:
            return [_from_error(exc, shown)]
    return []


def kind_of(path: Path) -> str | None:
    """"bundle", "run", "policy", or None for a YAML/JSON file that is neither."""
    if path.is_dir():
        return "bundle"
    if path.name in RUN_NAMES:
        return "run"
    try:
        data, _lines, _ = read_document(path)
    except GatekeeperError:
        return "policy"  # unreadable: report it as the policy it claims to be
    if isinstance(data, dict) and (data.get("kind") == "Policy"
                                   or data.get("apiVersion") == "gatekeeper/v1"):
        return "policy"
    return None


def validate(path: Path) -> list[Problem]:
    kind = kind_of(path)
    if kind == "bundle":
        try:
            run_file = find_run_file(path, str(path))
        except GatekeeperError as exc:
            return [_from_error(exc, str(path))]
        return _validate_run(path / run_file.name, path)
    if kind == "run":
        return _validate_run(path, path.parent)
    return _validate_policy(path)
