"""Build real verdicts and report contexts for the report tests (the CLI runs in-process)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.models.verdict import Verdict, verdict_json
from gatekeeper.policy.loader import load_policy
from gatekeeper.report.context import ReportContext
from tests.conftest import AS_OF, EXAMPLES, ROOT

REGISTRY = EXAMPLES / "registry" / "sentiment-clf" / "versions"
GOLDEN = ROOT / "tests" / "fixtures" / "golden"

# Everything a hostile PR could put in a string: table breakers, code fences, emphasis, links,
# raw HTML that would run or close the collapsed sections, mentions, math, bidi overrides.
HOSTILE = ("x|y `tick` ``` **b** _i_ ~~s~~ $x^2$ [l](javascript:alert(1)) "
           "<script>alert(1)</script> </details></summary> <img src=x onerror=alert(1)> "
           "<!-- --> @org/team @alice &amp; \u202eevil")


def run_cli(*args: str) -> tuple[int, str]:
    from gatekeeper.cli import main

    out = io.StringIO()
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        with redirect_stdout(out):
            code = main(list(args))
    finally:
        os.chdir(old)
    return code, out.getvalue()


def pinned(verdict: Verdict) -> Verdict:
    """The gate records the Python minor version; pin it so golden files hold on any CI Python."""
    gate = verdict.gate.model_copy(update={"python": "3.x"})
    return verdict.model_copy(update={"gate": gate})


def gate(bundle: str, policy: str) -> Verdict:
    """The verdict as ``gatekeeper check`` builds it in memory, typed check facts included
    (verdict.json v1 does not carry them, so reports are rendered from the gate's result)."""
    from gatekeeper.gate import GateInputs, run_gate

    old = Path.cwd()
    os.chdir(ROOT)
    try:
        with tempfile.TemporaryDirectory() as work:
            result = run_gate(GateInputs(bundle=Path(bundle), policy=Path(policy),
                                         as_of=date.fromisoformat(AS_OF)), Path(work))
    finally:
        os.chdir(old)
    return pinned(result.verdict)


def demo(name: str, policy: str = "policies/default.yaml") -> tuple[Verdict, ReportContext]:
    code, out = run_cli("check", f"examples/bundles/{name}", "--policy", policy,
                        "--format", "json", "--as-of", AS_OF)
    assert code in (0, 1), out
    verdict = gate(f"examples/bundles/{name}", policy)
    # The in-memory verdict is the one verdict.json records, byte for byte.
    assert verdict_json(pinned(Verdict.model_validate_json(out))) == verdict_json(verdict)
    assert verdict.baseline is not None
    ctx = ReportContext(
        candidate=load_bundle(EXAMPLES / "bundles" / name, display=f"examples/bundles/{name}"),
        baseline=load_bundle(REGISTRY / verdict.baseline.version),
        policy=load_policy(ROOT / policy),
        as_of=AS_OF,
    )
    return verdict, ctx


def hostile_bundle(tmp: Path, *, params: int = 3, artifacts: int = 2, length: int = 1) -> Path:
    """A copy of the warn demo whose every free-text field is hostile (``length`` repeats it)."""
    dest = tmp / "hostile"
    shutil.copytree(EXAMPLES / "bundles" / "warn", dest)
    run = yaml.safe_load((dest / "run.yaml").read_text(encoding="utf-8"))
    h = HOSTILE * length
    run["name"] = h
    run["tags"] = {"team": h}
    run["params"] = {f"p{i}|{HOSTILE[:40]}": f"{h}\n\n</details>\n\n<script>x</script>"
                     for i in range(params)}
    run["params"]["lr"] = 0.0003
    run["code"]["repo"] = "evil/repo)](javascript:alert(1))"
    run["code"]["branch"] = h
    run["environment"]["hardware"]["accelerator"] = h
    run["data"][0]["uri"] = h
    run["data"].append({"name": HOSTILE[:60], "uri": h, "split": "train"})
    # (a hostile judge would make the comparison "not comparable"; the model name is enough)
    run["llm"] = {"prompts": [{"id": HOSTILE[:80], "version": 1}], "model": {"name": h}}
    run["artifacts"] += [{"path": f"artifacts/{i}{HOSTILE[:120]}.bin", "sha256": "0" * 64,
                          "size": 1, "kind": "model"} for i in range(artifacts)]
    run["intended_use"] = h
    run["limitations"] = h
    (dest / "run.yaml").write_text(yaml.safe_dump(run, allow_unicode=True), encoding="utf-8")
    return dest


def hostile_policy(tmp: Path) -> Path:
    policy = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text(encoding="utf-8"))
    policy["metadata"]["name"] = "evil|<b>@org/team</b>-->"
    policy["metadata"]["intended_use"] = HOSTILE
    policy["baseline"]["registry"] = f"file:{EXAMPLES / 'registry'}"
    policy["waivers"] = [
        {"check": "metric:exact_match:*", "reason": HOSTILE, "approved_by": "@org/team",
         "ticket": "ML-1|</details>", "expires": "2026-12-31"},
        {"check": "envelope:*", "reason": HOSTILE, "approved_by": "<b>@bob</b>",
         "ticket": "ML-2", "expires": "2026-01-01"},
    ]
    path = tmp / "hostile-policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


def hostile(tmp: Path, **kw: Any) -> tuple[Verdict, ReportContext]:
    bundle = hostile_bundle(tmp, **kw)
    policy = hostile_policy(tmp)
    verdict = gate(str(bundle), str(policy))
    assert verdict.baseline is not None
    ctx = ReportContext(candidate=load_bundle(bundle), baseline=load_bundle(
        REGISTRY / verdict.baseline.version), policy=load_policy(policy), as_of=AS_OF,
        details_url="https://github.com/o/r/actions/runs/1")
    return verdict, ctx


# ---------------------------------------------------------------- rendering like GitHub

# Tags gatekeeper's own templates emit; anything else in the rendered HTML came from a value.
ALLOWED_TAGS = {"p", "h1", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "code",
                "strong", "a", "ul", "li", "details", "summary", "b", "sub", "pre", "blockquote",
                "hr", "br"}


def gfm(markdown: str) -> str:
    """GitHub's renderer (cmark-gfm with its extensions), raw HTML let through so leaks show."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    html: str = cmarkgfm.github_flavored_markdown_to_html(markdown,
                                                          options=Options.CMARK_OPT_UNSAFE)
    return html


def commonmark_unfiltered(markdown: str) -> str:
    """CommonMark without GitHub's tag filter: a leaked <script> shows up as a tag here."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    html: str = cmarkgfm.markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return html


def tags(html: str) -> set[str]:
    return {m.lower() for m in re.findall(r"</?([A-Za-z][A-Za-z0-9-]*)", html)}


def count_tag(html: str, name: str) -> tuple[int, int]:
    return (len(re.findall(rf"<{name}[\s>]", html)), len(re.findall(rf"</{name}>", html)))


def as_json(verdict: Verdict) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(verdict.model_dump_json(by_alias=True))
    return data
