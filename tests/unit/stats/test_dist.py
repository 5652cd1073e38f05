"""gatekeeper.stats.dist against scipy.stats (the light module must agree to ~1e-12)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from gatekeeper.stats import dist


@pytest.mark.parametrize("p", [1e-12, 1e-6, 0.0125, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999999])
def test_normal(p: float) -> None:
    assert dist.norm_ppf(p) == pytest.approx(stats.norm.ppf(p), rel=1e-12, abs=1e-12)
    x = stats.norm.ppf(p)
    assert dist.norm_cdf(x) == pytest.approx(stats.norm.cdf(x), rel=1e-12)
    assert dist.norm_sf(x) == pytest.approx(stats.norm.sf(x), rel=1e-12)


def test_normal_edges() -> None:
    assert dist.norm_ppf(0.0) == -math.inf and dist.norm_ppf(1.0) == math.inf
    assert dist.norm_sf(30.0) == pytest.approx(stats.norm.sf(30.0), rel=1e-10)  # far tail


@pytest.mark.parametrize("df", [1, 2, 2.5, 4, 9, 30, 399, 1e6])
@pytest.mark.parametrize("p", [0.001, 0.025, 0.5, 0.8, 0.975])
def test_student_t(df: float, p: float) -> None:
    assert dist.t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-10, abs=1e-12)
    x = stats.t.ppf(p, df)
    assert dist.t_cdf(x, df) == pytest.approx(stats.t.cdf(x, df), rel=1e-10)
    assert dist.t_sf(x, df) == pytest.approx(stats.t.sf(x, df), rel=1e-10)


@pytest.mark.parametrize(("a", "b"), [(10, 1), (13, 4), (1, 11), (0.5, 0.5), (200, 3)])
def test_beta_ppf(a: float, b: float) -> None:
    for p in (0.025, 0.5, 0.975):
        assert dist.beta_ppf(p, a, b) == pytest.approx(stats.beta.ppf(p, a, b), rel=1e-10)


@pytest.mark.parametrize("n", [1, 2, 7, 22, 160, 5000])
def test_binomial(n: int) -> None:
    for k in range(-1, n + 2, max(1, n // 7)):
        assert dist.binom_cdf(k, n, 0.5) == pytest.approx(stats.binom.cdf(k, n, 0.5), abs=1e-13)
        assert dist.binom_sf(k, n, 0.5) == pytest.approx(stats.binom.sf(k, n, 0.5), abs=1e-13)
        assert dist.binom_pmf(k, n, 0.5) == pytest.approx(stats.binom.pmf(k, n, 0.5),
                                                          rel=1e-10, abs=1e-300)


def test_bisect_root() -> None:
    root = dist.bisect_root(lambda x: x**3 - 2.0, 0.0, 2.0)
    assert root == pytest.approx(2.0 ** (1 / 3), abs=1e-12)
