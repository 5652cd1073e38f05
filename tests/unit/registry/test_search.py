"""The registry search language: parsing, errors that name the column, and evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.cli import main
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


@pytest.mark.parametrize(("expression", "column", "fragment"), [
    ("(" * 3000 + "archived" + ")" * 3000, 65, "nested deeper than 64 levels"),
    ("not " * 100 + "archived", 4 * 64 + 1, "nested deeper than 64 levels"),
    ("(not " * 40 + "archived" + ")" * 40, 5 * 32 + 1, "nested deeper than 64 levels"),
    ("not " * 5000 + "archived", 10_001, "the limit is 10000"),
    ("archived or " * 900 + "archived", 10_001, "the limit is 10000"),
])
def test_deep_or_long_expressions_are_input_errors(
    expression: str, column: int, fragment: str
) -> None:
    with pytest.raises(SearchError) as info:
        parse(expression)
    message = str(info.value)
    assert f"column {column}:" in message and fragment in message
    assert info.value.location is not None and info.value.location.column == column
    assert len(message) < 2 * 10_000  # the echo of a long input is not repeated


def test_the_deepest_allowed_nesting_and_long_chains_evaluate() -> None:
    assert matches("(" * 64 + "archived" + ")" * 64, VERSION, RUN) is False
    assert matches("not " * 63 + "archived", VERSION, RUN) is True
    # A chain of ~1,000 operands: as deep as Python's recursion limit if nested pairwise.
    chain = " and ".join(["model"] * 990)
    assert len(chain + " and verdict == 'warn'") <= 10_000
    assert matches(chain + " and verdict == 'warn'", VERSION, RUN) is True
    assert matches(chain + " and verdict == 'pass'", VERSION, RUN) is False
    assert matches(" or ".join(["archived"] * 800) + " or model", VERSION, RUN) is True


def test_cli_exits_2_for_a_deeply_nested_expression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nested = "(" * 3000 + "archived" + ")" * 3000
    assert main(["registry", "search", nested, "--registry", f"file:{tmp_path}"]) == 2
    assert "nested deeper than 64 levels" in capsys.readouterr().err
    assert main(["registry", "search", "not " * 5000, "--registry", f"file:{tmp_path}"]) == 2
    assert "the limit is 10000" in capsys.readouterr().err


def scored_bundle(root: Path, run_id: str, scores: list[float] | None) -> Path:
    """A bundle whose metric ``acc`` is per-example (as importers write it); ``scores=None``
    writes an unreadable score file."""
    import yaml

    root.mkdir(parents=True)
    if scores is None:
        (root / "scores.csv").write_text("id,score\nq1,not-a-number\n", encoding="utf-8")
    else:
        rows = "".join(f"q{i},{s}\n" for i, s in enumerate(scores))
        (root / "scores.csv").write_text("id,score\n" + rows, encoding="utf-8")
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": run_id, "model": "Qwen/Qwen3-8B",
        "metrics": {"acc": {"per_example": "scores.csv"}, "n": {"value": 3}},
    }), encoding="utf-8")
    return root


def test_search_sees_the_mean_of_per_example_scores(tmp_path: Path) -> None:
    from gatekeeper.inputs.bundle import load_bundle
    from gatekeeper.registry.file import FileRegistry

    reg = FileRegistry(tmp_path / "registry")
    for run_id, scores in (("good", [1.0, 1.0, 0.0, 1.0]), ("bad", [0.0, 1.0]),
                           ("broken", None)):
        path = scored_bundle(tmp_path / run_id, run_id, scores)
        reg.promote(path, model="Qwen/Qwen3-8B", alias=None, verdict="pass",
                    approval=Approval("alice", "2026-11-20T10:00:00Z"),
                    bundle_sha256=load_bundle(path).sha256(), run_id=run_id)
    assert reg.run_info(reg.get_version("Qwen/Qwen3-8B", "1")).metrics == {"acc": 0.75, "n": 3}
    assert [v.run_id for v in reg.search("metrics.acc >= 0.7")] == ["good"]
    assert [v.run_id for v in reg.search("metrics.acc < 0.7")] == ["bad"]
    # The broken score file hides only its own metric, not the version or the others.
    assert [v.run_id for v in reg.search("metrics.acc == null and metrics.n == 3")] == [
        "broken"]
