"""Per-example scores of two runs that do not cover the same examples.

A candidate scored on a different eval set is an input error. An example the baseline has and
the candidate lacks counts as a failure (``missing: fail``, the default), so dropping the
examples it fails gains nothing; under ``missing: drop`` they are left out, and a candidate that
leaves out more than ``max_missing_fraction`` of them cannot pass.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

from gatekeeper.checks import vs_baseline as baseline
from gatekeeper.checks.evidence import Evidence
from gatekeeper.errors import InputError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.models.verdict import Check
from gatekeeper.policy.loader import load_policy
from gatekeeper.stats.select import MetricData, compare
from gatekeeper.stats.types import Hypothesis

N = 1000


def _bundle(root: Path, ids: list[str], scores: np.ndarray) -> Path:
    (root / "scores").mkdir(parents=True)
    lines = ["id,score"] + [f"{i},{float(v)!r}" for i, v in zip(ids, scores, strict=True)]
    (root / "scores" / "em.csv").write_text("\n".join(lines) + "\n")
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": root.name, "model": "m",
        "metrics": {"em": {"per_example": "scores/em.csv"}}}))
    return root


def _run(tmp: Path, cand_ids: list[str], cand: np.ndarray, base_ids: list[str],
         base: np.ndarray, strict: bool = False, missing: str = "fail",
         rule: str = "") -> Check:
    tmp.mkdir(parents=True, exist_ok=True)
    policy = tmp / "policy.yaml"
    policy.write_text(
        "apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
        f"metrics:\n  - {{metric: em, vs_baseline: {{margin: 0.02, missing: {missing}}}, "
        f"on_inconclusive: {'block' if strict else 'warn'}{rule}}}\n")
    ctx = Evidence(policy=load_policy(policy), as_of=date(2026, 1, 1),
                  bundle=load_bundle(_bundle(tmp / "cand", cand_ids, cand)),
                  baseline=load_bundle(_bundle(tmp / "base", base_ids, base)))
    [check] = baseline.run(ctx, {})
    return check


def _scores(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(N) < 0.8).astype(int)


IDS = [f"q{i}" for i in range(N)]


def test_no_common_ids_is_an_input_error_naming_both_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        _run(tmp_path, [f"other{i}" for i in range(N)], _scores(1), IDS, _scores(2))
    text = str(info.value)
    assert "metric 'em': no example ids in common" in text
    assert "cand/scores/em.csv" in text and "base/scores/em.csv" in text
    assert "scored on different eval sets" in text
    assert info.value.exit_code == 2


def test_dropping_the_failed_examples_gains_nothing(tmp_path: Path) -> None:
    """The candidate equals the baseline; dropping the rows it fails must not make it better."""
    base = _scores(3)
    kept = [i for i in range(N) if base[i] == 1 or i % 2 == 0]  # half of its failures dropped
    dropped = N - len(kept)
    c = _run(tmp_path, [IDS[i] for i in kept], base[kept], IDS, base)
    assert c.delta == 0.0 and c.observed == c.baseline  # scored as failures: the same runs
    assert c.outcome == "non_inferior" and c.status == "pass"
    assert c.notes[0] == (f"{dropped:,} of {N:,} baseline examples have no candidate score: each "
                          "is scored as a failure (0, the worst value of the metric) — "
                          "missing: fail")


def test_a_missing_example_of_an_unbounded_metric_blocks(tmp_path: Path) -> None:
    base = np.linspace(0.0, 5.0, N)  # not 0/1, and the policy declares no range
    c = _run(tmp_path, IDS[10:], base[10:], IDS, base)
    assert c.status == "block"
    assert "10 of 1,000 baseline examples have no candidate score" in c.message
    assert "no bounded range" in c.message
    ranged = _run(tmp_path / "r", IDS[10:], base[10:], IDS, base, rule=", range: [0, 5]")
    assert ranged.notes[0].startswith("10 of 1,000 baseline examples have no candidate score")


def test_scores_outside_the_declared_range_or_not_binary_block(tmp_path: Path) -> None:
    base = _scores(5)
    inflated = base.astype(float)
    inflated[:3] = 7.0  # "binary" scores above 1 inflate the mean
    c = _run(tmp_path, IDS, inflated, IDS, base)
    assert c.status == "block" and "baseline's scores are all 0 or 1" in c.message
    c = _run(tmp_path / "r", IDS, inflated, IDS, base, rule=", range: [0, 1]")
    assert c.status == "block" and "outside the metric's range [0, 1]" in c.message


@pytest.mark.parametrize(("strict", "status"), [(False, "warn"), (True, "block")])
def test_dropping_the_failed_examples_cannot_pass_under_missing_drop(
        tmp_path: Path, strict: bool, status: str) -> None:
    base = _scores(3)
    cand = base.copy()
    kept = [i for i in range(N) if cand[i] == 1 or i % 2 == 0]  # half of its failures dropped
    c = _run(tmp_path, [IDS[i] for i in kept], cand[kept], IDS, base, strict, missing="drop")
    dropped = N - len(kept)
    assert dropped > 0.02 * N
    assert c.status == status
    assert c.outcome in ("improved", "non_inferior")  # what the shared examples alone say
    assert f"{dropped:,} of {N:,} baseline example ids" in c.message
    assert "not scored on the same examples, so this comparison cannot pass" in c.message
    assert f"({dropped / N:.1%}, e.g. q" in c.message  # the share and a few of the ids
    assert any(f"{dropped} example id(s) only in the baseline" in n for n in c.notes)


def test_a_few_lost_ids_only_get_a_note_under_missing_drop(tmp_path: Path) -> None:
    base = _scores(4)
    kept = list(range(15, N))  # 1.5% lost
    c = _run(tmp_path, [IDS[i] for i in kept], base[kept], IDS, base, missing="drop")
    assert c.status == "pass"
    assert "cannot pass" not in c.message
    assert any("15 example id(s) only in the baseline" in n for n in c.notes)


def test_the_comparison_counts_unmatched_ids() -> None:
    hyp = Hypothesis(margin=0.01)
    c = MetricData("per_example", np.array([1.0, 0.0, 1.0]), ids=np.array(["a", "b", "c"]))
    b = MetricData("per_example", np.array([1.0, 1.0]), ids=np.array(["b", "z"]))
    assert compare(c, b, hyp).unmatched == (2, 1)
    reps = MetricData("replicates", np.array([0.9, 0.8]), seeds=(0, 1))
    assert compare(reps, reps, hyp).unmatched is None
