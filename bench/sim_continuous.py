"""Monte Carlo validation of the t intervals in ``gatekeeper.stats.continuous``.

Every cell simulates R replications at once (R x n arrays, in batches) and applies the same
formulas as the library, vectorised. The first replications of each cell are also run through
the library function itself and must agree to 1e-9, so a cell validates the shipped code and not
a copy of it.

Cells (alpha = 0.025 one-sided, 95% two-sided intervals, margin m = 0.1):
- type1: the true Δ sits on the margin boundary (Δ = -m); a pass is "lower limit > -m", which
  must happen at most alpha of the time (conservative is fine);
- coverage: the 95% interval holds the true Δ;
- power: the true Δ is -m + MDE, reported (about 0.8) but not judged.

The paired cells apply the library's skew guard (n < 25·g1² with the long tail on the losing
side: no verdict, never a pass) to the false-pass rate; coverage is that of the t interval the
library reports. The clustered cells use CR2 with Bell-McCaffrey df, as the library does.

Rows whose method name ends in "(not used)" show why a tempting alternative is not used (naive
SE under clustering, z at small K, percentile bootstrap at small K, CR1 with G-1 df, the t test
without the skew guard); the runner reports them without judging them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from bench.simlib import SimRow
from gatekeeper.stats.continuous import (
    JOHNSON_MIN_SKEW,
    JOHNSON_PER_SKEW2,
    cochran_limit,
    compare_paired_mean,
    compare_replicates,
    cr2_from_sums,
)
from gatekeeper.stats.power import mde as power_mde
from gatekeeper.stats.types import Hypothesis

MARGIN = 0.1
HYP = Hypothesis(confidence=0.95, margin=MARGIN)
ALPHA = HYP.alpha_one_sided
NOT_USED = " (not used)"
# Elements per simulated batch (R_batch x n): ~32 MiB of float64.
_BATCH_ELEMENTS = 1 << 22

Noise = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]


def _normal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal(shape)


def _lognormal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    # exp(Z) - E[exp(Z)]: mean 0, skewness 6.2; rare large gains of the candidate.
    return np.exp(rng.standard_normal(shape)) - np.exp(0.5)


def _neg_lognormal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    # Rare large regressions: the direction in which skewness makes a t test pass too often.
    return -_lognormal(rng, shape)


def _t3(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.standard_t(3, size=shape)


NOISES: dict[str, Noise] = {
    "normal": _normal,
    "lognormal": _lognormal,
    "-lognormal": _neg_lognormal,
    "t3": _t3,
}


def _rows(
    method: str, cell: str, low: np.ndarray, high: np.ndarray, truth: float, r: int,
    no_verdict: np.ndarray | None = None,
) -> list[SimRow]:
    """Coverage of [low, high] and the false-pass rate; ``no_verdict`` marks replications the
    library declares degenerate (never a pass), as the decision does."""
    cover = float(np.mean((low <= truth) & (truth <= high)))
    passed = low > -MARGIN
    if no_verdict is not None:
        passed &= ~no_verdict
    false_pass = float(np.mean(passed))
    return [
        SimRow(method, cell, "coverage", cover, 0.95, r),
        SimRow(method, cell, "type1", false_pass, ALPHA, r),
    ]


def _t_interval(mean: np.ndarray, se: np.ndarray, df: np.ndarray | float) -> tuple[
    np.ndarray, np.ndarray
]:
    crit = stats.t.ppf(1.0 - ALPHA, df)
    return mean - crit * se, mean + crit * se


def _check(expected: tuple[float, float], got: tuple[float, float], what: str) -> None:
    if not np.allclose(expected, got, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{what}: vectorised {expected} != library {got}")


# ---------------------------------------------------------------- paired per-example scores


def _johnson(d: np.ndarray, mean: np.ndarray, sd: np.ndarray, g1: np.ndarray, n: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Johnson's skewness-corrected t limits, row by row; ``ok`` False where no lower limit."""
    se = sd / np.sqrt(n)
    m3 = g1 * sd**3 * ((n - 1) / n) ** 1.5
    a = m3 / (6.0 * sd * sd * n)
    b = m3 / (3.0 * sd**4)
    crit = stats.t.ppf(1.0 - ALPHA, n - 1)

    def solve(c: float) -> tuple[np.ndarray, np.ndarray]:
        disc = 1.0 - 4.0 * b * (a - c * se)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(np.abs(b) < 1e-300, c * se - a,
                         (-1.0 + np.sqrt(np.maximum(disc, 0.0))) / (2.0 * b))
        return u, disc >= 0.0

    u_low, ok_low = solve(crit)
    u_high, ok_high = solve(-crit)
    lo, hi = mean - u_low, mean - u_high
    return np.minimum(lo, hi), np.maximum(lo, hi), ok_low & ok_high


def _paired_cell(
    rng: np.random.Generator, noise: Noise, n: int, r: int, truth: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Limits as the library computes them (plain t, or Johnson's t for differences skewed
    towards losses), the no-verdict flags, and the plain t limits for the "(not used)" row."""
    lows, highs, unsafe, plain_lows, plain_highs = [], [], [], [], []
    batch = max(1, _BATCH_ELEMENTS // n)
    checked = False
    for start in range(0, r, batch):
        rows = min(batch, r - start)
        d = truth + noise(rng, (rows, n))
        mean = d.mean(axis=1)
        sd = d.std(axis=1, ddof=1)
        plain_low, plain_high = _t_interval(mean, sd / np.sqrt(n), n - 1)
        g1 = stats.skew(d, axis=1)
        guard = (n < cochran_limit(g1)) & (g1 < 0)
        use_j = ~guard & (g1 <= -JOHNSON_MIN_SKEW) & (n < JOHNSON_PER_SKEW2 * g1 * g1)
        j_low, j_high, j_ok = _johnson(d, mean, sd, g1, n)
        low = np.where(use_j, j_low, plain_low)
        high = np.where(use_j, j_high, plain_high)
        guard = guard | (use_j & ~j_ok)
        if not checked:
            for i in range(min(3, rows)):
                lib = compare_paired_mean(d[i], np.zeros(n), HYP)
                if not guard[i]:
                    _check((low[i], high[i]), lib.ci, f"paired-t n={n}")
                if lib.degenerate != bool(guard[i]):
                    raise AssertionError(f"paired-t n={n}: skew guard differs from the library")
            checked = True
        lows.append(low)
        highs.append(high)
        unsafe.append(guard)
        plain_lows.append(plain_low)
        plain_highs.append(plain_high)
    return (np.concatenate(lows), np.concatenate(highs), np.concatenate(unsafe),
            np.concatenate(plain_lows), np.concatenate(plain_highs))


def paired_rows(replications: int, seed: int) -> list[SimRow]:
    out: list[SimRow] = []
    for i, (name, noise) in enumerate(NOISES.items()):
        for j, n in enumerate((30, 100, 1000)):
            rng = np.random.default_rng([seed, 1, i, j])
            low, high, unsafe, plain_low, plain_high = _paired_cell(rng, noise, n,
                                                                    replications, -MARGIN)
            cell = f"{name} d, n={n}"
            out += _rows("paired-t", cell, low, high, -MARGIN, replications, unsafe)
            if name == "-lognormal":
                out += _rows("plain paired-t without the skew guards" + NOT_USED, cell,
                             plain_low, plain_high, -MARGIN, replications)
    # Power at the MDE the library reports for a known-SD normal d.
    for n in (30, 100):
        rng = np.random.default_rng([seed, 2, n])
        mde = power_mde(1.0 / np.sqrt(n), ALPHA, df=n - 1)
        low, _, unsafe, _, _ = _paired_cell(rng, _normal, n, replications, -MARGIN + mde)
        out.append(
            SimRow("paired-t", f"normal d, n={n}, Δ=-m+MDE", "power",
                   float(np.mean((low > -MARGIN) & ~unsafe)), 0.8, replications)
        )
    return out


# ----------------------------------------------------------------------------- replicates


def _welch(c: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kc, kb = c.shape[1], b.shape[1]
    a = c.var(axis=1, ddof=1) / kc
    v = b.var(axis=1, ddof=1) / kb
    se = np.sqrt(a + v)
    df = (a + v) ** 2 / (a * a / (kc - 1) + v * v / (kb - 1))
    return c.mean(axis=1) - b.mean(axis=1), se, df


def replicate_rows(replications: int, seed: int) -> list[SimRow]:
    out: list[SimRow] = []
    r = replications
    z = float(stats.norm.ppf(1 - ALPHA))
    for j, k in enumerate((3, 5, 10, 20)):
        for s, (sd_c, sd_b) in enumerate(((1.0, 1.0), (2.0, 1.0))):
            rng = np.random.default_rng([seed, 3, j, s])
            c = -MARGIN + sd_c * rng.standard_normal((r, k))
            b = sd_b * rng.standard_normal((r, k))
            delta, se, df = _welch(c, b)
            low, high = _t_interval(delta, se, df)
            for i in range(3):
                lib = compare_replicates(c[i], b[i], HYP, None, None)
                _check((low[i], high[i]), lib.ci, f"welch-t K={k}")
            cell = f"K={k}, sd {sd_c:g}:{sd_b:g}"
            out += _rows("welch-t", cell, low, high, -MARGIN, r)
            if k <= 5 and sd_c == sd_b:
                out += _rows("z with sample SD" + NOT_USED, cell, delta - z * se,
                             delta + z * se, -MARGIN, r)
                out += _percentile_bootstrap_rows(rng, c, b, cell, r)
        # Seeds matched: a shared seed effect (sd 1) plus model noise (sd 0.5).
        rng = np.random.default_rng([seed, 4, j])
        shared = rng.standard_normal((r, k))
        c = shared - MARGIN + 0.5 * rng.standard_normal((r, k))
        b = shared + 0.5 * rng.standard_normal((r, k))
        d = c - b
        se = d.std(axis=1, ddof=1) / np.sqrt(k)
        low, high = _t_interval(d.mean(axis=1), se, k - 1)
        seeds = list(range(k))
        for i in range(3):
            # Baseline seeds in reverse order: the library must pair by seed value.
            lib = compare_replicates(c[i], b[i][::-1], HYP, seeds, seeds[::-1])
            _check((low[i], high[i]), lib.ci, f"paired-t seeds K={k}")
        out += _rows("paired-t (seeds)", f"K={k}, shared seed effect", low, high, -MARGIN, r)
    return out


def _percentile_bootstrap_rows(
    rng: np.random.Generator, c: np.ndarray, b: np.ndarray, cell: str, r: int
) -> list[SimRow]:
    """Two-sample percentile bootstrap with 400 resamples, vectorised over replications."""
    k = c.shape[1]
    boots = 400
    lows, highs = np.empty(r), np.empty(r)
    batch = max(1, _BATCH_ELEMENTS // (boots * k))
    for start in range(0, r, batch):
        rows = min(batch, r - start)
        ic = rng.integers(0, k, size=(rows, boots, k))
        ib = rng.integers(0, k, size=(rows, boots, k))
        cs = np.take_along_axis(c[start : start + rows, None, :], ic, axis=2).mean(axis=2)
        bs = np.take_along_axis(b[start : start + rows, None, :], ib, axis=2).mean(axis=2)
        q = np.quantile(cs - bs, [ALPHA, 1 - ALPHA], axis=1)
        lows[start : start + rows], highs[start : start + rows] = q[0], q[1]
    return _rows("percentile bootstrap" + NOT_USED, cell, lows, highs, -MARGIN, r)


# ------------------------------------------------------------------------------- clusters


def _cluster_stats(
    sums: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean, CR2 SE and Bell-McCaffrey df from per-cluster sums (R x G), as the library."""
    n = float(sizes.sum())
    mean = sums.sum(axis=1) / n
    centred = sums - mean[:, None] * sizes[None, :]
    var = (centred**2 / (1.0 - sizes / n)[None, :]).sum(axis=1) / (n * n)
    _, df = cr2_from_sums(np.zeros(sizes.size), sizes)
    return mean, np.sqrt(var), df


def _cluster_stats_cr1(
    sums: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and Miller's eq. 8 SE (CR1, G/(G-1)) with G - 1 df: the former default."""
    n = float(sizes.sum())
    g = sizes.size
    mean = sums.sum(axis=1) / n
    centred = sums - mean[:, None] * sizes[None, :]
    var = (centred**2).sum(axis=1) / (n * n) * g / (g - 1)
    return mean, np.sqrt(var), g - 1


def _simulate_cluster_sums(
    rng: np.random.Generator, sizes: np.ndarray, icc: float, truth: float, r: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums and the within-cluster sum of squares of d = Δ + u_c + e_ic.

    Var(u) = icc, Var(e) = 1 - icc. For normal e the cluster sums and the within-cluster SS
    (a scaled chi-square) are sufficient, so G = 1000 costs R x G numbers, not R x n.
    """
    g = sizes.size
    u = np.sqrt(icc) * rng.standard_normal((r, g))
    e = np.sqrt((1.0 - icc) * sizes)[None, :] * rng.standard_normal((r, g))
    sums = sizes[None, :] * (truth + u) + e
    within = (1.0 - icc) * rng.chisquare(float(sizes.sum() - g), size=r)
    return sums, within


def _check_cluster_formula(rng: np.random.Generator, sizes: np.ndarray) -> None:
    labels = np.repeat(np.arange(sizes.size), sizes.astype(int))
    d = rng.standard_normal(labels.size) + rng.standard_normal(sizes.size)[labels]
    sums = np.bincount(labels, weights=d)[None, :]
    mean, se, df = _cluster_stats(sums, sizes)
    low, high = _t_interval(mean, se, df)
    lib = compare_paired_mean(d, np.zeros_like(d), HYP, clusters=labels)
    _check((low[0], high[0]), lib.ci, f"cluster-t G={sizes.size}")


def cluster_rows(replications: int, seed: int) -> list[SimRow]:
    out: list[SimRow] = []
    r = replications
    z = float(stats.norm.ppf(1 - ALPHA))
    for j, g in enumerate((10, 50, 1000)):
        # Unequal cluster sizes (2..18 examples, mean 10), fixed within a cell.
        sizes = np.random.default_rng([seed, 5, j]).integers(2, 19, size=g).astype(np.float64)
        _check_cluster_formula(np.random.default_rng([seed, 6, j]), sizes)
        n = float(sizes.sum())
        for i, icc in enumerate((0.0, 0.3, 0.7)):
            rng = np.random.default_rng([seed, 7, j, i])
            sums, within = _simulate_cluster_sums(rng, sizes, icc, -MARGIN, r)
            mean, se, df = _cluster_stats(sums, sizes)
            cell = f"G={g}, ICC={icc:g}"
            low, high = _t_interval(mean, se, df)
            out += _rows("cluster-t", cell, low, high, -MARGIN, r)
            if icc == 0.3 and g <= 50:
                out += _rows("cluster z" + NOT_USED, cell, mean - z * se, mean + z * se,
                             -MARGIN, r)
                m1, se1, df1 = _cluster_stats_cr1(sums, sizes)
                l1, h1 = _t_interval(m1, se1, df1)
                out += _rows("CR1 (eq. 8), G-1 df" + NOT_USED, cell, l1, h1, -MARGIN, r)
                between = ((sums / sizes[None, :] - mean[:, None]) ** 2 * sizes[None, :]).sum(1)
                naive_se = np.sqrt((within + between) / (n - 1) / n)
                nl, nh = _t_interval(mean, naive_se, n - 1)
                out += _rows("naive paired-t" + NOT_USED, cell, nl, nh, -MARGIN, r)
        if g == 50:
            # Power at the MDE the library would report, with the SE's expected size at ICC .3.
            rng = np.random.default_rng([seed, 8, j])
            ref, _ = _simulate_cluster_sums(rng, sizes, 0.3, 0.0, 4000)
            typical_se = float(np.sqrt(np.mean(_cluster_stats(ref, sizes)[1] ** 2)))
            df = _cluster_stats(ref[:1], sizes)[2]
            mde = power_mde(typical_se, ALPHA, df=df)
            sums, _ = _simulate_cluster_sums(rng, sizes, 0.3, -MARGIN + mde, r)
            mean, se, df = _cluster_stats(sums, sizes)
            low, _ = _t_interval(mean, se, df)
            out.append(SimRow("cluster-t", f"G={g}, ICC=0.3, Δ=-m+MDE", "power",
                              float(np.mean(low > -MARGIN)), 0.8, r))
    return out


def run(replications: int, seed: int) -> list[SimRow]:
    """All continuous cells, deterministic in ``seed``."""
    return [
        *paired_rows(replications, seed),
        *replicate_rows(replications, seed),
        *cluster_rows(replications, seed),
    ]
