"""`gatekeeper check` end to end on a demo bundle that carries a `loss` curve: the reports draw
and summarise it over the registry baseline's curve, a policy gates on its final or best value,
and a curve bent to flatter the run is refused."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.inputs.bundle import load_bundle
from tests.conftest import AS_OF, EXAMPLES, ROOT, Result, run_subprocess
from tests.unit.report.helpers_report import gfm

# Candidate: falls to 0.21 at step 300, then rises to a final 0.31 (best ≠ final).
CANDIDATE = "step,value\n" + "".join(f"{s},{v}\n" for s, v in [
    (0, 2.3), (100, 0.9), (200, 0.4), (300, 0.21), (400, 0.25), (500, 0.31)])
BASELINE = "step,value\n" + "".join(f"{s},{v}\n" for s, v in [
    (0, 2.4), (100, 1.0), (200, 0.5), (300, 0.35), (400, 0.33)])


def add_loss(bundle: Path, curve: str) -> None:
    (bundle / "curves").mkdir(exist_ok=True)
    (bundle / "curves" / "loss.csv").write_text(curve)
    run_file = bundle / "run.yaml"
    run = yaml.safe_load(run_file.read_text(encoding="utf-8"))
    run["metrics"]["loss"] = {"series": "curves/loss.csv"}
    run_file.write_text(yaml.safe_dump(run, sort_keys=False), encoding="utf-8")


@pytest.fixture
def setup(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    """(candidate bundle, policy): the pass demo with a loss curve, against a copy of the demo
    registry whose production version carries a loss curve too (its recorded hash updated)."""
    registry = tmp_path / "registry"
    shutil.copytree(EXAMPLES / "registry", registry)
    model = registry / "sentiment-clf"
    index_file = model / "index.json"
    index = json.loads(index_file.read_text())
    production = index["aliases"]["production"]
    add_loss(model / "versions" / production, BASELINE)
    for entry in index["versions"]:
        if entry["version"] == production:
            entry["bundle_sha256"] = load_bundle(model / "versions" / production).sha256()
    index_file.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

    def make(rule: dict[str, Any] | None, curve: str = CANDIDATE) -> tuple[Path, Path]:
        bundle = tmp_path / "candidate"
        if bundle.exists():
            shutil.rmtree(bundle)
        shutil.copytree(EXAMPLES / "bundles" / "pass", bundle)
        add_loss(bundle, curve)
        policy = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
        policy["baseline"]["registry"] = f"file:{registry}"
        if rule is not None:
            policy["metrics"].append(rule)
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy, sort_keys=False))
        return bundle, path

    return make


def check(bundle: Path, policy: Path, *extra: str) -> Result:
    return run_subprocess("check", str(bundle), "--policy", str(policy), "--as-of", AS_OF,
                          *extra)


def test_the_reports_draw_and_summarise_the_curve(setup: Callable[..., tuple[Path, Path]],
                                                  tmp_path: Path) -> None:
    bundle, policy = setup({"metric": "loss", "higher_is_better": False, "reduce": "final",
                            "max": 0.5})
    out = tmp_path / "out"
    res = check(bundle, policy, "--output-dir", str(out), "--format", "json")
    assert res.code == 0, res.err
    verdict = json.loads(res.out)
    loss = next(c for c in verdict["checks"] if c["id"] == "metric:loss:max")
    assert loss["status"] == "pass" and loss["observed"] == 0.31
    assert loss["message"] == "loss (final, step 500) = 0.31 (n=1); ceiling <= 0.5"

    md = (out / "report.md").read_text()
    html = gfm(md)
    row = re.search(r"<tr>\s*<td><code>loss</code></td>(.*?)</tr>", html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells == ["6", "0.31 at step 500", "0.21 at step 300", "lowest (policy rule)",
                     "0.33 at step 400", "0.33 at step 400"]

    page = (out / "report.html").read_text()
    svg = page.split("<h3><code>loss</code></h3>", 1)[1].split("</svg>", 1)[0]
    assert svg.count("<polyline") == 2  # the baseline's curve, then the candidate's over it
    assert svg.index('stroke-dasharray="5,3"') < svg.index('stroke="#0969da" stroke-width="2"/>')
    assert "<title>candidate final: 0.31 at step 500</title>" in svg
    assert "<title>candidate best: 0.21 at step 300</title>" in svg
    assert "<script" not in page and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")

    again = tmp_path / "again"
    assert check(bundle, policy, "--output-dir", str(again), "--format", "json").code == 0
    for name in ("report.md", "report.html", "comment.md"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_a_rising_final_loss_blocks_even_though_its_best_is_low(
        setup: Callable[..., tuple[Path, Path]]) -> None:
    bundle, policy = setup({"metric": "loss", "higher_is_better": False, "reduce": "final",
                            "max": 0.3})
    res = check(bundle, policy, "--format", "json")
    assert res.code == 1, res.err
    loss = next(c for c in json.loads(res.out)["checks"] if c["id"] == "metric:loss:max")
    assert loss["status"] == "block"
    assert loss["message"] == "loss (final, step 500) = 0.31 (n=1) is above the ceiling 0.3"


def test_best_against_the_baselines_best(setup: Callable[..., tuple[Path, Path]]) -> None:
    bundle, policy = setup({"metric": "loss", "higher_is_better": False, "reduce": "best",
                            "vs_baseline": {"margin": 0.05}})
    res = check(bundle, policy, "--format", "json")
    assert res.code == 0, res.err
    loss = next(c for c in json.loads(res.out)["checks"] if c["id"] == "metric:loss:vs_baseline")
    assert (loss["observed"], loss["baseline"]) == (0.21, 0.33)
    assert loss["notes"][0] == ("series reduced to its best value: candidate 0.21 at step 300, "
                                "baseline 0.33 at step 400")


@pytest.mark.parametrize(("curve", "line", "field", "why"), [
    # the good point moved to the last row, its step left where it was
    ("step,value\n0,2.3\n100,0.9\n500,0.7\n300,0.21\n", 5, "step",
     "step 300 comes after step 500 (line 4)"),
    # the same step logged twice, the good value last
    ("step,value\n0,2.3\n500,0.7\n500,0.21\n", 4, "step", "duplicate step 500 (first on line 3)"),
    # a NaN at the end: every comparison with it is false
    ("step,value\n0,2.3\n100,0.9\n200,nan\n", 4, "value", "value 'nan' is not a finite number"),
    ("step,value\n", 1, "value", "the series has no points"),
])
def test_a_curve_bent_to_flatter_the_run_is_refused(
        setup: Callable[..., tuple[Path, Path]], curve: str, line: int, field: str,
        why: str) -> None:
    bundle, policy = setup({"metric": "loss", "higher_is_better": False, "reduce": "final",
                            "max": 0.5}, curve)
    res = check(bundle, policy)
    assert res.code == 2, res.out
    assert len(res.err.strip().splitlines()) == 1 and "Traceback" not in res.err
    assert f"curves/loss.csv:{line}, field '{field}': " in res.err and why in res.err


def test_an_ungated_malformed_curve_is_refused_too(
        setup: Callable[..., tuple[Path, Path]]) -> None:
    bundle, policy = setup(None, "step,value\n0,2.3\n0,0.2\n")
    res = check(bundle, policy, "--format", "text")
    assert res.code == 2, res.out
    assert "curves/loss.csv:3, field 'step': duplicate step 0" in res.err


def test_a_rule_on_a_curve_without_reduce_is_refused(
        setup: Callable[..., tuple[Path, Path]]) -> None:
    bundle, policy = setup({"metric": "loss", "higher_is_better": False, "max": 0.5})
    res = check(bundle, policy)
    assert res.code == 2, res.out
    assert "say which of its values the rule gates, with reduce: final or reduce: best" \
        in res.err
