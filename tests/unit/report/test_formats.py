"""JUnit XML, HTML, template overrides, escaping helpers and lazy jinja2."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from gatekeeper.report import escape, html, junit
from gatekeeper.report.changes import commit_url
from gatekeeper.report.context import ReportContext
from gatekeeper.report.forest import forest_lines
from gatekeeper.report.markdown import render_markdown
from tests.conftest import ROOT
from tests.unit.report.helpers_report import HOSTILE, demo, hostile


def test_junit_maps_block_to_failure_and_warn_to_a_property(tmp_path: Path) -> None:
    verdict, ctx = demo("block")
    root = ET.fromstring(junit.render(verdict, ctx))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(verdict.checks)
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {c.id for c in verdict.checks if c.status == "block"}
    assert suite.get("failures") == str(verdict.counts.block)
    warn_v, warn_ctx = demo("warn")
    warn_case = next(c for c in ET.fromstring(junit.render(warn_v, warn_ctx)).iter("testcase")
                     if c.get("name") == "metric:exact_match:vs_baseline")
    assert warn_case.find("failure") is None
    prop = warn_case.find("properties/property")
    assert prop is not None and prop.get("value") == "warn"
    strict = warn_v.model_copy(update={"fail_on": "warn"})
    strict_case = next(c for c in ET.fromstring(junit.render(strict, warn_ctx)).iter("testcase")
                       if c.get("name") == "metric:exact_match:vs_baseline")
    failure = strict_case.find("failure")
    assert failure is not None and failure.get("type") == "warn"


def test_junit_is_well_formed_for_hostile_input(tmp_path: Path) -> None:
    verdict, ctx = hostile(tmp_path)
    bad = verdict.checks[0].model_copy(update={"message": "nul\x00 bell\x07 " + HOSTILE})
    verdict = verdict.model_copy(update={"checks": [bad, *verdict.checks[1:]]})
    root = ET.fromstring(junit.render(verdict, ctx))
    names = [c.get("name") for c in root.iter("testcase")]
    assert len(names) == len(verdict.checks)
    waived = next(c for c in root.iter("testcase")
                  if c.get("name") == "metric:exact_match:vs_baseline")
    props = {p.get("name"): p.get("value") for p in waived.iter("property")}
    assert props["gatekeeper.waiver.approved_by"] == "@org/team"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_html_report_is_escaped_and_has_an_svg_forest_plot(tmp_path: Path) -> None:
    verdict, ctx = hostile(tmp_path)
    page = html.render(verdict, ctx)
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not [a for a in parser.attrs if a[0].startswith("on")]
    assert "svg" in parser.tags and "circle" in parser.tags
    assert "&lt;script&gt;" in page
    assert parser.tags.count("details") == page.count("</details>")
    hrefs = [v for k, v in parser.attrs if k == "href"]
    assert all(h and h.startswith("https://github.com/") for h in hrefs)


def test_template_dir_overrides_a_block(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        '{% extends "gatekeeper/report.md.j2" %}\n'
        "{% block footer %}\nReviewed by the ML platform team: {{ v.verdict.candidate.run_id }}\n"
        "{% endblock %}\n", encoding="utf-8")
    verdict, ctx = demo("warn")
    custom = ReportContext(candidate=ctx.candidate, baseline=ctx.baseline, policy=ctx.policy,
                           template_dir=tmp_path)
    md = render_markdown(verdict, custom)
    assert md.rstrip().endswith("Reviewed by the ML platform team: run-cand-warn")
    assert "### Needs attention" in md  # the rest of the built-in template is kept


def test_user_templates_are_sandboxed(tmp_path: Path) -> None:
    import pytest

    from gatekeeper.errors import InputError

    (tmp_path / "report.md.j2").write_text(
        "{{ v.__class__.__init__.__globals__ }}", encoding="utf-8")
    verdict, _ = demo("pass")
    custom = ReportContext(template_dir=tmp_path)
    # The sandbox refuses; a broken user template is bad input (exit 2), named.
    with pytest.raises(InputError, match=r"report\.md\.j2: SecurityError: access to attribute"):
        render_markdown(verdict, custom)


def test_escape_helpers() -> None:
    assert escape.md("a|b") == "a\\|b"
    assert escape.md("</details>") == "&lt;/details&gt;"
    assert escape.md("@org/team") == "@\u200dorg/team"
    assert escape.md("line1\n\nline2") == "line1 line2"
    assert escape.md("x" * 50, limit=10) == "x" * 9 + "…"
    assert escape.md_code("a`b|c") == "`` a`b\\|c ``"
    assert escape.md_code("a|b", table=False) == "`a|b`"
    assert "```" not in escape.code_block_text("```\n<script>")
    assert escape.html_text('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"


def test_commit_links_only_for_owner_name_and_hex() -> None:
    sha = "4c8ea4760fcb5dff8ec1af0394a338be9df55090"
    assert commit_url("org/repo", sha) == f"https://github.com/org/repo/commit/{sha}"
    assert commit_url("https://github.com/org/repo.git", sha) == \
        f"https://github.com/org/repo/commit/{sha}"
    assert commit_url("org/repo", sha, "https://ghe.example.com/") == \
        f"https://ghe.example.com/org/repo/commit/{sha}"
    assert commit_url("evil/repo)](javascript:x)", sha) is None
    assert commit_url("org/repo", "not-a-sha") is None


def test_forest_plot_puts_the_margin_on_the_worse_side() -> None:
    verdict, ctx = demo("block")
    from gatekeeper.report.comparisons import comparisons

    lines = forest_lines(comparisons(verdict, ctx))
    row = lines[1]
    zero = lines[0].index("│")
    assert row.index("┆") < zero and row.index("●") < row.index("┆")  # Δ worse than -margin


def test_json_format_does_not_import_jinja2() -> None:
    code = ("import sys; from gatekeeper.cli import main; "
            "rc = main(['check', 'examples/bundles/pass', '--policy', 'policies/default.yaml', "
            "'--format', 'json', '--as-of', '2026-11-26']); "
            "sys.stderr.write('JINJA=%s' % ('jinja2' in sys.modules)); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "JINJA=False" in proc.stderr
