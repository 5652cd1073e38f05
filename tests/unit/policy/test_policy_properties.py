"""Property: whatever a policy file holds, loading it (with and without a target branch)
returns a policy or raises gatekeeper's user error."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.policy.loader import load_policy
from tests.conftest import POLICIES
from tests.unit.inputs.hostile import FAST, loads_or_refuses, paths, replaced, values

DOCS = {name: yaml.safe_load((POLICIES / name).read_text())
        for name in ("default.yaml", "llm-app.yaml", "release.yaml")}
PLACES = [(name, where) for name, doc in DOCS.items() for where in paths(doc)]
BRANCH_OVERRIDE = {"release/*": {"metrics": [{"metric": "accuracy", "min": 0.9}],
                                 "envelope": {"min_seeds": 3}}}


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="gk-policy-props-"))
    shutil.copytree(POLICIES, root / "policies")
    yield root / "policies"
    shutil.rmtree(root, ignore_errors=True)


@FAST
@given(place=st.sampled_from(PLACES), value=values, branch=st.sampled_from(
    [None, "main", "release/1.0"]), overrides=st.booleans())
def test_any_value_anywhere_in_a_policy(folder: Path, place: tuple[str, tuple[Any, ...]],
                                        value: Any, branch: str | None,
                                        overrides: bool) -> None:
    name, where = place
    doc = replaced(DOCS[name], where, value)
    if overrides and isinstance(doc, dict):
        doc = {**doc, "branches": BRANCH_OVERRIDE}
    path = folder / "generated.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=False))
    loads_or_refuses(lambda: load_policy(path, target_branch=branch, root=folder.parent))


@FAST
@given(rule=st.dictionaries(st.sampled_from(
    ["metric", "min", "max", "range", "higher_is_better", "vs_baseline", "on_fail"]), values,
    max_size=5), budget=st.dictionaries(st.sampled_from(
        ["name", "max", "min", "vs_baseline", "on_exceed"]), values, max_size=4))
def test_generated_rules_and_budgets(folder: Path, rule: dict[str, Any],
                                     budget: dict[str, Any]) -> None:
    doc = {**DOCS["default.yaml"], "metrics": [rule], "budgets": [budget]}
    path = folder / "generated.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=False))
    loads_or_refuses(lambda: load_policy(path, root=folder.parent))
