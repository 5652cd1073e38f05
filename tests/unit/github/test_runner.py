"""Runner files and workflow commands: outputs, summary, annotations, masks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_github import parse_outputs

from gatekeeper.errors import GitHubError
from gatekeeper.github.runner import (
    SUMMARY_LIMIT,
    Annotation,
    add_mask,
    append_summary,
    format_annotation,
    write_outputs,
)


def test_outputs_round_trip_with_multiline_values(tmp_path: Path) -> None:
    path = tmp_path / "out"
    values = {"verdict": "block", "report-path": "/tmp/r.md", "rollback-target": "a\nb\n=c"}
    write_outputs(path, values)
    write_outputs(path, {"exit-code": "1"})
    text = path.read_text()
    assert parse_outputs(text) == {**values, "exit-code": "1"}
    delimiters = re.findall(r"^[\w-]+<<(.+)$", text, flags=re.M)
    assert len(set(delimiters)) == 4  # a fresh random delimiter per value


def test_delimiter_that_occurs_in_the_value_is_not_used(tmp_path: Path) -> None:
    candidates: Iterator[str] = iter(["EOF", "EOF", "SAFE"])
    path = tmp_path / "out"
    # A value trying to inject a second output through a guessable delimiter.
    write_outputs(
        path,
        {"verdict": "pass\nEOF\nexit-code<<EOF\n0"},
        delimiter_factory=lambda: next(candidates),
    )
    assert path.read_text().startswith("verdict<<SAFE\n")
    assert parse_outputs(path.read_text()) == {"verdict": "pass\nEOF\nexit-code<<EOF\n0"}


def test_delimiter_search_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(GitHubError, match="delimiter"):
        write_outputs(tmp_path / "o", {"v": "X"}, delimiter_factory=lambda: "X")


def test_bad_output_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(GitHubError, match="invalid step output name"):
        write_outputs(tmp_path / "o", {"a<<b": "x"})


def test_annotation_escaping() -> None:
    a = Annotation(
        level="error",
        message="100% worse\r\nsee: report, line 2",
        file="policies/a,b:c.yaml",
        line=12,
        title="metric:accuracy:vs_baseline, 50%",
    )
    assert format_annotation(a) == (
        "::error file=policies/a%2Cb%3Ac.yaml,line=12,"
        "title=metric%3Aaccuracy%3Avs_baseline%2C 50%25"
        "::100%25 worse%0D%0Asee: report, line 2"
    )


def test_annotation_without_properties() -> None:
    assert format_annotation(Annotation("notice", "ok")) == "::notice::ok"


def test_annotation_level_is_checked() -> None:
    with pytest.raises(ValueError, match="level"):
        Annotation("fatal", "x")


def test_add_mask_escapes() -> None:
    assert add_mask("ab%c\nd") == "::add-mask::ab%25c%0Ad"


def test_summary_appends_and_caps_at_1_mib(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    assert append_summary(path, "# gatekeeper\n") is False
    big = "é" * SUMMARY_LIMIT  # 2 bytes each: twice the limit
    assert append_summary(path, big) is True
    data = path.read_bytes()
    assert len(data) <= SUMMARY_LIMIT
    text = data.decode("utf-8")  # still valid UTF-8 after the cut
    assert text.startswith("# gatekeeper\n")
    assert text.rstrip().endswith("The full report is in the uploaded artifact.")


def test_summary_full_file_gets_nothing_more(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * SUMMARY_LIMIT)
    assert append_summary(path, "more") is True
    assert path.stat().st_size == SUMMARY_LIMIT
