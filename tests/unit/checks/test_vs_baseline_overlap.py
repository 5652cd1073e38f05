"""Per-example scores of two runs that do not cover the same examples.

A candidate scored on a different eval set is an input error; one that leaves out more than 2%
of the examples (the ones it fails, say) cannot pass its comparison.
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
    lines = ["id,score"] + [f"{i},{int(v)}" for i, v in zip(ids, scores, strict=True)]
    (root / "scores" / "em.csv").write_text("\n".join(lines) + "\n")
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": root.name, "model": "m",
        "metrics": {"em": {"per_example": "scores/em.csv"}}}))
    return root


def _run(tmp: Path, cand_ids: list[str], cand: np.ndarray, base_ids: list[str],
         base: np.ndarray, strict: bool = False) -> Check:
    policy = tmp / "policy.yaml"
    policy.write_text(
        "apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: p, version: 1}\n"
        "metrics:\n  - {metric: em, vs_baseline: {margin: 0.02}, on_inconclusive: "
        f"{'block' if strict else 'warn'}}}\n")
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


@pytest.mark.parametrize(("strict", "status"), [(False, "warn"), (True, "block")])
def test_dropping_the_failed_examples_cannot_pass(tmp_path: Path, strict: bool,
                                                  status: str) -> None:
    base = _scores(3)
    cand = base.copy()
    kept = [i for i in range(N) if cand[i] == 1 or i % 2 == 0]  # half of its failures dropped
    c = _run(tmp_path, [IDS[i] for i in kept], cand[kept], IDS, base, strict)
    dropped = N - len(kept)
    assert dropped > 0.02 * N
    assert c.status == status
    assert c.outcome in ("improved", "non_inferior")  # what the shared examples alone say
    assert f"{dropped:,} of {N:,} baseline example ids" in c.message
    assert "not scored on the same examples, so this comparison cannot pass" in c.message
    assert f"({dropped / N:.1%}, e.g. q" in c.message  # the share and a few of the ids
    assert any(f"{dropped} example id(s) only in the baseline" in n for n in c.notes)


def test_a_few_lost_ids_only_get_a_note(tmp_path: Path) -> None:
    base = _scores(4)
    kept = list(range(15, N))  # 1.5% lost
    c = _run(tmp_path, [IDS[i] for i in kept], base[kept], IDS, base)
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
