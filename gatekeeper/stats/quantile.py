"""Latency quantiles: Harrell-Davis estimates and their bootstrap comparison.

The Harrell-Davis (1982) estimator of the q-quantile is a weighted mean of all order statistics,
sum_i W_i x_(i), with W_i = I_{i/n}(a, b) - I_{(i-1)/n}(a, b), a = (n+1)q, b = (n+1)(1-q), where
I is the regularised incomplete Beta function. It is far less noisy than a single order
statistic in the tail, which is why its percentile bootstrap covers where a type-7 percentile
bootstrap does not (STATISTICS.md §2; Wilcox's ``qcomhd``).

Bootstrap without sorting resamples. A resample is fully described by how many times it draws
each sorted position; with cumulative counts C_j, its HD estimate is
sum_j x_(j) (G[C_j] - G[C_j - c_j]) with G[m] = I_{m/n}(a, b) tabulated once per n. Only a
window of ranks around nq carries weight, so positions far below (above) that window are merged
into one "below" ("above") category of the multinomial: the draw is exact, the cost is
O(B * window) instead of O(B * n log n), and the weight left outside the window is checked
(the whole computation is redone without a window if it ever exceeds 1e-9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gatekeeper.stats.bootstrap import percentile_summary
from gatekeeper.stats.types import Comparison, Hypothesis

# A tail quantile needs at least this many observations beyond it (STATISTICS.md §2).
MIN_TAIL_COUNT = 20
# Half-width of the rank window in standard deviations of the HD weight distribution.
_WINDOW_SDS = 15.0
_WINDOW_SLACK = 20
# Resample counts are processed in blocks of at most this many cells (bounded memory).
_BLOCK_CELLS = 1 << 21
# Weight allowed outside the window before falling back to the full computation.
_MAX_IGNORED_WEIGHT = 1e-9


def _check_q(q: float) -> None:
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level must be in (0, 1), got {q}")


def quantile_label(q: float) -> str:
    """'p95' for 0.95, 'p99.9' for 0.999."""
    return f"p{round(q * 100.0, 6):g}"


def hd_cdf_grid(n: int, q: float) -> np.ndarray:
    """G[m] = I_{m/n}((n+1)q, (n+1)(1-q)) for m = 0..n (length n + 1)."""
    _check_q(q)
    if n < 1:
        raise ValueError("need at least one observation")
    # lazy: scipy.special only when a quantile is estimated (off the binary and mean paths)
    from scipy import special

    grid = special.betainc((n + 1) * q, (n + 1) * (1.0 - q), np.arange(n + 1) / n)
    grid[0], grid[-1] = 0.0, 1.0
    return np.asarray(grid, dtype=np.float64)


def hd_weights(n: int, q: float) -> np.ndarray:
    """The n Harrell-Davis weights of the sorted sample (they sum to 1)."""
    return np.diff(hd_cdf_grid(n, q))


def _as_sample(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def harrell_davis(x: np.ndarray, q: float) -> float:
    """Harrell-Davis estimate of the q-quantile of a 1-D sample."""
    arr = _as_sample(x, "sample")
    return float(hd_weights(arr.size, q) @ np.sort(arr))


def harrell_davis_rows(x: np.ndarray, q: float, *, presorted: bool = False) -> np.ndarray:
    """Harrell-Davis estimate of every row of a (B, n) array (rows sorted here unless
    ``presorted``)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"expected a (B, n) array, got shape {arr.shape}")
    rows = arr if presorted else np.sort(arr, axis=1)
    return np.asarray(rows @ hd_weights(arr.shape[1], q))


def harrell_davis_weighted(values: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """HD estimate of samples given as multiplicities of sorted distinct values.

    ``values`` (k,) is sorted ascending; ``counts`` (B, k) says how often each value occurs in
    each of B samples (e.g. multinomial bootstrap counts); every row must have the same total
    n. Costs O(B * k) with the Beta CDF tabulated once.
    """
    vals = np.asarray(values, dtype=np.float64)
    cnt = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    if cnt.shape[1] != vals.size:
        raise ValueError(f"counts have {cnt.shape[1]} columns for {vals.size} values")
    if vals.size > 1 and np.any(np.diff(vals) < 0):
        raise ValueError("values must be sorted ascending")
    cum = np.cumsum(cnt, axis=1)
    n = int(cum[0, -1])
    if np.any(cum[:, -1] != n):
        raise ValueError("every row of counts must have the same total")
    grid = hd_cdf_grid(n, q)
    weights = grid[cum] - grid[cum - cnt]
    return np.asarray(weights @ vals)


@dataclass(frozen=True)
class _Coordinate:
    """One sample seen through the resampling units: its rank window and sorted values."""

    values: np.ndarray  # window values in rank order
    window_cats: np.ndarray  # category index of each window position, in rank order
    below_cats: np.ndarray  # categories lying wholly below the window for this sample
    grid: np.ndarray


def _window(n: int, q: float) -> tuple[int, int]:
    half = math.ceil(_WINDOW_SDS * math.sqrt(n * q * (1.0 - q))) + _WINDOW_SLACK
    centre = n * q
    return max(0, math.floor(centre) - half), min(n, math.ceil(centre) + half)


def _hd_bootstrap(
    samples: list[np.ndarray], q: float, resamples: int, rng: np.random.Generator, *,
    windowed: bool = True,
) -> list[np.ndarray]:
    """Bootstrap HD estimates of each sample, resampling the n units jointly.

    ``samples`` are equally long arrays whose i-th entries belong to the same unit (one sample
    for an unpaired bootstrap, two for pairs). Returns one (resamples,) array per sample.
    """
    n = samples[0].size
    ranks = []
    windows = []
    for x in samples:
        order = np.argsort(x, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        ranks.append(rank)
        lo, hi = _window(n, q) if windowed else (0, n)
        if hi - lo > n // 2:
            lo, hi = 0, n
        windows.append((lo, hi))

    inside = np.zeros(n, dtype=bool)
    for rank, (lo, hi) in zip(ranks, windows, strict=True):
        inside |= (rank >= lo) & (rank < hi)
    singles = np.flatnonzero(inside)
    # Units outside every window merge into groups by where they lie (below/above) for each
    # sample; their order inside a group never matters because their HD weight is nil.
    outside = np.flatnonzero(~inside)
    signature = np.zeros(outside.size, dtype=np.int64)
    for rank, (lo, _hi) in zip(ranks, windows, strict=True):
        signature = signature * 2 + (rank[outside] >= lo)
    group_ids, group_sizes = np.unique(signature, return_counts=True)
    n_single = singles.size
    category_of_single = np.full(n, -1, dtype=np.int64)
    category_of_single[singles] = np.arange(n_single)

    grid = hd_cdf_grid(n, q)
    coordinates = []
    for k, (x, rank, (lo, hi)) in enumerate(zip(samples, ranks, windows, strict=True)):
        in_window = singles[(rank[singles] >= lo) & (rank[singles] < hi)]
        in_window = in_window[np.argsort(rank[in_window], kind="stable")]
        single_below = category_of_single[singles[rank[singles] < lo]]
        shift = len(samples) - 1 - k
        groups_below = n_single + np.flatnonzero(((group_ids >> shift) & 1) == 0)
        coordinates.append(
            _Coordinate(
                values=x[in_window],
                window_cats=category_of_single[in_window],
                below_cats=np.concatenate([single_below, groups_below]),
                grid=grid,
            )
        )

    estimates = [np.empty(resamples) for _ in samples]
    ignored = 0.0
    block = max(1, _BLOCK_CELLS // (n_single + group_sizes.size))
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        draws = _draw_counts(rng, n_single, group_sizes, stop - start)
        for coord, out in zip(coordinates, estimates, strict=True):
            below = draws[:, coord.below_cats].sum(axis=1)
            window_counts = draws[:, coord.window_cats]
            cum = below[:, None] + np.cumsum(window_counts, axis=1)
            weights = coord.grid[cum] - coord.grid[cum - window_counts]
            out[start:stop] = weights @ coord.values
            outside = coord.grid[below] + (1.0 - coord.grid[cum[:, -1]])
            ignored = max(ignored, float(np.max(outside)))
    if ignored > _MAX_IGNORED_WEIGHT and windowed:
        return _hd_bootstrap(samples, q, resamples, rng, windowed=False)
    return estimates


def _draw_counts(
    rng: np.random.Generator, n_single: int, group_sizes: np.ndarray, size: int
) -> np.ndarray:
    """(size, n_single + groups) bootstrap counts: n_single units of their own, then groups.

    Exactly Multinomial(n, (1/n, ..., 1/n, sizes/n)), drawn in two steps that avoid one
    binomial per single unit: how many draws land among the single units (a multinomial over
    1 + groups categories), then which single unit each of them hits (uniform integers).
    """
    n = n_single + int(group_sizes.sum())
    if group_sizes.size:
        top = rng.multinomial(n, np.concatenate([[n_single], group_sizes]) / n, size=size)
        hits = top[:, 0]
    else:
        top = np.zeros((size, 1), dtype=np.int64)
        hits = np.full(size, n, dtype=np.int64)
    rows = np.repeat(np.arange(size, dtype=np.int64), hits)
    cols = rng.integers(0, n_single, size=int(hits.sum()), dtype=np.int64)
    singles = np.bincount(rows * n_single + cols, minlength=size * n_single)
    return np.concatenate([singles.reshape(size, n_single), top[:, 1:]], axis=1)


def tail_note(n: int, q: float) -> str | None:
    """The tail guard: a note when fewer than 20 observations lie beyond the quantile."""
    beyond = n * min(q, 1.0 - q)
    if beyond >= MIN_TAIL_COUNT:
        return None
    side = "n(1−q)" if q >= 0.5 else "nq"
    return f"tail quantile {quantile_label(q)} needs {side} >= {MIN_TAIL_COUNT} (have {beyond:.4g})"


def quantile_with_interval(
    x: np.ndarray, q: float, confidence: float, resamples: int, seed: int
) -> tuple[float, tuple[float, float]]:
    """HD estimate of the q-quantile and its percentile-bootstrap interval, for absolute
    budgets such as "p95 <= 300 ms". Apply :func:`tail_note` to decide whether to trust it."""
    _check_q(q)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    arr = _as_sample(x, "sample")
    estimate = harrell_davis(arr, q)
    rng = np.random.default_rng(seed)
    (draws,) = _hd_bootstrap([arr], q, resamples, rng)
    alpha = 1.0 - confidence
    low, high = np.quantile(draws, [alpha / 2.0, 1.0 - alpha / 2.0])
    return estimate, (float(low), float(high))


def _latencies(x: np.ndarray, name: str) -> np.ndarray:
    arr = _as_sample(x, name)
    if np.any(arr <= 0.0):
        raise ValueError(f"{name} latencies must be positive to compare on the log scale")
    return arr


def compare_quantile(
    candidate: np.ndarray,
    baseline: np.ndarray,
    q: float,
    hypothesis: Hypothesis,
    *,
    paired: bool = False,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare the q-quantiles of two latency samples on the log ratio log(q_c / q_b).

    ``candidate``/``baseline`` of the result are the HD estimates in natural units; ``delta``,
    ``ci``, ``se`` and ``mde`` are in log units (scale "log_ratio"). The interval is the
    percentile interval of the bootstrap log ratio (Wilcox's qcomhd); with ``paired`` the
    requests are resampled jointly, which needs equally long arrays in the same request order.
    The p-value is for the hypothesis's oriented null, so a latency comparison (lower is
    better) is tested on -log ratio. Fewer than 20 observations beyond the quantile on either
    side, or a bootstrap without spread, make the comparison degenerate: never a pass.
    """
    _check_q(q)
    if resamples < 100:
        raise ValueError(f"need at least 100 resamples, got {resamples}")
    c = _latencies(candidate, "candidate")
    b = _latencies(baseline, "baseline")
    if paired and c.size != b.size:
        raise ValueError(
            f"paired latencies need the same requests: candidate {c.size}, baseline {b.size}"
        )
    hd_c, hd_b = harrell_davis(c, q), harrell_davis(b, q)
    delta = math.log(hd_c) - math.log(hd_b)
    rng = np.random.default_rng(seed)
    if paired:
        boot_c, boot_b = _hd_bootstrap([c, b], q, resamples, rng)
    else:
        (boot_c,) = _hd_bootstrap([c], q, resamples, rng)
        (boot_b,) = _hd_bootstrap([b], q, resamples, rng)
    draws = np.log(boot_c) - np.log(boot_b)

    label = quantile_label(q)
    method = "harrell-davis-bootstrap"
    reason = (
        f"latency {label}: Harrell-Davis estimates, percentile bootstrap of log(q_c/q_b) "
        f"({resamples} resamples, "
        + ("requests resampled in pairs" if paired else "samples resampled independently")
        + "; Wilcox qcomhd)."
    )
    guard = tail_note(min(c.size, b.size), q)
    notes: tuple[str, ...] = () if guard is None else (guard,)
    if np.ptp(draws) == 0.0:
        return Comparison.degenerate_result(
            method, reason, candidate=hd_c, baseline=hd_b, delta=delta, n=(c.size, b.size),
            confidence=hypothesis.confidence, se=0.0, scale="log_ratio",
            notes=(*notes, "every resample gives the same quantile ratio: no variance "
                   "information"),
        )
    ci, p_value, se, mde = percentile_summary(delta, draws, hypothesis)
    return Comparison(
        method=method, reason=reason, candidate=hd_c, baseline=hd_b, delta=delta, ci=ci,
        confidence=hypothesis.confidence, n=(c.size, b.size), p_value=p_value, mde=mde, se=se,
        scale="log_ratio", notes=notes, degenerate=bool(notes),
    )
