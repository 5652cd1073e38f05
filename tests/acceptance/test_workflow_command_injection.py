"""Bundle text must never become a GitHub Actions workflow command (a line starting "::")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.report.text import render
from tests.conftest import AS_OF, Result

POLICY = "policies/default.yaml"


@pytest.mark.parametrize(("old", "new"), [
    ("run_id: run-cand-pass", 'run_id: "x\\n::error title=pwn::injected"'),
    ("  exact_match:\n", '  "acc\\n::warning::evil":\n    value: 1\n  exact_match:\n'),
    ("  team: nlp", '  team: "a\\r\\n::add-mask::gatekeeper"'),
])
def test_control_characters_in_names_are_rejected(
        cli: Callable[..., Result], demo_copy: Callable[[str], Path], old: str, new: str) -> None:
    bundle = demo_copy("pass")
    run = bundle / "run.yaml"
    assert old in run.read_text()
    run.write_text(run.read_text().replace(old, new, 1))
    res = cli("check", str(bundle), "--policy", POLICY, "--as-of", AS_OF)
    assert res.code == 2
    assert "control characters" in res.err
    assert not re.search(r"^::", res.out + res.err, re.MULTILINE)


def test_text_report_escapes_line_breaks_in_messages(cli: Callable[..., Result]) -> None:
    data = json.loads(cli("check", "examples/bundles/block", "--policy", POLICY, "--format",
                          "json", "--as-of", AS_OF).out)
    data["checks"][0]["message"] = "ok\n::error::forged\r\n::stop-commands::x"
    text = render(Verdict.model_validate(data), ReportContext())
    assert not re.search(r"^::", text, re.MULTILINE)
    assert "ok\\n::error::forged\\r\\n::stop-commands::x" in text


def test_github_mode_stops_commands_around_the_report(
        cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_TOKEN", "GITHUB_OUTPUT",
                "GITHUB_STEP_SUMMARY", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(key, raising=False)
    res = cli("check", "examples/bundles/warn", "--policy", POLICY, "--as-of", AS_OF, "--github")
    lines = res.out.splitlines()
    assert lines[0].startswith("::stop-commands::")
    token = lines[0].split("::")[2]
    assert len(token) == 32
    resume = lines.index(f"::{token}::")
    assert "gatekeeper: WARN" in "\n".join(lines[1:resume])
    assert any(line.startswith("::warning ") for line in lines[resume + 1:])
