"""The few distribution functions the gate needs, without importing ``scipy.stats``.

``scipy.stats`` takes about half a second to import on a small CI machine, several times the cost
of the computations behind a verdict. The normal distribution comes from the standard library
(``statistics.NormalDist``: Wichura's AS241 quantile, double precision); Student t, beta and
binomial functions from ``scipy.special``, which ``scipy.stats`` itself calls. Reference values
against ``scipy.stats`` are in tests/unit/stats/test_dist.py.

``scipy.special`` itself is imported on first use: with numpy's array-API shims it costs more
than numpy, and a binary comparison by the Tango interval never needs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from types import ModuleType

_N = NormalDist()


def _special() -> ModuleType:
    # lazy: scipy.special only for the t, beta and binomial functions (off the Tango path)
    from scipy import special

    return special


def norm_ppf(p: float) -> float:
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return _N.inv_cdf(p)


def norm_cdf(x: float) -> float:
    # erfc keeps precision far in the tails, where 1 - cdf would round to 0.
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def t_ppf(p: float, df: float) -> float:
    return float(_special().stdtrit(df, p))


def t_cdf(x: float, df: float) -> float:
    return float(_special().stdtr(df, x))


def t_sf(x: float, df: float) -> float:
    return float(_special().stdtr(df, -x))


def beta_ppf(p: float, a: float, b: float) -> float:
    return float(_special().betaincinv(a, b, p))


def binom_cdf(k: int, n: int, p: float) -> float:
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return float(_special().bdtr(k, n, p))


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X > k)."""
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return float(_special().bdtrc(k, n, p))


def binom_pmf(k: int, n: int, p: float) -> float:
    if k < 0 or k > n:
        return 0.0
    log = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
           + (k * math.log(p) if k else 0.0) + ((n - k) * math.log1p(-p) if n - k else 0.0))
    return math.exp(log)


def bisect_root(f: Callable[[float], float], lo: float, hi: float, *, xtol: float = 1e-13,
                maxiter: int = 200) -> float:
    """A root of a continuous ``f`` with a sign change on [lo, hi] (the caller checks it).

    Bisection rather than Brent: the score functions it solves are monotone and cheap, and 60
    halvings of a unit interval reach machine precision without importing ``scipy.optimize``.
    """
    f_lo = f(lo)
    for _ in range(maxiter):
        mid = 0.5 * (lo + hi)
        if hi - lo <= xtol or mid in (lo, hi):
            return mid
        f_mid = f(mid)
        if f_mid == 0.0:
            return mid
        if (f_mid < 0.0) == (f_lo < 0.0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
