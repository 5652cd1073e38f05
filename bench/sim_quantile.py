"""Monte Carlo checks of the latency, cost and non-decomposable methods.

``run(replications, seed)`` returns one :class:`SimRow` per cell, every cell drawing its data
from its own seeded stream. Cells:

- coverage of the 95% Harrell-Davis + percentile-bootstrap interval of p95 (lognormal and
  Pareto(1.5), n = 100), next to the plain type-7 percentile bootstrap that the gate does not
  use;
- false-pass rate of ``compare_quantile`` at the non-inferiority boundary (the candidate's
  quantile is exactly e^m times the baseline's), unpaired and paired;
- coverage of the delta-method cost-per-success interval, and of the log-ratio comparison for
  heavy-tailed costs with the delta method and with the automatic bootstrap-t;
- coverage of the paired-bootstrap F1 difference, over examples and over clusters.

Every bootstrap uses B = 2,000 resamples. The type-7 demonstration rows run at most
R = 2,000 replications (``DEMO_REPLICATIONS``); every judged cell runs the R it is given.
``python -m bench.sim_quantile 1000`` prints the table.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from bench.simlib import SimRow, format_table
from gatekeeper.stats.bootstrap import compare_paired_bootstrap
from gatekeeper.stats.decision import decide
from gatekeeper.stats.quantile import compare_quantile, quantile_with_interval
from gatekeeper.stats.ratio import compare_ratio, ratio_of_means
from gatekeeper.stats.types import Hypothesis, Outcome

RESAMPLES = 2000
CONFIDENCE = 0.95
PASSING = (Outcome.IMPROVED, Outcome.NON_INFERIOR)

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def _lognormal(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.lognormal(0.0, 1.0, n)


def _pareto(rng: np.random.Generator, n: int) -> np.ndarray:
    # numpy's pareto is the Lomax form; +1 gives the classical Pareto with x_m = 1.
    return rng.pareto(1.5, n) + 1.0


TRUE_P95 = {
    "lognormal": math.exp(float(stats.norm.ppf(0.95))),
    "Pareto(1.5)": 0.05 ** (-1.0 / 1.5),
}
SAMPLERS: dict[str, Sampler] = {"lognormal": _lognormal, "Pareto(1.5)": _pareto}


def _stream(seed: int, cell: int) -> np.random.Generator:
    return np.random.default_rng([seed, cell])


def hd_coverage(dist: str, n: int, replications: int, seed: int, cell: int) -> SimRow:
    rng = _stream(seed, cell)
    hits = 0
    for _ in range(replications):
        x = SAMPLERS[dist](rng, n)
        _, (low, high) = quantile_with_interval(
            x, 0.95, CONFIDENCE, RESAMPLES, int(rng.integers(2**31))
        )
        hits += low <= TRUE_P95[dist] <= high
    return SimRow(
        "HD + percentile bootstrap p95", f"{dist}, n={n}", "coverage",
        hits / replications, CONFIDENCE, replications,
    )


def type7_coverage(dist: str, n: int, replications: int, seed: int, cell: int) -> SimRow:
    rng = _stream(seed, cell)
    hits = 0
    alpha = 1.0 - CONFIDENCE
    for _ in range(replications):
        x = SAMPLERS[dist](rng, n)
        boot = np.quantile(x[rng.integers(0, n, size=(RESAMPLES, n))], 0.95, axis=1)
        low, high = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
        hits += low <= TRUE_P95[dist] <= high
    return SimRow(
        "type-7 percentile bootstrap p95 (not used)", f"{dist}, n={n}", "coverage",
        hits / replications, CONFIDENCE, replications,
    )


def quantile_type1(
    q: float, n: int, paired: bool, replications: int, seed: int, cell: int
) -> SimRow:
    """Latency candidate exactly e^m slower in the quantile: a pass is a false pass."""
    margin = 0.1
    hypothesis = Hypothesis(confidence=CONFIDENCE, margin=margin, higher_is_better=False)
    rng = _stream(seed, cell)
    passes = 0
    rho = 0.8
    for _ in range(replications):
        z = rng.standard_normal(n)
        baseline = np.exp(z)
        if paired:
            # Gaussian copula: same requests, correlated latencies, lognormal(m, 1) marginal.
            candidate = np.exp(margin + rho * z + math.sqrt(1 - rho**2) * rng.standard_normal(n))
        else:
            candidate = np.exp(margin + rng.standard_normal(n))
        result = compare_quantile(
            candidate, baseline, q, hypothesis, paired=paired, resamples=RESAMPLES,
            seed=int(rng.integers(2**31)),
        )
        passes += decide(result, hypothesis) in PASSING
    label = f"p{round(q * 100):d}"
    kind = "paired (ρ=0.8)" if paired else "unpaired"
    return SimRow(
        "HD bootstrap log-ratio comparison", f"{label} lognormal n={n} {kind}, at margin",
        "type1", passes / replications, hypothesis.alpha_one_sided, replications,
    )


def ratio_coverage(replications: int, seed: int, cell: int) -> SimRow:
    """Cost per success with costs that depend on success (the covariance term matters)."""
    n, p_success = 500, 0.9
    shape, scale = 4.0, 0.001
    truth = shape * scale * (1.0 + p_success) / p_success
    rng = _stream(seed, cell)
    hits = 0
    for _ in range(replications):
        success = (rng.random(n) < p_success).astype(np.float64)
        cost = rng.gamma(shape, scale, n) * (1.0 + success)
        _, (low, high), _ = ratio_of_means(cost, success, CONFIDENCE)
        hits += low <= truth <= high
    return SimRow(
        "delta-method ratio of means", "cost per success, gamma costs, n=500", "coverage",
        hits / replications, CONFIDENCE, replications,
    )


def heavy_ratio(method: str, replications: int, seed: int, cell: int) -> list[SimRow]:
    """log(R_c/R_b) with a lognormal(σ=1.5) candidate (n=300) vs a gamma baseline (n=3000)
    of the same mean cost per request: the true log ratio is 0.

    ``method="auto"`` is what the product does: the false-pass row counts the decisions that
    pass (lower is better, margin 0, so a pass claims the candidate is no costlier); results
    that the Hill tail-index guard marks degenerate never pass. Its coverage row covers only
    the comparisons that give a verdict, so its R is their number. ``method="delta"`` is the
    delta-method interval on its own, with no guard: a "(not used)" row showing why the guard
    exists (false pass = interval wholly below the truth)."""
    sigma, n_c, n_b = 1.5, 300, 3000
    mean = math.exp(sigma**2 / 2.0)
    hypothesis = Hypothesis(confidence=CONFIDENCE, higher_is_better=False)
    rng = _stream(seed, cell)
    hits = 0
    passes = 0
    verdicts = 0
    used_t = 0
    for _ in range(replications):
        cand = rng.lognormal(0.0, sigma, n_c)
        base = rng.gamma(2.0, mean / 2.0, n_b)
        result = compare_ratio(
            cand, np.ones(n_c), base, np.ones(n_b), hypothesis, method=method,
            resamples=RESAMPLES, seed=int(rng.integers(2**31)),
        )
        used_t += result.method == "bootstrap-t-log-ratio"
        if method == "delta":
            hits += result.ci[0] <= 0.0 <= result.ci[1]
            passes += result.ci[1] < 0.0
            continue
        passes += decide(result, hypothesis) in PASSING
        if not result.degenerate:
            verdicts += 1
            hits += result.ci[0] <= 0.0 <= result.ci[1]
    cell_name = f"lognormal σ={sigma} n={n_c} vs gamma n={n_b}"
    if method == "delta":
        name = "log ratio of mean cost, delta-method interval without the tail guard (not used)"
        return [
            SimRow(name, cell_name, "coverage", hits / replications, CONFIDENCE, replications),
            SimRow(name, cell_name + ", upper bound below truth", "type1",
                   passes / replications, hypothesis.alpha_one_sided, replications),
        ]
    name = (
        f"log ratio of mean cost, auto ({replications - verdicts}/{replications} no verdict, "
        f"{used_t} bootstrap-t)"
    )
    rows = [
        SimRow(name, cell_name + ", decision passes", "type1", passes / replications,
               hypothesis.alpha_one_sided, replications),
    ]
    if verdicts:
        rows.insert(0, SimRow(name, cell_name + ", comparisons with a verdict", "coverage",
                              hits / verdicts, CONFIDENCE, verdicts))
    return rows


# Cells (pred_c, pred_b, gold) in the order code = 4 pred_c + 2 pred_b + gold.
def _cell_probs(prevalence: float) -> np.ndarray:
    # Candidate correct with .87, baseline .84, errors positively correlated.
    both_right, c_only, b_only = 0.80, 0.07, 0.04
    both_wrong = 1.0 - both_right - c_only - b_only
    probs = np.zeros(8)
    for gold, weight in ((1, prevalence), (0, 1.0 - prevalence)):
        for c_right, b_right, p in (
            (1, 1, both_right), (1, 0, c_only), (0, 1, b_only), (0, 0, both_wrong)
        ):
            pc = gold if c_right else 1 - gold
            pb = gold if b_right else 1 - gold
            probs[4 * pc + 2 * pb + gold] += weight * p
    return probs


def _true_f1_delta(probs: np.ndarray) -> float:
    code = np.arange(8)
    pc, pb, gold = code >> 2, (code >> 1) & 1, code & 1

    def f1(pred: np.ndarray) -> float:
        tp = probs[(pred == 1) & (gold == 1)].sum()
        fp = probs[(pred == 1) & (gold == 0)].sum()
        fn = probs[(pred == 0) & (gold == 1)].sum()
        return float(2 * tp / (2 * tp + fp + fn))

    return f1(pc) - f1(pb)


def f1_coverage(clustered: bool, replications: int, seed: int, cell: int) -> SimRow:
    rng = _stream(seed, cell)
    groups, size = 40, 10
    n = groups * size if clustered else 500
    # Clustered: prevalence varies by cluster (Beta with mean .3); the cell probabilities are
    # linear in the prevalence, so the population F1 uses the mean prevalence.
    truth = _true_f1_delta(_cell_probs(0.3))
    hypothesis = Hypothesis(confidence=CONFIDENCE)
    hits = 0
    for _ in range(replications):
        if clustered:
            prev = rng.beta(1.5, 3.5, groups)
            codes = np.concatenate(
                [rng.choice(8, size=size, p=_cell_probs(float(p))) for p in prev]
            )
            cluster_ids: np.ndarray | None = np.repeat(np.arange(groups), size)
        else:
            codes = rng.choice(8, size=n, p=_cell_probs(0.3))
            cluster_ids = None
        result = compare_paired_bootstrap(
            codes >> 2, (codes >> 1) & 1, hypothesis, statistic="f1", labels=codes & 1,
            clusters=cluster_ids, resamples=RESAMPLES, seed=int(rng.integers(2**31)),
        )
        hits += result.ci[0] <= truth <= result.ci[1]
    cell_name = f"{groups} clusters × {size}, prevalence varies" if clustered else f"n={n}"
    return SimRow(
        "paired bootstrap ΔF1", cell_name, "coverage", hits / replications, CONFIDENCE,
        replications,
    )


# The type-7 rows are demonstrations (not judged); their miss of about .06 is 20 MC errors
# wide already at this R, so more replications would only cost time.
DEMO_REPLICATIONS = 2000


def run(replications: int, seed: int) -> list[SimRow]:
    """All cells at ``replications`` each (B = 2,000 resamples per bootstrap); the type-7
    demonstration rows at min(replications, DEMO_REPLICATIONS)."""
    r = replications
    demo = min(r, DEMO_REPLICATIONS)
    return [
        hd_coverage("lognormal", 100, r, seed, 1),
        type7_coverage("lognormal", 100, demo, seed, 1),
        hd_coverage("Pareto(1.5)", 100, r, seed, 2),
        type7_coverage("Pareto(1.5)", 100, demo, seed, 2),
        quantile_type1(0.95, 400, False, r, seed, 3),
        quantile_type1(0.95, 400, True, r, seed, 4),
        quantile_type1(0.5, 100, False, r, seed, 5),
        quantile_type1(0.99, 2000, False, r, seed, 6),
        ratio_coverage(r, seed, 7),
        *heavy_ratio("delta", r, seed, 8),
        *heavy_ratio("auto", r, seed, 8),
        f1_coverage(False, r, seed, 9),
        f1_coverage(True, r, seed, 10),
    ]


def main(argv: list[str]) -> int:
    replications = int(argv[0]) if argv else 1000
    seed = int(argv[1]) if len(argv) > 1 else 0
    start = time.perf_counter()
    rows = run(replications, seed)
    sys.stdout.write(format_table(rows) + "\n")
    sys.stdout.write(f"\nR={replications}, seed={seed}, {time.perf_counter() - start:.0f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
