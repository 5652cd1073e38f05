"""Blum & Hardt's boosting attack on a gate that answers one eval set over and over.

"The Ladder: A Reliable Leaderboard for Machine Learning Competitions" (ICML 2015), §3: an
attacker who knows nothing about the labels submits random predictions, keeps those that the
leaderboard scores above the baseline, and submits their majority vote. Each kept vector agrees
with the labels slightly more than chance *on this eval set*, so the vote climbs the leaderboard
while its true accuracy stays at chance.

The setting: n = 2,000 binary labels, a baseline with no skill (its predictions are random, so
its true accuracy is 0.5, as is every submission's), and a policy that asks for an improvement
(``vs_baseline: {require: superior}`` at 95%). Every submission is a gate decision; every 10th
is the attacker's majority vote of the probes kept so far. A "false improvement" is a pass with
outcome ``improved``: no submission is truly better than the baseline.

Arms, each with ``ATTACKS`` independent attacks (fresh labels and baseline each):

- guard off: the gate releases Δ as the reports print it (4 decimals);
- guard on: ``leaderboard: {release: ladder, ladder_step: 0.01, max_decisions: 50,
  on_exceed: block}`` — an improvement must clear one step at a confidence spread over the
  budget, only an improvement's Δ is released (to the step), and decisions past the budget
  block and release only that verdict;
- for the record, the Ladder without a budget: it leaks little per answer, but answers for
  ever, and a thousand chances at a 1-in-200 false pass are too many.

The simulation calls the gate's own functions, not the CLI (400,000 CLI runs would take days):
``stats.binary.tango_interval`` (the interval ``checks/vs_baseline`` gets from ``stats.select``
for paired binary scores), ``stats.decision.decide``, ``leaderboard.sweep.adjusted_confidence``
and ``leaderboard.ladder``, with the release rules of ``checks/leaderboard.py``. Tango's interval
depends on the discordant counts only, so it is memoised on them. Everything else is numpy over
all attacks at once.

Run ``python -m bench.leaderboard_attack`` (about a minute on 2 cores): it prints both curves as
a table and writes ``docs/img/leaderboard-attack.svg``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from gatekeeper.leaderboard import ladder
from gatekeeper.leaderboard.sweep import adjusted_confidence
from gatekeeper.stats.binary import tango_interval
from gatekeeper.stats.decision import decide
from gatekeeper.stats.types import Comparison, Hypothesis, Outcome

N = 2_000
SUBMISSIONS = 1_000
ATTACKS = 200
BOOST_EVERY = 10
CONFIDENCE = 0.95
ALPHA = (1.0 - CONFIDENCE) / 2.0  # one-sided: "improved" is a one-sided claim
STEP = 0.01
BUDGET = 50
CHECKPOINTS = (10, 50, 100, 200, 300, 400, 500, 700, 1000)
SVG = Path(__file__).resolve().parent.parent / "docs" / "img" / "leaderboard-attack.svg"


@dataclass(frozen=True)
class Arm:
    name: str
    ladder: bool
    budget: int | None

    @property
    def confidence(self) -> float:
        family = self.budget or 1 if self.ladder else 1
        return adjusted_confidence(CONFIDENCE, family, "bonferroni")

    @property
    def gain(self) -> float:
        return ladder.ladder_gain(0.0, STEP) if self.ladder else 0.0


GUARD_OFF = Arm("guard off", ladder=False, budget=None)
GUARD_ON = Arm("ladder + budget", ladder=True, budget=BUDGET)
# For the record: the Ladder without a budget answers for ever, and 1,000 answers are enough.
LADDER_ONLY = Arm("ladder, no budget", ladder=True, budget=None)


@cache
def _interval(n10: int, n01: int, confidence: float) -> tuple[float, float]:
    return tango_interval(n10, n01, N, confidence)


@cache
def gate_outcome(n10: int, n01: int, arm: Arm) -> Outcome:
    """The comparison's outcome for one submission, as ``checks/vs_baseline`` decides it."""
    hyp = Hypothesis(confidence=arm.confidence, margin=0.0, gain=arm.gain,
                     require_improvement=True)
    delta = (n10 - n01) / N
    comp = Comparison(method="tango", reason="paired binary", candidate=0.0, baseline=0.0,
                      delta=delta, ci=_interval(n10, n01, arm.confidence),
                      confidence=arm.confidence, n=(N, N))
    return decide(comp, hyp)


def released_delta(n10: int, n01: int, outcome: Outcome, arm: Arm) -> float | None:
    """What the report shows of Δ: 4 decimals, or under the Ladder a step only on improved."""
    delta = (n10 - n01) / N
    if not arm.ladder:
        return round(delta, 4)
    return ladder.toward_zero(delta, STEP) if outcome == Outcome.IMPROVED else None


def _vote(shown: float | None, outcome: Outcome) -> int:
    """The attack: keep what scored above the baseline as a vote for each label, and what the
    gate calls worse as a vote against. With Δ withheld the attacker reads the outcome: one
    that is significantly above the baseline but short of a step says "above" all the same."""
    if shown is not None:
        return 1 if shown > 0 else 0
    if outcome in (Outcome.IMPROVED, Outcome.NOT_IMPROVED):
        return 1
    return -1 if outcome == Outcome.WORSE else 0


@dataclass
class ArmResult:
    arm: Arm
    first_false: np.ndarray  # per attack: 1-based submission of the first false pass (0: none)
    false_total: int  # false passes over all submissions of all attacks
    boosted_true: dict[int, float]  # checkpoint → mean Δ of the vote on the eval set
    boosted_released: dict[int, float]  # checkpoint → mean released Δ (withheld counts as 0)
    withheld: dict[int, float]  # checkpoint → share of votes whose Δ was withheld
    seconds: float

    def false_rate_by(self, t: int) -> float:
        hit = (self.first_false > 0) & (self.first_false <= t)
        return float(hit.mean())


def _counts(correct: np.ndarray, base_correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n10 = np.count_nonzero(correct & ~base_correct, axis=1)
    n01 = np.count_nonzero(~correct & base_correct, axis=1)
    return n10, n01


def run_arm(arm: Arm, attacks: int, submissions: int, seed: int) -> ArmResult:
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, (attacks, N), dtype=np.int8)
    base_correct = rng.integers(0, 2, (attacks, N), dtype=np.int8) == labels
    votes = np.zeros((attacks, N), dtype=np.int32)
    tie_break = rng.integers(0, 2, (attacks, N), dtype=np.int8)
    decided = np.zeros(attacks, dtype=np.int64)  # decisions on the eval set so far
    first_false = np.zeros(attacks, dtype=np.int64)
    false_total = 0
    last_true = np.zeros(attacks)
    last_released = np.zeros(attacks)
    last_withheld = np.zeros(attacks, dtype=bool)
    boosted_true: dict[int, float] = {}
    boosted_released: dict[int, float] = {}
    withheld: dict[int, float] = {}
    for t in range(1, submissions + 1):
        boost = t % BOOST_EVERY == 0
        if boost:
            guess = np.where(votes > 0, 1, np.where(votes < 0, 0, tie_break)).astype(np.int8)
        else:
            guess = rng.integers(0, 2, (attacks, N), dtype=np.int8)
        n10, n01 = _counts(guess == labels, base_correct)
        for a in range(attacks):
            outcome = gate_outcome(int(n10[a]), int(n01[a]), arm)
            over = arm.budget is not None and decided[a] >= arm.budget
            decided[a] += 1
            if outcome == Outcome.IMPROVED and not over:
                false_total += 1
                if first_false[a] == 0:
                    first_false[a] = t
            # Past the budget the Ladder releases only the verdict (block): nothing to learn.
            silent = arm.ladder and over
            shown = None if silent else released_delta(int(n10[a]), int(n01[a]), outcome, arm)
            if boost:
                last_true[a] = (n10[a] - n01[a]) / N
                last_released[a] = shown or 0.0
                last_withheld[a] = shown is None
            elif not silent:
                votes[a] += _vote(shown, outcome) * (2 * guess[a].astype(np.int32) - 1)
        if t in CHECKPOINTS:
            boosted_true[t] = float(last_true.mean())
            boosted_released[t] = float(last_released.mean())
            withheld[t] = float(last_withheld.mean())
    return ArmResult(arm, first_false, false_total, boosted_true, boosted_released, withheld,
                     time.perf_counter() - start)


def wilson_upper(hits: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 1.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def table(results: list[ArmResult], attacks: int) -> str:
    lines = [f"Blum & Hardt boosting attack: n = {N:,} binary labels, no true improvement, "
             f"{attacks} attacks per arm, a majority vote every {BOOST_EVERY}th submission",
             f"false improvement = a pass with outcome improved; one-sided α = {ALPHA:g}", ""]
    head = f"{'submissions':>11}"
    for r in results:
        head += (f" | {r.arm.name + ': Δ on eval set':>30} {'released Δ':>10} "
                 f"{'P(false pass so far)':>20}")
    lines += [head, "-" * len(head)]
    for t in sorted(results[0].boosted_true):
        row = f"{t:>11}"
        for r in results:
            row += (f" | {r.boosted_true[t]:>+30.4f} {r.boosted_released[t]:>+10.4f} "
                    f"{r.false_rate_by(t):>20.3f}")
        lines.append(row)
    lines.append("")
    for r in results:
        hits = int((r.first_false > 0).sum())
        firsts = r.first_false[r.first_false > 0]
        median = f"{int(np.median(firsts))}" if firsts.size else "never"
        lines.append(
            f"{r.arm.name}: {hits}/{attacks} attacks got a false pass within "
            f"{max(r.boosted_true)} submissions (rate {hits / attacks:.3f}, 95% upper bound "
            f"{wilson_upper(hits, attacks):.3f}); median first at submission {median}; "
            f"{r.false_total:,} false passes in {attacks * max(r.boosted_true):,} decisions; "
            f"{r.seconds:.1f} s")
    return "\n".join(lines)


def _polyline(points: list[tuple[float, float]], colour: str, dash: str = "") -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<polyline fill="none" stroke="{colour}" stroke-width="2"{extra} '
            f'points="{path}"/>')


def svg(results: list[ArmResult], attacks: int) -> str:
    """Two panels: the vote's Δ on the eval set, and P(false pass so far), per arm."""
    width, height, pad = 440, 260, 50
    colours = {GUARD_OFF.name: "#d73a49", GUARD_ON.name: "#0366d6",
               LADDER_ONLY.name: "#e36209"}
    ts = sorted(results[0].boosted_true)
    tmax = ts[-1]

    def panel(x0: int, title: str, series: list[tuple[str, list[float], str]], ymax: float,
              ticks: list[float], hline: tuple[float, str] | None) -> list[str]:
        def px(t: float) -> float:
            return x0 + pad + (width - pad - 30) * t / tmax

        def py(v: float) -> float:
            return height - pad + 10 - (height - pad - 20) * max(0.0, v) / ymax
        out = [f'<text x="{x0 + width / 2:.0f}" y="18" text-anchor="middle" '
               f'font-weight="bold">{title}</text>',
               f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(tmax):.1f}" y2="{py(0):.1f}" '
               'stroke="#586069"/>',
               f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(0):.1f}" y2="{py(ymax):.1f}" '
               'stroke="#586069"/>']
        for tick in ticks:
            out.append(f'<text x="{px(0) - 6:.1f}" y="{py(tick) + 4:.1f}" text-anchor="end">'
                       f'{tick:g}</text>')
        for t in (0, 250, 500, 750, 1000):
            out.append(f'<text x="{px(t):.1f}" y="{py(0) + 16:.1f}" text-anchor="middle">'
                       f'{t}</text>')
        out.append(f'<text x="{x0 + width / 2:.0f}" y="{height - 8}" text-anchor="middle">'
                   'submissions</text>')
        if hline is not None:
            value, label = hline
            out.append(_polyline([(px(0), py(value)), (px(tmax), py(value))], "#6a737d",
                                 "4 3"))
            out.append(f'<text x="{px(tmax):.1f}" y="{py(value) - 4:.1f}" text-anchor="end" '
                       f'fill="#6a737d">{label}</text>')
        for _name, values, colour in series:
            out.append(_polyline([(px(0), py(0.0)), *[(px(t), py(v)) for t, v in
                                                      zip(ts, values, strict=True)]], colour))
        return out

    body: list[str] = []
    body += panel(0, "Δ of the majority vote on the eval set", [
        (r.arm.name, [r.boosted_true[t] for t in ts], colours[r.arm.name]) for r in results],
        0.14, [0.0, 0.05, 0.1], None)
    body += panel(width + 20, f"P(false pass so far), {attacks} attacks", [
        (r.arm.name, [r.false_rate_by(t) for t in ts], colours[r.arm.name]) for r in results],
        1.0, [0.0, 0.5, 1.0], (ALPHA, f"α = {ALPHA:g}"))
    legend_y = height + 14
    for i, r in enumerate(results):
        x = 60 + 240 * i
        body.append(_polyline([(x, legend_y - 4), (x + 24, legend_y - 4)], colours[r.arm.name]))
        body.append(f'<text x="{x + 30}" y="{legend_y}">{r.arm.name}</text>')
    total_w, total_h = 2 * width + 20, height + 24
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
            f'viewBox="0 0 {total_w} {total_h}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attacks", type=int, default=ATTACKS)
    parser.add_argument("--submissions", type=int, default=SUBMISSIONS)
    parser.add_argument("--seed", type=int, default=20150706)
    parser.add_argument("--svg", type=Path, default=SVG)
    args = parser.parse_args(argv)
    results = [run_arm(arm, args.attacks, args.submissions, args.seed + i)
               for i, arm in enumerate((GUARD_OFF, GUARD_ON, LADDER_ONLY))]
    print(table(results, args.attacks))
    args.svg.parent.mkdir(parents=True, exist_ok=True)
    args.svg.write_text(svg(results, args.attacks), encoding="utf-8")
    print(f"wrote {args.svg}")
    off, on = results[:2]
    ok = off.false_rate_by(SUBMISSIONS) > 0.5 and on.false_rate_by(SUBMISSIONS) <= ALPHA
    print("acceptance:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
