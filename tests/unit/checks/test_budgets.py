"""Trace budgets: reading traces, absolute limits with intervals, ratios vs the baseline."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gatekeeper.checks import budgets
from gatekeeper.checks.evidence import Evidence
from gatekeeper.errors import BundleError, UnsupportedRuleError
from gatekeeper.inputs import traces
from gatekeeper.inputs.bundle import Bundle, load_bundle
from gatekeeper.models.verdict import Check
from gatekeeper.policy.loader import load_policy
from gatekeeper.stats.proportion import wilson_interval
from gatekeeper.stats.quantile import harrell_davis


def requests(n: int, seed: int, scale: float = 1.0, errors: int = 0,
             fail_every: int = 5, jitter: float = 0.0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    lat = rng.lognormal(math.log(800.0), 0.4, size=n) * scale
    if jitter:  # the same requests served again: per-request noise around the same latency
        lat = lat * np.random.default_rng(seed + 1000).lognormal(0.0, jitter, size=n)
    out = []
    for i in range(n):
        out.append({"id": f"r{i}", "latency_ms": round(float(lat[i]), 3),
                    "input_tokens": 500 + i % 7, "output_tokens": 100 + i % 11,
                    "cost_usd": round(0.0002 * scale + 1e-6 * (i % 13), 8),
                    "success": i % fail_every != 0, "judge": "pass", "error":
                    "timeout" if i < errors else None})
    return out


def write_bundle(root: Path, records: list[dict[str, Any]] | str,
                 usage: dict[str, Any] | None = None, traces: bool = True,
                 metrics: dict[str, Any] | None = None) -> Bundle:
    root.mkdir(parents=True)
    llm: dict[str, Any] = {}
    if traces:
        (root / "traces").mkdir()
        text = records if isinstance(records, str) else "".join(
            json.dumps(r) + "\n" for r in records)
        (root / "traces" / "requests.jsonl").write_text(text)
        llm["traces"] = ["traces/requests.jsonl"]
    if usage is not None:
        llm["usage"] = usage
    run = {"schema": "gatekeeper.run/v1", "run_id": root.name, "model": "m", "llm": llm}
    if metrics is not None:
        run["metrics"] = metrics
    (root / "run.yaml").write_text(yaml.safe_dump(run))
    return load_bundle(root)


def evaluate(tmp: Path, budgets_yaml: str, cand: Bundle, base: Bundle | None = None
             ) -> dict[str, Check]:
    path = tmp / "policy.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: t, version: 1}\n"
                    "stats: {resamples: 2000}\nbudgets:\n" + budgets_yaml)
    ctx = Evidence(policy=load_policy(path), bundle=cand, as_of=date(2026, 1, 1), baseline=base)
    return {c.id: c for c in budgets.run(ctx)}


# ---------------------------------------------------------------- reading traces


@pytest.mark.parametrize(("text", "line", "words"), [
    ('{"id": "a", "latency_ms": 1}\n{"id": "b", "latency_ms": \n', 2, "invalid JSON"),
    ('{"id": "a", "latency_ms": "fast"}\n', 1, "latency_ms must be a number"),
    ('{"id": "a", "cost_usd": -1}\n', 1, "cost_usd must be a finite number >= 0"),
    ('{"id": "a"}\n{"id": "a"}\n', 2, "duplicate request id 'a' (first at"),
    ('{"latency_ms": 3}\n', 1, "needs an id"),
    ('{"id": "a", "success": "yes"}\n', 1, "success must be true or false"),
    ('[1, 2]\n', 1, "each line must be a JSON object"),
])
def test_malformed_traces_name_file_and_line(tmp_path: Path, text: str, line: int,
                                             words: str) -> None:
    b = write_bundle(tmp_path / "b", text)
    with pytest.raises(BundleError) as info:
        traces.read_traces(b)
    assert f"traces/requests.jsonl:{line}" in str(info.value)
    assert words in str(info.value)


def test_traces_read_fields_success_and_errors(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", '{"id": 1, "latency_ms": 5, "error": "boom"}\n'
                                     '{"id": 2, "latency_ms": 7, "error": null}\n')
    t = traces.read_traces(b)
    assert t is not None
    assert t.ids.tolist() == ["1", "2"]
    assert t.success.tolist() == [False, True]  # without success: no error means success
    assert t.errors.tolist() == [True, False]
    assert t.fields["latency_ms"].tolist() == [5.0, 7.0]
    assert t.need("cost_usd") is not None and "requests.jsonl:1" in str(t.need("cost_usd"))


# ---------------------------------------------------------------- absolute budgets


def test_latency_budget_reports_value_interval_and_limit(tmp_path: Path) -> None:
    recs = requests(600, 1)
    b = write_bundle(tmp_path / "b", recs)
    got = evaluate(tmp_path, "  - {name: latency_p95_ms, max: 100000}\n", b)
    c = got["budget:latency_p95_ms"]
    lat = np.array([r["latency_ms"] for r in recs])
    assert c.status == "pass"
    assert c.observed == pytest.approx(harrell_davis(lat, 0.95), rel=1e-9)
    assert isinstance(c.observed, float) and c.ci is not None
    assert c.ci[0] < c.observed < c.ci[1]
    assert c.threshold == 100000 and c.confidence == 0.95
    assert c.method == "harrell-davis-percentile-bootstrap" and c.n == (600, 0)


@pytest.mark.parametrize("on_exceed", ["block", "warn"])
def test_overrun_takes_on_exceed(tmp_path: Path, on_exceed: str) -> None:
    b = write_bundle(tmp_path / "b", requests(600, 1))
    got = evaluate(tmp_path, f"  - {{name: latency_p50_ms, max: 300, on_exceed: {on_exceed}}}\n",
                   b)
    c = got["budget:latency_p50_ms"]
    assert c.status == on_exceed
    assert "over the budget of 300" in c.message
    assert isinstance(c.observed, float) and c.observed > 300
    assert c.ci is not None and c.threshold == 300
    assert f"{c.observed:.4g}" in c.message and "95% CI [" in c.message


def test_tail_guard_warns_instead_of_passing(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", requests(100, 2))
    c = evaluate(tmp_path, "  - {name: latency_p99_ms, max: 1.0e9}\n", b)["budget:latency_p99_ms"]
    assert c.status == "warn"
    assert any("n(1−q) >= 20" in n for n in c.notes)


def test_cost_per_success_is_total_cost_over_successes(tmp_path: Path) -> None:
    recs = requests(300, 3)
    b = write_bundle(tmp_path / "b", recs)
    c = evaluate(tmp_path, "  - {name: cost_per_success_usd, max: 0.0001, on_exceed: warn}\n",
                 b)["budget:cost_per_success_usd"]
    total = sum(r["cost_usd"] for r in recs)
    wins = sum(r["success"] for r in recs)
    assert c.observed == pytest.approx(total / wins, rel=1e-9)
    assert c.status == "warn" and c.method == "delta-method ratio of means"
    assert c.ci is not None and c.ci[0] < total / wins < c.ci[1]


def test_error_rate_uses_wilson(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", requests(200, 4, errors=3))
    c = evaluate(tmp_path, "  - {name: error_rate, max: 0.02}\n", b)["budget:error_rate"]
    assert c.observed == pytest.approx(3 / 200)
    assert c.ci == pytest.approx(wilson_interval(3, 200, 0.95))
    assert c.status == "pass" and c.method == "wilson"
    assert any("straddles the limit" in n for n in c.notes)  # the point estimate decides


def test_tokens_per_request_and_totals(tmp_path: Path) -> None:
    recs = requests(50, 5)
    b = write_bundle(tmp_path / "b", recs)
    got = evaluate(tmp_path, "  - {name: tokens_per_request, max: 1000}\n"
                             "  - {name: requests, min: 10}\n", b)
    mean_tokens = np.mean([r["input_tokens"] + r["output_tokens"] for r in recs])
    assert got["budget:tokens_per_request"].observed == pytest.approx(mean_tokens)
    assert got["budget:requests"].observed == 50 and got["budget:requests"].ci is None


def test_usage_only_run_keeps_the_scalar_path(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", [], usage={"requests": 100, "successes": 80,
                                                "cost_usd": 2.0}, traces=False)
    got = evaluate(tmp_path, "  - {name: cost_per_success_usd, max: 0.02}\n"
                             "  - {name: error_rate, max: 0.1}\n"
                             "  - {name: latency_p95_ms, max: 10}\n", b)
    assert got["budget:cost_per_success_usd"].status == "block"
    assert got["budget:cost_per_success_usd"].observed == pytest.approx(0.025)
    assert got["budget:cost_per_success_usd"].ci is None
    assert got["budget:error_rate"].observed == pytest.approx(0.2)
    lat = got["budget:latency_p95_ms"]
    assert lat.status == "block" and "cannot be computed" in lat.message


def test_traces_without_cost_fall_back_to_usage_or_say_why(tmp_path: Path) -> None:
    recs = [{k: v for k, v in r.items() if k != "cost_usd"} for r in requests(30, 6)]
    b = write_bundle(tmp_path / "b", recs)
    c = evaluate(tmp_path, "  - {name: cost_usd, max: 1}\n", b)["budget:cost_usd"]
    assert c.status == "block"
    assert "cost_usd on every trace record" in c.message and "requests.jsonl:1" in c.message


def test_unknown_budget_is_a_policy_error(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", requests(5, 1))
    with pytest.raises(UnsupportedRuleError, match="unknown budget 'speed'"):
        evaluate(tmp_path, "  - {name: speed, max: 3}\n", b)


# ---------------------------------------------------------------- vs baseline


@pytest.mark.parametrize(("scale", "max_ratio", "status"), [
    (1.0, 1.25, "pass"), (1.6, 1.25, "block"), (1.2, 1.2, "warn")])
def test_latency_ratio_vs_baseline(tmp_path: Path, scale: float, max_ratio: float,
                                   status: str) -> None:
    base = write_bundle(tmp_path / "base", requests(800, 7))
    cand = write_bundle(tmp_path / "cand", requests(800, 7, scale=scale, jitter=0.05))
    got = evaluate(tmp_path, f"  - name: latency_p95_ms\n    vs_baseline: {{max_ratio: "
                             f"{max_ratio}}}\n    on_exceed: block\n", cand, base)
    c = got["budget:latency_p95_ms:vs_baseline"]
    assert c.status == status
    assert c.delta == pytest.approx(math.log(scale), abs=0.03)  # same requests, scaled
    assert c.ci is not None and c.threshold == pytest.approx(math.log(max_ratio))
    assert "budget:latency_p95_ms" not in got  # no absolute limit given
    assert "requests resampled in pairs" in (c.reason or "")


def test_cost_ratio_vs_baseline_with_interval(tmp_path: Path) -> None:
    base = write_bundle(tmp_path / "base", requests(400, 8))
    cand = write_bundle(tmp_path / "cand", requests(400, 9, scale=3.0))
    c = evaluate(tmp_path, "  - {name: cost_per_success_usd, max: 1, vs_baseline: "
                           "{max_ratio: 1.5}, on_exceed: warn}\n", cand, base)
    ratio = c["budget:cost_per_success_usd:vs_baseline"]
    assert ratio.status == "warn"  # on_exceed: the whole interval is above ×1.5
    assert ratio.ci is not None and ratio.ci[0] > math.log(1.5)
    assert "ratio ×" in ratio.message and "limit ×1.5" in ratio.message
    assert c["budget:cost_per_success_usd"].status == "pass"


def test_vs_baseline_without_baseline_or_data(tmp_path: Path) -> None:
    cand = write_bundle(tmp_path / "cand", requests(50, 1))
    got = evaluate(tmp_path, "  - {name: latency_p50_ms, vs_baseline: {max_ratio: 2}}\n", cand)
    assert got["budget:latency_p50_ms:vs_baseline"].status == "block"
    base = write_bundle(tmp_path / "base", [], usage={"requests": 3}, traces=False)
    got = evaluate(tmp_path, "  - {name: latency_p50_ms, vs_baseline: {max_ratio: 2}}\n",
                   cand, base)
    c = got["budget:latency_p50_ms:vs_baseline"]
    assert c.status == "block" and "of the baseline cannot be compared" in c.message


def test_identical_latencies_give_no_variance_information(tmp_path: Path) -> None:
    base = write_bundle(tmp_path / "base", requests(800, 7))
    cand = write_bundle(tmp_path / "cand", requests(800, 7))
    c = evaluate(tmp_path, "  - {name: latency_p95_ms, vs_baseline: {max_ratio: 1.25}}\n", cand,
                 base)["budget:latency_p95_ms:vs_baseline"]
    assert c.status == "warn" and "cannot tell" in c.message


def test_zero_errors_on_both_sides_cannot_pass_a_ratio(tmp_path: Path) -> None:
    base = write_bundle(tmp_path / "base", requests(100, 1))
    cand = write_bundle(tmp_path / "cand", requests(100, 2))
    c = evaluate(tmp_path, "  - {name: error_rate, vs_baseline: {max_ratio: 2}}\n", cand,
                 base)["budget:error_rate:vs_baseline"]
    assert c.status == "warn" and "cannot tell" in c.message


# ---------------------------------------------------------------- a run metric with a reserved name


def p95_of(recs: list[dict[str, Any]]) -> float:
    return float(harrell_davis(np.array([r["latency_ms"] for r in recs]), 0.95))


def test_self_reported_latency_cannot_override_the_traces(tmp_path: Path) -> None:
    recs = requests(600, 1)
    b = write_bundle(tmp_path / "b", recs, metrics={"latency_p95_ms": {"value": 100}})
    c = evaluate(tmp_path, "  - {name: latency_p95_ms, max: 300, on_exceed: warn}\n",
                 b)["budget:latency_p95_ms"]
    assert c.status == "block"  # a contradiction blocks, whatever on_exceed says
    assert "latency_p95_ms = 100 as a metric" in c.message
    assert f"{p95_of(recs):.4g}" in c.message and "traces/requests.jsonl" in c.message
    assert c.observed == pytest.approx(p95_of(recs), rel=1e-9)


def test_a_reported_figure_that_agrees_is_noted_and_the_traces_decide(tmp_path: Path) -> None:
    recs = requests(600, 1)
    claim = round(p95_of(recs) * 1.004, 1)  # a rounded figure, another estimator
    b = write_bundle(tmp_path / "b", recs, metrics={"latency_p95_ms": {"value": claim}})
    c = evaluate(tmp_path, "  - {name: latency_p95_ms, max: 300}\n", b)["budget:latency_p95_ms"]
    assert c.status == "block" and "over the budget of 300" in c.message  # traces: ~1,500 ms
    assert c.method == "harrell-davis-percentile-bootstrap"
    assert any("traces/requests.jsonl does not contradict it" in n for n in c.notes)


def test_cost_metric_contradicting_usage_totals_blocks(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", [], usage={"requests": 100, "successes": 80,
                                                "cost_usd": 2.0}, traces=False,
                     metrics={"cost_usd": {"value": 0.5}})
    c = evaluate(tmp_path, "  - {name: cost_usd, max: 1}\n", b)["budget:cost_usd"]
    assert c.status == "block" and "cost_usd = 0.5 as a metric" in c.message
    assert "measured from llm.usage it is 2:" in c.message


def test_the_run_metric_stands_in_only_without_per_request_data(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", [], traces=False,
                     metrics={"latency_p95_ms": {"replicates": [180, 200, 220]}})
    c = evaluate(tmp_path, "  - {name: latency_p95_ms, max: 300}\n", b)["budget:latency_p95_ms"]
    assert c.status == "pass" and c.observed == pytest.approx(200.0)
    assert any("taken from the run's own metric latency_p95_ms" in n for n in c.notes)


def test_ratio_budget_measures_reserved_quantities_from_traces(tmp_path: Path) -> None:
    base_recs, cand_recs = requests(800, 7), requests(800, 7, scale=1.6, jitter=0.05)
    # Both runs also claim a p95: the candidate truthfully, the baseline not at all.
    base = write_bundle(tmp_path / "base", base_recs,
                        metrics={"latency_p95_ms": {"value": 5000}})
    cand = write_bundle(tmp_path / "cand", cand_recs,
                        metrics={"latency_p95_ms": {"value": round(p95_of(cand_recs), 2)}})
    c = evaluate(tmp_path, "  - {name: latency_p95_ms, vs_baseline: {max_ratio: 1.25}}\n",
                 cand, base)["budget:latency_p95_ms:vs_baseline"]
    assert c.status == "block" and "the whole interval is above ×1.25" in c.message
    assert c.delta == pytest.approx(math.log(1.6), abs=0.03)


def test_ratio_budget_blocks_a_contradicting_candidate_claim(tmp_path: Path) -> None:
    base = write_bundle(tmp_path / "base", requests(800, 7))
    cand = write_bundle(tmp_path / "cand", requests(800, 7, jitter=0.05),
                        metrics={"latency_p95_ms": {"value": 100}})
    c = evaluate(tmp_path, "  - {name: latency_p95_ms, vs_baseline: {max_ratio: 1.25}}\n",
                 cand, base)["budget:latency_p95_ms:vs_baseline"]
    assert c.status == "block"
    assert "latency_p95_ms = 100 as a metric" in c.message
