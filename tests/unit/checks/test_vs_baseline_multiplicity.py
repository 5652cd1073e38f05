"""Blocking when any of several metrics is shown worse is a family of tests: Holm adjusts it.

Three metrics are each shown worse than the margin at one-sided p ≈ 0.018 (< 0.025), so each
would block alone; Holm's adjusted p ≈ 0.054 demotes all three to the rule's on_inconclusive
(warn), with an outcome of their own: their intervals lie wholly beyond the margin.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import yaml

from gatekeeper.checks import vs_baseline as baseline
from gatekeeper.checks.evidence import Evidence
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.policy.loader import load_policy

N = 400
MARGIN = 0.01
METRICS = ("m1", "m2", "m3")


def _bundle(root: Path, run_id: str, scores: dict[str, np.ndarray]) -> Path:
    (root / "scores").mkdir(parents=True)
    metrics = {}
    for name, values in scores.items():
        lines = ["id,score"] + [f"e{i},{float(v)!r}" for i, v in enumerate(values)]
        (root / "scores" / f"{name}.csv").write_text("\n".join(lines) + "\n")
        metrics[name] = {"per_example": f"scores/{name}.csv"}
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": run_id, "model": "m", "metrics": metrics}))
    return root


def _policy(tmp: Path, method: str) -> Path:
    rules = "".join(
        f"  - {{metric: {m}, vs_baseline: {{margin: {MARGIN}}}, on_fail: block,"
        " on_inconclusive: warn}\n" for m in METRICS)
    path = tmp / f"{method}.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
                    f"multiplicity: {{method: {method}}}\nmetrics:\n{rules}")
    return path


def _context(tmp_path: Path, method: str) -> Evidence:
    rng = np.random.default_rng(3)
    base = {m: np.full(N, 0.5) for m in METRICS}
    cand = {}
    for m in METRICS:
        noise = rng.normal(size=N)
        noise = (noise - noise.mean()) / noise.std(ddof=1) * 0.1
        se = 0.1 / np.sqrt(N)
        cand[m] = 0.5 + noise + (-MARGIN - 2.1 * se)  # t = -2.1 against the margin
    b = load_bundle(_bundle(tmp_path / f"base-{method}", "b", base))
    c = load_bundle(_bundle(tmp_path / f"cand-{method}", "c", cand))
    return Evidence(policy=load_policy(_policy(tmp_path, method)), bundle=c,
                   as_of=date(2026, 11, 26), baseline=b)


def test_each_alone_is_shown_worse(tmp_path: Path) -> None:
    checks = baseline.run(_context(tmp_path, "none"), {})
    assert [c.outcome for c in checks] == ["worse"] * 3
    assert [c.status for c in checks] == ["block"] * 3
    assert all(c.ci is not None and c.ci[1] < -MARGIN for c in checks)


def test_holm_demotes_the_family_with_its_own_wording(tmp_path: Path) -> None:
    checks = baseline.run(_context(tmp_path, "holm"), {})
    assert [c.status for c in checks] == ["warn"] * 3  # on_inconclusive, not on_fail
    for c in checks:
        assert c.outcome == "worse_before_adjustment"
        assert c.ci is not None and c.ci[1] < -MARGIN  # the interval excludes the margin...
        assert "straddles" not in c.message  # ...so it is not called straddling
        assert "worse than the margin 0.01 before the holm adjustment over 3 block tests " \
            "(adjusted p = " in c.message and "), not after it" in c.message
        assert not any("underpowered" in n for n in c.notes)  # more data would not help
        assert any("normal approximation" in n for n in c.notes)
        assert any("multiplicity: {method: none}" in n for n in c.notes)


def test_bonferroni_demotes_and_bh_keeps_equal_p_values(tmp_path: Path) -> None:
    checks = baseline.run(_context(tmp_path, "bonferroni"), {})
    assert {c.outcome for c in checks} == {"worse_before_adjustment"}
    assert all("before the bonferroni adjustment" in c.message for c in checks)
    # BH adjusts three equal p-values to themselves: each stays shown worse and blocks.
    checks = baseline.run(_context(tmp_path, "bh"), {})
    assert [(c.outcome, c.status) for c in checks] == [("worse", "block")] * 3
