from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result

V3 = "examples/registry/sentiment-clf/versions/3"


def test_compare_better_bundle(cli: Callable[..., Result]) -> None:
    res = cli("compare", "examples/bundles/pass", V3, "--format", "json")
    assert res.code == 0, res.err
    rows = {r["metric"]: r for r in json.loads(res.out)["metrics"]}
    assert set(rows) == {"accuracy", "exact_match", "latency_ms"}
    assert rows["exact_match"]["method"] == "tango"
    assert rows["exact_match"]["result"] == "better"
    assert rows["accuracy"]["method"] == "paired-t"  # same seeds on both sides
    assert rows["latency_ms"]["scale"] == "log_ratio"


def test_compare_is_antisymmetric(cli: Callable[..., Result]) -> None:
    ab = json.loads(cli("compare", "examples/bundles/pass", V3, "--format", "json").out)
    ba = json.loads(cli("compare", V3, "examples/bundles/pass", "--format", "json").out)
    ra = {r["metric"]: r for r in ab["metrics"]}["exact_match"]
    rb = {r["metric"]: r for r in ba["metrics"]}["exact_match"]
    assert abs(ra["delta"] + rb["delta"]) < 1e-12
    assert abs(ra["ci"][0] + rb["ci"][1]) < 1e-9 and abs(ra["ci"][1] + rb["ci"][0]) < 1e-9
    assert rb["result"] == "worse"


def test_compare_text_table(cli: Callable[..., Result]) -> None:
    res = cli("compare", "examples/bundles/warn", V3)
    assert "exact_match" in res.out and "no significant change" in res.out


def test_compare_refuses_a_delta_across_judges(cli: Callable[..., Result]) -> None:
    res = cli("compare", "examples/llm/bundles/judge-changed",
              "examples/llm/registry/support-bot/versions/1", "--format", "json")
    rows = {r["metric"]: r for r in json.loads(res.out)["metrics"]}
    assert "not comparable: the judge changed" in rows["helpfulness"]["error"]
    assert "delta" not in rows["helpfulness"]


def test_compare_names_disjoint_eval_sets(cli: Callable[..., Result],
                                          demo_copy: Callable[[str], Path]) -> None:
    bundle = demo_copy("pass")
    scores = bundle / "scores" / "exact_match.csv"
    scores.write_text(scores.read_text().replace("ex-", "other-"))
    rows = {r["metric"]: r for r in json.loads(cli("compare", str(bundle), V3, "--format",
                                                   "json").out)["metrics"]}
    assert "no example ids in common" in rows["exact_match"]["error"]
