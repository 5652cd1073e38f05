"""No output format lets bundle text act on GitHub: no line of any format is a workflow command
(a line starting "::", after optional whitespace), and no bare URL in bundle text becomes a link
in the Markdown that GitHub renders (the comment, the report, the model card)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers_report import gfm

from gatekeeper.report import REPORTERS
from tests.conftest import AS_OF, EXAMPLES, Result

# Each one would take effect if a line of a CI log began with it.
COMMANDS = ("::set-output name=verdict::pass", "::add-mask::gatekeeper",
            "::stop-commands::resume", "::error file=x::forged", "::warning::forged")
BREAKS = ("\n", "\r\n", "\r", "\u2028", "\x85", "\n   \t")
URLS = ("https://evil.example/login", "http://evil.example/a", "www.evil.example",
        "HTTPS://EVIL.EXAMPLE/B", "ftp://evil.example/f", "mallory@evil.example")
# A line that the runner would read as a command: "::" after optional Unicode whitespace.
WORKFLOW_COMMAND = re.compile(r"^\s*::")


def hostile_text(i: int = 0) -> str:
    parts = [f"intro {URLS[i % len(URLS)]}"]
    parts += [f"{brk}{cmd}" for brk, cmd in zip(BREAKS, COMMANDS * 2, strict=False)]
    return "".join(parts)


def hostile_bundle(tmp: Path) -> Path:
    """The warn demo, with workflow commands and URLs in every field that takes free text, in
    names that may start with "::", and in score ids only the candidate has (reported in notes)."""
    dest = tmp / "bundle"
    shutil.copytree(EXAMPLES / "bundles" / "warn", dest)
    run = yaml.safe_load((dest / "run.yaml").read_text(encoding="utf-8"))
    run["description"] = hostile_text(0)
    run["intended_use"] = COMMANDS[1] + hostile_text(1)
    run["limitations"] = "  " + COMMANDS[0] + hostile_text(2)
    run["name"] = f"{COMMANDS[1]} {URLS[0]}"
    run["tags"] = {COMMANDS[2]: f"{COMMANDS[0]} {URLS[2]}", "team": URLS[1]}
    run["params"] = {COMMANDS[3]: hostile_text(3), "lr": 0.0003,
                     "notes": {"nested": hostile_text(4)}}
    run["data"][0]["uri"] = URLS[0]
    run["data"].append({"name": f"{COMMANDS[4]} {URLS[2]}", "uri": URLS[3], "split": "train",
                        "sha256": "0" * 64})
    run["code"]["branch"] = f"{COMMANDS[2]}-{URLS[2]}"
    run["metrics"][COMMANDS[1]] = {"replicates": [0.5, 0.5, 0.5, 0.5, 0.5]}
    (dest / "run.yaml").write_text(yaml.safe_dump(run, allow_unicode=True), encoding="utf-8")
    # (score ids with line breaks are refused outright: tests/acceptance/test_hostile_inputs.py)
    return dest


@pytest.fixture
def hostile_reports(tmp_path: Path, cli: Callable[..., Result]) -> dict[str, str]:
    """Every --format on stdout, and every file of --output-dir, for the hostile bundle."""
    bundle = hostile_bundle(tmp_path)
    out: dict[str, str] = {}
    for fmt in sorted(REPORTERS):
        res = cli("check", str(bundle), "--policy", "policies/default.yaml", "--as-of", AS_OF,
                  "--format", fmt, "--output-dir", str(tmp_path / "out"))
        assert res.code == 0, res.err  # the warn demo's verdict: hostile text changes nothing
        out[f"--format {fmt}"] = res.out
    for path in sorted((tmp_path / "out").iterdir()):
        out[path.name] = path.read_text(encoding="utf-8")
    return out


def test_every_format_carries_the_hostile_text(hostile_reports: dict[str, str]) -> None:
    # The test means something only if the text reached the outputs.
    assert {"--format text", "--format json", "--format markdown", "--format html",
            "--format junit", "--format model-card"} <= set(hostile_reports)
    # (text, json and junit carried it through score ids, which are now refused outright)
    for name in ("--format markdown", "report.md"):
        assert "set-output name=verdict" in hostile_reports[name], name
    for name in ("--format model-card", "model_card.md", "--format html"):
        assert "add-mask::gatekeeper" in hostile_reports[name], name


def test_no_line_of_any_output_is_a_workflow_command(hostile_reports: dict[str, str]) -> None:
    offending = {name: [line for line in text.splitlines() if WORKFLOW_COMMAND.match(line)]
                 for name, text in hostile_reports.items()}
    assert {name: lines for name, lines in offending.items() if lines} == {}


def test_bare_urls_in_bundle_text_are_not_linked(hostile_reports: dict[str, str]) -> None:
    for name in ("--format markdown", "--format model-card", "report.md", "comment.md",
                 "model_card.md"):
        text = hostile_reports[name]
        assert "evil.example" in text.lower(), name
        html = gfm(text)
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert not [h for h in hrefs if "evil" in h.lower()], (name, hrefs)
        links = re.findall(r"<a [^>]*>(.*?)</a>", html, flags=re.S)
        assert not [t for t in links if "evil" in t.lower()], (name, links)
