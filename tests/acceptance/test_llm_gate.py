"""LLM evaluation end to end: the llm-app policy on the demo, and real eval-tool outputs
imported and compared (lm-eval, Inspect, promptfoo)."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.importers import ImportOptions, get_importer
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric
from gatekeeper.stats import select
from gatekeeper.stats.types import Hypothesis
from tests.conftest import AS_OF, EXAMPLES, ROOT, Result

POLICY = "policies/llm-app.yaml"
DEMO = EXAMPLES / "llm" / "bundles"
REAL = ROOT / "tests" / "fixtures" / "real"


def check_json(cli: Callable[..., Result], bundle: str | Path, policy: str | Path = POLICY
               ) -> tuple[int, dict[str, dict[str, Any]]]:
    res = cli("check", str(bundle), "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF)
    assert res.code in (0, 1), res.err
    return res.code, {c["id"]: c for c in json.loads(res.out)["checks"]}


# ---------------------------------------------------------------- the demo


def test_demo_pass(cli: Callable[..., Result]) -> None:
    code, checks = check_json(cli, DEMO / "pass")
    assert code == 0
    assert {c["status"] for c in checks.values()} == {"pass"}
    assert checks["llm:triple"]["message"] == \
        "changed: prompt reply v6→v7; unchanged: dataset, model"
    assert checks["metric:helpfulness:vs_baseline"]["method"] == "tango"


def test_demo_judge_change_blocks_naming_both_judges(cli: Callable[..., Result]) -> None:
    code, checks = check_json(cli, DEMO / "judge-changed")
    assert code == 1
    for cid in ("judge:pin:helpfulness", "judge:baseline:helpfulness",
                "metric:helpfulness:vs_baseline"):
        assert checks[cid]["status"] == "block"
        assert "gpt-4o-2024-08-06" in checks[cid]["message"]
        assert "gpt-4o-mini-2024-07-18" in checks[cid]["message"]
    assert "Δ is not comparable: the judge changed from gpt-4o-2024-08-06" in \
        str(checks["metric:helpfulness:vs_baseline"]["message"])
    assert checks["metric:exact_match:min"]["status"] == "pass"  # not judged: unaffected


def test_demo_over_budget_blocks_and_warns_with_value_interval_limit(
        cli: Callable[..., Result]) -> None:
    code, checks = check_json(cli, DEMO / "over-budget")
    assert code == 1
    lat = checks["budget:latency_p95_ms"]
    assert lat["status"] == "block" and lat["threshold"] == 2500
    low, high = lat["ci"]
    assert 2500 < low < lat["observed"] < high
    ratio = checks["budget:latency_p95_ms:vs_baseline"]
    assert ratio["status"] == "block"
    assert ratio["ci"][0] > math.log(1.25)
    cost = checks["budget:cost_per_success_usd"]
    assert cost["status"] == "warn" and cost["threshold"] == 0.003
    assert cost["ci"] is not None and cost["observed"] > 0.003
    assert checks["llm:one_change_at_a_time"]["status"] == "pass"  # only the model changed


def test_demo_two_changes_cannot_be_attributed(cli: Callable[..., Result]) -> None:
    code, checks = check_json(cli, DEMO / "two-changes")
    assert code == 1
    c = checks["llm:one_change_at_a_time"]
    assert c["status"] == "block"
    assert "cannot attribute the difference: dataset and prompt both changed" in str(
        c["message"])


def test_markdown_report_shows_budget_value_interval_and_limit(
        cli: Callable[..., Result]) -> None:
    res = cli("check", str(DEMO / "over-budget"), "--policy", POLICY, "--format", "markdown",
              "--as-of", AS_OF)
    assert res.code == 1
    line = next(x for x in res.out.splitlines() if "`budget:latency_p95_ms`" in x)
    assert "95% CI" in line and "over the budget of 2500" in line


def test_malformed_trace_exits_2_naming_file_and_line(cli: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(DEMO / "pass", bundle)
    trace = bundle / "traces" / "requests.jsonl"
    lines = trace.read_text().splitlines(keepends=True)
    lines[6] = lines[6].replace('"latency_ms": ', '"latency_ms": "slow", "x": ')
    trace.write_text("".join(lines))
    res = cli("check", str(bundle), "--policy", POLICY, "--as-of", AS_OF)
    assert res.code == 2
    assert "Traceback" not in res.err
    assert "traces/requests.jsonl:7" in res.err and "latency_ms" in res.err


def test_dropped_requests_count_as_failed(cli: Callable[..., Result], tmp_path: Path) -> None:
    """Keeping only the traces of requests that went well: the requests llm.usage counts and the
    traces lack are errors, and no latency quantile is computed without them."""
    bundle = tmp_path / "b"
    shutil.copytree(DEMO / "pass", bundle)
    trace = bundle / "traces" / "requests.jsonl"
    lines = trace.read_text().splitlines(keepends=True)
    kept = [line for line in lines if '"error": null' in line or '"error"' not in line][:380]
    trace.write_text("".join(kept))
    run = bundle / "run.yaml"
    data = yaml.safe_load(run.read_text())
    data["llm"]["usage"] = {"requests": 400}
    run.write_text(yaml.safe_dump(data))
    _, checks = check_json(cli, bundle)
    errors = checks["budget:error_rate"]
    assert errors["status"] == "block" and errors["observed"] >= 20 / 400
    assert "20 requests counted by llm.usage have no trace: each counts as a failed request" \
        in errors["notes"]
    latency = checks["budget:latency_p95_ms"]
    assert latency["status"] == "block" and "dropped requests" in latency["message"]


# ---------------------------------------------------------------- real eval-tool outputs


def imported(tool: str, source: Path, out: Path, **options: Any) -> Path:
    get_importer(tool).import_(source, out, options=ImportOptions(**options))
    return out


def compare_json(cli: Callable[..., Result], a: Path, b: Path) -> dict[str, dict[str, Any]]:
    res = cli("compare", str(a), str(b), "--format", "json")
    assert res.code == 0, res.err
    return {m["metric"]: m for m in json.loads(res.out)["metrics"]}


def test_winogrande_mistral_vs_llama_by_tango(cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    pair = REAL / "lm-eval" / "pr1567"
    llama = imported("lm-eval", pair / "llama", tmp_path / "llama", model_name="Llama-2-7b")
    mistral = imported("lm-eval", pair / "mistral", tmp_path / "mistral",
                       model_name="Mistral-7B-v0.1")
    row = compare_json(cli, mistral, llama)["winogrande/acc"]
    assert row["method"] == "tango"
    assert row["n"] == [1267, 1267]
    assert round(row["candidate"], 3) == 0.781 and round(row["baseline"], 3) == 0.738
    assert row["delta"] == pytest.approx(row["candidate"] - row["baseline"])
    assert round(row["delta"], 3) == round(0.781 - 0.738, 3)
    low, high = row["ci"]
    assert 0 < low < row["delta"] < high
    assert row["result"] == "better"


def test_negotiationtom_same_model_twice_is_no_change(cli: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    runs = sorted((REAL / "lm-eval" / "pr3936").glob("results_*.json"))
    first = imported("lm-eval", runs[0], tmp_path / "first")
    second = imported("lm-eval", runs[1], tmp_path / "second")
    rows = compare_json(cli, second, first)
    paired = [r for r in rows.values() if r.get("kind") == "per_example"]
    assert {r["metric"] for r in paired} == {"negotiationtom_belief/acc",
                                              "negotiationtom_desire/acc",
                                              "negotiationtom_intention/exact_match"}
    for row in paired:
        assert row["delta"] == 0.0 and row["n"] == [20, 20]
        low, high = row["ci"]
        assert low < 0 < high
        assert row["result"] == "no significant change"


def test_inspect_eval_set_three_models_compare_pairwise(tmp_path: Path) -> None:
    get_importer("inspect").import_(REAL / "inspect_ai" / "pr2488-set", tmp_path / "{model}",
                                    options=ImportOptions())
    bundles = [load_bundle(p) for p in sorted(tmp_path.iterdir()) if not p.name.startswith(".")]
    assert len(bundles) == 3
    hyp = Hypothesis(confidence=0.95)
    for a, b in itertools.combinations(bundles, 2):
        ma, mb = load_metric(a, "match"), load_metric(b, "match")
        comp = select.compare(select.MetricData("per_example", ma.values, ids=ma.ids),
                              select.MetricData("per_example", mb.values, ids=mb.ids), hyp)
        assert comp.n == (100, 100) and comp.method == "tango"
        assert comp.delta == pytest.approx(float(ma.values.mean() - mb.values.mean()))
        assert comp.ci[0] < comp.delta < comp.ci[1]


def _registry_with(baseline: Path, root: Path, model: str) -> Path:
    version = root / model / "versions" / "1"
    shutil.copytree(baseline, version)
    index = {"schema": "gatekeeper.registry/v1", "model": model, "revision": 1,
             "versions": [{"version": "1", "run_id": load_bundle(version).run.run_id,
                           "created_at": "2026-11-01T00:00:00Z", "verdict": "pass",
                           "archived": False, "tags": {},
                           "bundle_sha256": load_bundle(version).sha256()}],
             "aliases": {"production": "1"}, "alias_history": []}
    (root / model / "index.json").write_text(json.dumps(index))
    return root


def test_promptfoo_two_providers_give_budgets_with_intervals(cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    run2 = REAL / "promptfoo" / "run2"
    v12 = imported("promptfoo", run2, tmp_path / "v12", provider="support-model-v12")
    v13 = imported("promptfoo", run2, tmp_path / "v13", provider="support-model-v13")
    registry = _registry_with(v12, tmp_path / "registry", "support-model")
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"""apiVersion: gatekeeper/v1
kind: Policy
metadata: {{name: promptfoo-budgets, version: 1}}
baseline: {{registry: "file:{registry}", model: support-model, alias: production}}
budgets:
  - {{name: latency_p50_ms, max: 1000, vs_baseline: {{max_ratio: 3}}, on_exceed: block}}
  - {{name: latency_p95_ms, max: 1000, on_exceed: block}}
  - {{name: cost_per_success_usd, max: 0.01, vs_baseline: {{max_ratio: 1.05}}, on_exceed: warn}}
  - {{name: tokens_per_request, max: 2000}}
  - {{name: error_rate, max: 0.05}}
""")
    code, checks = check_json(cli, v13, policy)
    p50 = checks["budget:latency_p50_ms"]
    assert p50["status"] == "pass" and p50["n"] == [40, 0]
    assert p50["ci"][0] < p50["observed"] < p50["ci"][1]
    # 40 requests leave 2 beyond the p95: the tail guard turns a pass into a warn.
    p95 = checks["budget:latency_p95_ms"]
    assert p95["status"] == "warn" and any("n(1−q)" in n for n in p95["notes"])
    cost = checks["budget:cost_per_success_usd"]
    assert cost["observed"] == pytest.approx(0.00060834375)  # Σcost / successes (32 of 40)
    assert cost["ci"][0] < cost["observed"] < cost["ci"][1]
    ratio = checks["budget:cost_per_success_usd:vs_baseline"]
    assert ratio["baseline"] == pytest.approx(0.000514)
    assert ratio["delta"] == pytest.approx(math.log(0.00060834375 / 0.000514), rel=1e-6)
    assert ratio["ci"][0] < ratio["delta"] < ratio["ci"][1]
    assert ratio["status"] in ("warn", "pass")
    assert checks["budget:latency_p50_ms:vs_baseline"]["ci"] is not None
    assert checks["budget:error_rate"]["observed"] == 0.0
    assert checks["budget:error_rate"]["ci"][1] > 0  # Wilson: not [0, 0]
    assert code == 0  # no block: only warnings


def test_dropping_the_judge_does_not_dodge_a_listed_pin(cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    """A candidate without `llm.judge` only warns under a bare pin; once the policy lists
    helpfulness as judged, the missing judge blocks."""
    import yaml

    bundle = tmp_path / "no-judge"
    shutil.copytree(DEMO / "pass", bundle)
    run = yaml.safe_load((bundle / "run.yaml").read_text())
    del run["llm"]["judge"]
    (bundle / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    policy = yaml.safe_load((ROOT / POLICY).read_text())
    # The same registry as the repository's policy, named absolutely from the copies.
    policy["baseline"]["registry"] = f"file:{ROOT / 'examples' / 'llm' / 'registry'}"
    bare = dict(policy, judge={k: v for k, v in policy["judge"].items() if k != "metrics"})
    bare_path = tmp_path / "bare.yaml"
    bare_path.write_text(yaml.safe_dump(bare, sort_keys=False))
    _code, checks = check_json(cli, bundle, bare_path)
    assert checks["judge:pin"]["status"] == "warn"
    assert "list the judged metrics under judge.metrics" in checks["judge:pin"]["message"]
    assert policy["judge"]["metrics"] == ["helpfulness"]  # the shipped policy lists it
    listed = tmp_path / "llm-app.yaml"
    listed.write_text(yaml.safe_dump(policy, sort_keys=False))
    code, checks = check_json(cli, bundle, listed)
    assert code == 1
    assert checks["judge:pin:helpfulness"]["status"] == "block"
    assert checks["judge:pin:helpfulness"]["message"].startswith(
        "helpfulness is listed as judged but the run records no judge")
    assert "judge:pin" not in checks
