"""The sticky comment stays within GitHub's limit whatever the bundle, and says what it cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.report.comment import COMMENT_LIMIT, marker, render_comment
from tests.unit.report.helpers_report import count_tag, demo, gfm, hostile, tags


def test_small_report_is_complete() -> None:
    verdict, ctx = demo("warn")
    body = render_comment(verdict, ctx, marker=marker("default"))
    assert body.startswith("<!-- gatekeeper:comment policy=default -->\n")
    assert "shortened" not in body and "Replay this verdict" in body


def test_huge_hostile_bundle_fits_and_says_what_was_cut(tmp_path: Path) -> None:
    verdict, ctx = hostile(tmp_path, params=400, artifacts=400, length=8)
    body = render_comment(verdict, ctx, marker=marker(verdict.policy.name))
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker(verdict.policy.name) + "\n")
    assert "65,536-character limit" in body
    assert "[the full report](https://github.com/o/r/actions/runs/1)" in body
    html = gfm(body)
    opened, closed = count_tag(html, "details")
    assert opened == closed
    assert "script" not in tags(html)


@pytest.mark.parametrize("limit", [2_000, 6_000, 20_000, 65_536])
def test_limit_holds_for_any_budget(tmp_path: Path, limit: int) -> None:
    verdict, ctx = hostile(tmp_path, params=50, artifacts=120, length=2)
    body = render_comment(verdict, ctx, marker=marker("p"), limit=limit)
    assert len(body) <= limit
    assert body.startswith(marker("p") + "\n")
    assert "gatekeeper: **block**" in body


def test_sections_are_dropped_least_important_first() -> None:
    verdict, ctx = demo("block")
    full = render_comment(verdict, ctx, marker=marker("default"))
    # just too small for the full report: the forest plot goes first, the failures stay
    body = render_comment(verdict, ctx, marker=marker("default"), limit=len(full) - 1)
    assert "```text" not in body and "What changed" in body and "Needs attention" in body
    assert "the forest plot are left out" in body
    assert "the job summary and the `gatekeeper-report` artifact" in body
    tiny = render_comment(verdict, ctx, marker=marker("default"), limit=1_500)
    assert "Needs attention" in tiny and "passing checks</b>" not in tiny and len(tiny) <= 1_500


def test_marker_must_be_an_html_comment() -> None:
    verdict, ctx = demo("pass")
    with pytest.raises(ValueError, match="HTML comment"):
        render_comment(verdict, ctx, marker="gatekeeper")
