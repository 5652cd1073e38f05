"""Policy unit tests (``gatekeeper test``): case files that run a bundle through the gate.

A case file ``tests/<name>.yaml`` beside a policy says which bundle, policy, registry and day,
and what the gate must decide::

    bundle: ../../examples/bundles/pass      # relative to the case file
    policy: ../default.yaml                  # optional: the only policy in the folder above
    registry: file:../../examples/registry   # optional; a relative file: path is from here
    as_of: 2026-11-26
    target_branch: main                      # optional
    expect:
      verdict: pass
      checks: {"metric:accuracy:min": pass}

Only the checks named under ``expect.checks`` are compared; the others may be anything.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gatekeeper.errors import GatekeeperError, InputError, Location
from gatekeeper.inputs.yamlio import read_document

POLICY_KINDS = ("Policy",)


@dataclass(frozen=True)
class CaseResult:
    case: Path
    passed: bool
    expected: dict[str, str] = field(default_factory=dict)  # "verdict" and check ids
    actual: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def mismatches(self) -> list[str]:
        return [k for k in self.expected if self.expected[k] != self.actual.get(k)]


def find_cases(paths: list[Path]) -> list[Path]:
    """Case files: a file as given; in a folder, every ``tests/*.yaml`` below it."""
    out: list[Path] = []
    for path in paths:
        if path.is_file():
            out.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and d not in ("node_modules", "__pycache__"))
            if Path(folder).name == "tests":
                out.extend(Path(folder) / f for f in sorted(files)
                           if f.endswith((".yaml", ".yml")))
    return out


def _default_policy(case: Path) -> Path:
    folder = case.parent.parent
    found = []
    for candidate in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            data, _lines, _ = read_document(candidate)
        except GatekeeperError:
            continue
        if isinstance(data, dict) and data.get("kind") in POLICY_KINDS:
            found.append(candidate)
    if len(found) != 1:
        raise InputError(f"name the policy: {len(found)} policies in {folder}",
                         Location(str(case), "policy"))
    return found[0]


def _registry(case: Path, uri: Any) -> str | None:
    if uri is None:
        return None
    text = str(uri)
    if text.startswith("file:") and not Path(text[5:]).is_absolute():
        return "file:" + str((case.parent / text[5:]).resolve())
    return text


def _spec(case: Path) -> dict[str, Any]:
    data, _lines, _ = read_document(case)
    if not isinstance(data, dict) or "bundle" not in data or not isinstance(
            data.get("expect"), dict):
        raise InputError("a case needs `bundle` and `expect: {verdict, checks}`",
                         Location(str(case)))
    return data


def run_case(case: Path) -> CaseResult:
    # lazy: the whole gate (numpy, scipy) stays off `gatekeeper --help`, which imports
    # commands/test.py and so this module
    from gatekeeper.gate import GateInputs, run_gate

    try:
        spec = _spec(case)
        expect = spec["expect"]
        expected = {"verdict": str(expect["verdict"])} if "verdict" in expect else {}
        expected.update({str(k): str(v) for k, v in (expect.get("checks") or {}).items()})
        policy = (case.parent / spec["policy"] if spec.get("policy")
                  else _default_policy(case))
        as_of = spec.get("as_of", date.today())
        inputs = GateInputs(bundle=case.parent / str(spec["bundle"]), policy=policy,
                            as_of=as_of if isinstance(as_of, date)
                            else date.fromisoformat(str(as_of)),
                            registry=_registry(case, spec.get("registry")),
                            target_branch=spec.get("target_branch"), record_usage=False)
        with tempfile.TemporaryDirectory(prefix="gatekeeper-test-") as tmp:
            verdict = run_gate(inputs, Path(tmp)).verdict
    except GatekeeperError as exc:
        return CaseResult(case, False, error=str(exc))
    actual: dict[str, str] = {"verdict": verdict.verdict}
    actual.update({c.id: c.status for c in verdict.checks})
    result = CaseResult(case, True, expected, actual)
    return CaseResult(case, not result.mismatches(), expected, actual)
