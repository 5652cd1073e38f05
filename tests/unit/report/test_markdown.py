"""The Markdown report as GitHub renders it (cmark-gfm), for the demos and a hostile bundle."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatekeeper.models.verdict import RollbackCandidate, RollbackTarget
from gatekeeper.report.comment import render_comment
from gatekeeper.report.markdown import render_markdown
from gatekeeper.report.model_card import render_model_card
from tests.unit.report.helpers_report import (
    ALLOWED_TAGS,
    commonmark_unfiltered,
    count_tag,
    demo,
    gfm,
    hostile,
    tags,
)

MARKER = "<!-- gatekeeper:comment policy=default -->"


@pytest.mark.parametrize("name", ["pass", "warn", "block"])
def test_demo_report_renders_tables_details_and_marker(name: str) -> None:
    verdict, ctx = demo(name)
    body = render_comment(verdict, ctx, marker=MARKER)
    html = gfm(body)
    assert html.startswith(MARKER + "\n"), "the marker must survive as an HTML comment"
    assert html.count("<table>") >= 4  # headline, metrics, what changed, reproducibility...
    opened, closed = count_tag(html, "details")
    assert opened == closed == 3
    assert tags(html) <= ALLOWED_TAGS
    assert "<pre lang=\"text\"><code>" in html or "<pre><code class=\"language-text\">" in html
    head = html.split("</table>", 1)[0]
    assert "<td><strong>Rollback target</strong></td>" in head
    assert f"gatekeeper: <strong>{name}</strong>" in html


def test_block_report_lists_failures_first_with_reasons() -> None:
    verdict, ctx = demo("block")
    md = render_markdown(verdict, ctx)
    attention = md.split("### Needs attention", 1)[1].split("###", 1)[0]
    assert attention.count("**block**") == verdict.counts.block
    assert "below the floor" in attention and "worse than the margin" in attention
    table = md.split("### Metrics vs baseline", 1)[1]
    row = next(line for line in table.splitlines() if line.startswith("| `exact_match`"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[1:4] == ["0.876", "0.836", "-0.0400"]
    assert cells[5] == "tango" and cells[6] == "2,000 / 2,000"


def test_what_changed_links_the_commit_and_marks_changed_params() -> None:
    verdict, ctx = demo("warn")
    html = gfm(render_markdown(verdict, ctx))
    assert ctx.candidate is not None and ctx.candidate.run.code is not None
    sha = ctx.candidate.run.code.commit
    assert f'<a href="https://github.com/example/sentiment/commit/{sha}">' in html
    assert re.search(r"<td>✏️</td>\s*<td><code>epochs</code></td>", html)


def test_rollback_target_and_none_are_shown() -> None:
    verdict, ctx = demo("pass")
    target = RollbackTarget(model="sentiment-clf", version="2", reason="newest safe version",
                            considered=[RollbackCandidate(version="3", eligible=False,
                                                          reasons=["artifact missing"]),
                                        RollbackCandidate(version="2", eligible=True)])
    md = render_markdown(verdict.model_copy(update={"rollback_target": target}), ctx)
    assert "| **Rollback target** | sentiment-clf **v2** — newest safe version |" in md
    assert "artifact missing" in md
    none = RollbackTarget(model="sentiment-clf", version=None, reason="no version qualifies")
    md = render_markdown(verdict.model_copy(update={"rollback_target": none}), ctx)
    assert "| **Rollback target** | none qualifies — no version qualifies |" in md


def test_hostile_strings_cannot_inject_html_mentions_or_break_tables(tmp_path: Path) -> None:
    verdict, ctx = hostile(tmp_path)
    body = render_comment(verdict, ctx, marker=MARKER)
    html = gfm(body)
    assert html.startswith(MARKER)
    assert tags(html) <= ALLOWED_TAGS, tags(html) - ALLOWED_TAGS
    assert "script" not in tags(commonmark_unfiltered(body))
    assert count_tag(html, "details") == (3, 3)
    assert count_tag(html, "summary") == (3, 3)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("https://github.com/") for h in hrefs), hrefs
    assert "evil/repo" not in " ".join(hrefs)  # a repo that is not owner/name is not linked
    # GitHub would notify on "@org/team" in text; every mention outside code is broken up
    text_only = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    assert not re.search(r"@[A-Za-z0-9]", text_only)
    assert "\u202e" not in body
    # every table row keeps its column count: "|" in values cannot add cells
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        widths = {len(re.findall(r"<t[dh][ >]", row)) for row in
                  re.findall(r"<tr>.*?</tr>", table, flags=re.S)}
        assert len(widths) == 1, widths
    # the waiver shows who approved it, the ticket and the expiry
    assert "waived by **@\u200dorg/team**, ticket `ML-1|</details>`, expires 2026-12-31" in body


def test_hostile_model_card_is_escaped(tmp_path: Path) -> None:
    import yaml

    verdict, ctx = hostile(tmp_path)
    card = render_model_card(verdict, ctx, front=True)
    assert card.startswith("---\n")
    front, body = card[4:].split("\n---\n", 1)
    meta = yaml.safe_load(front)
    result = meta["model-index"][0]["results"][0]
    assert result["dataset"]["revision"] == ctx.candidate.run.data[1].sha256  # type: ignore[union-attr]
    assert {m["type"] for m in result["metrics"]} == {"accuracy", "exact_match"}
    html = gfm(body)
    assert tags(html) <= ALLOWED_TAGS
    assert "## Approvals" in body and "ML-1" in body
