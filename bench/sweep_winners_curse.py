"""The winner's curse of sweeps: the best of k trials with no true gain, sent to the gate.

Each sweep trains ``TRIALS`` models that are exactly as good as the baseline: every example has
its own difficulty p_i (Beta, mean 0.8), and the baseline and every trial get it right with
probability p_i, independently. The sweep keeps the trial with the best accuracy on the eval
set and sends it to the gate, whose policy asks for an improvement (``require: superior`` at
95%). Without the adjustment the winner passes as "improved" far more often than α; with the
Šidák adjustment over k (``leaderboard.sweep_adjustment``, on by default) at or under α.

The gate's own functions do the work, as ``checks/vs_baseline`` calls them for paired binary
scores: ``stats.binary.compare_paired_binary``, ``stats.decision.decide`` and
``leaderboard.sweep.adjusted_confidence``. ``tests/simulation/test_sim_sweep.py`` runs a
smaller version with a fixed seed; ``python -m bench.sweep_winners_curse`` runs this one.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from gatekeeper.leaderboard.sweep import SweepMethod, adjusted_confidence
from gatekeeper.stats.binary import compare_paired_binary
from gatekeeper.stats.decision import decide
from gatekeeper.stats.types import Hypothesis, Outcome

CONFIDENCE = 0.95
ALPHA = (1.0 - CONFIDENCE) / 2.0
TRIALS = 40


@dataclass(frozen=True)
class SweepResult:
    method: SweepMethod
    sweeps: int
    improved: int

    @property
    def rate(self) -> float:
        return self.improved / self.sweeps


def winners(sweeps: int, n: int, trials: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(winner's per-example scores, baseline's) for each simulated sweep."""
    rng = np.random.default_rng(seed)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(sweeps):
        p = rng.beta(4.0, 1.0, n)  # mean 0.8: some examples are hard for every model
        baseline = (rng.random(n) < p).astype(np.uint8)
        runs = (rng.random((trials, n)) < p).astype(np.uint8)
        best = int(np.argmax(runs.sum(axis=1)))
        out.append((runs[best], baseline))
    return out


def false_improvement(pairs: list[tuple[np.ndarray, np.ndarray]], trials: int,
                      method: SweepMethod) -> SweepResult:
    confidence = adjusted_confidence(CONFIDENCE, trials, method)
    hyp = Hypothesis(confidence=confidence, require_improvement=True)
    improved = sum(decide(compare_paired_binary(c, b, hyp), hyp) == Outcome.IMPROVED
                   for c, b in pairs)
    return SweepResult(method, len(pairs), improved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=2_000)
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--trials", type=int, default=TRIALS)
    parser.add_argument("--seed", type=int, default=40)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pairs = winners(args.sweeps, args.n, args.trials, args.seed)
    print(f"winner's curse: best of {args.trials} trials with no true gain, n = {args.n:,}, "
          f"{args.sweeps:,} sweeps; one-sided α = {ALPHA:g}")
    print(f"{'adjustment':>12} {'P(winner passes as improved)':>30}")
    results = [false_improvement(pairs, args.trials, m)
               for m in ("none", "sidak", "bonferroni")]
    for r in results:
        print(f"{r.method:>12} {r.rate:>30.4f}  ({r.improved}/{r.sweeps})")
    print(f"{time.perf_counter() - start:.1f} s")
    ok = results[0].rate > 5 * ALPHA and all(r.rate <= ALPHA for r in results[1:])
    print("acceptance:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
