"""The registry search language: parsing, errors that name the column, and evaluation."""

from __future__ import annotations

import pytest

from gatekeeper.registry.interface import Approval, ModelVersion, RunInfo
from gatekeeper.registry.search import SearchError, matches, parse

VERSION = ModelVersion(
    model="clf", version="12", run_id="r12", created_at="2026-11-20T10:00:00Z",
    aliases=("production", "staging"), verdict="warn", tags={"team": "nlp"},
    approval=Approval(approved_by="alice", approved_at="2026-11-20T10:00:00Z", ticket="ML-1"),
)
RUN = RunInfo(run_id="r12", parent_run_id="sweep-1",
              params={"lr": "0.001", "optimizer.name": "adam", "layers": 12,
                      "sched": {"kind": "cosine"}},
              metrics={"accuracy": 0.914, "f1/macro": 0.8}, tags={"team": "core", "gpu": "h100"})


@pytest.mark.parametrize(("expression", "expected"), [
    ('metrics.accuracy >= 0.9 and tags.team == "nlp"', True),  # version tag wins over run tag
    ("metrics.accuracy > 0.95 or verdict == 'warn'", True),
    ("not (metrics.accuracy > 0.9)", False),
    ("0.9 < metrics.accuracy", True),  # literal on the left flips the operator
    ("params.lr == 0.001 and params.lr < 1e-2", True),  # text params compare as numbers
    ("params.optimizer.name == 'adam'", True),  # dotted MLflow param names
    ("params.sched.kind == 'cosine'", True),  # nested params
    ("params.layers >= 12", True),
    ("metrics.`f1/macro` > 0.75", True),
    ("metrics.missing > 0", False),
    ("metrics.missing != 1", True),
    ("metrics.missing == null", True),
    ("aliases == 'production' and aliases != 'canary'", True),
    ("not archived and archived == false", True),
    ("version > 9 and version <= 12", True),
    ("created_at >= '2026-11-01' and created_at < '2026-12-01'", True),
    ("approval.approved_by == 'alice' and approval.waiver == null", True),
    ("parent_run_id == 'sweep-1' and run.parent_run_id == 'sweep-1'", True),
    ("tags.gpu == 'h100' AND NOT tags.team == 'core'", True),
    ("verdict == 'pass' or (verdict == 'warn' and metrics.accuracy < 0.5)", False),
    ('tags.team == "n\\"lp"', False),
])
def test_expressions(expression: str, expected: bool) -> None:
    assert matches(expression, VERSION, RUN) is expected


@pytest.mark.parametrize(("expression", "column", "fragment"), [
    ("metrics.accuracy >= ", 21, "expression ends"),
    ("metric.accuracy > 1", 1, "unknown field 'metric'"),
    ("metrics.accuracy = 1", 18, "unknown operator '='"),
    ("(metrics.a > 1", 15, "expected ')'"),
    ("metrics.a > 'open", 13, "string is not closed"),
    ("metrics > 1", 1, "name a key"),
    ("archived < true", 10, "only be compared with == or !="),
    ("metrics.a > 1 metrics.b", 15, "expected 'and', 'or' or the end"),
    ("1 == 2", 1, "needs a path"),
    ("metrics.a == metrics.b", 14, "not with another path"),
    ("metrics.a > 1 && x", 15, "unexpected character '&'"),
    ("", 1, "empty expression"),
    ("version.x == 1", 1, "has no sub-fields"),
    ("metrics.a > 1.2.3", 13, "malformed number"),
])
def test_errors_name_the_column(expression: str, column: int, fragment: str) -> None:
    with pytest.raises(SearchError) as info:
        parse(expression)
    message = str(info.value)
    assert f"column {column}:" in message and fragment in message
    caret_line = message.splitlines()[-1]
    assert caret_line.index("^") == column + 1  # under the column, after the 2-space indent


def test_no_code_is_ever_evaluated() -> None:
    with pytest.raises(SearchError):
        parse("__import__('os').system('true')")
    assert matches("tags.team == '__import__(\"os\")'", VERSION, RUN) is False


def test_without_run_info_run_fields_are_missing() -> None:
    assert matches("verdict == 'warn'", VERSION) is True
    assert matches("metrics.accuracy > 0", VERSION) is False
