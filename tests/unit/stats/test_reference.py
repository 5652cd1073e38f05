"""The reference implementations the validation benches measure the gate against: textbook
values, statsmodels, and the properties the benches rely on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from gatekeeper.stats.fast import percentile_interval
from gatekeeper.stats.moments import cluster_sums
from gatekeeper.stats.reference import (
    bootstrap_paired_binary,
    clopper_pearson_interval,
    cluster_robust_variance,
    mcnemar_asymptotic_p,
    mcnemar_exact_p,
    mcnemar_midp,
    wald_paired_interval,
)

# [[n11, n10], [n01, n00]]: rows = candidate right/wrong, columns = baseline right/wrong.
N11, N10, N01, N00 = 59, 6, 16, 80
N = N11 + N10 + N01 + N00


def rounded(interval: tuple[float, float]) -> tuple[float, float]:
    return (round(interval[0], 4), round(interval[1], 4))


def test_wald_reference() -> None:
    assert rounded(wald_paired_interval(N10, N01, N, 0.95)) == (-0.1184, -0.0058)


def test_mcnemar_references() -> None:
    assert round(mcnemar_asymptotic_p(N10, N01), 6) == 0.033006
    assert round((N10 - N01) / math.sqrt(N10 + N01), 3) == -2.132
    assert round(mcnemar_exact_p(N10, N01), 6) == 0.052479
    assert round(mcnemar_midp(N10, N01), 6) == 0.034690


def test_mcnemar_matches_statsmodels() -> None:
    for n10, n01 in [(6, 16), (0, 5), (3, 3), (40, 25), (1, 0)]:
        table = [[10, n10], [n01, 10]]
        exact = mcnemar(table, exact=True).pvalue
        asym = mcnemar(table, exact=False, correction=False).pvalue
        assert mcnemar_exact_p(n10, n01) == pytest.approx(exact, abs=1e-12)
        assert mcnemar_asymptotic_p(n10, n01) == pytest.approx(asym, abs=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [(10, 10, (0.6915, 1.0)), (0, 10, (0.0, 0.3085)), (13, 16, (0.5435, 0.9595))],
)
def test_clopper_pearson_reference(k: int, n: int, expected: tuple[float, float]) -> None:
    low, high = clopper_pearson_interval(k, n, 0.95)
    assert (round(low, 4), round(high, 4)) == expected


def test_cluster_robust_variance_helper_matches_direct_sum() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=500)
    labels = rng.integers(0, 37, 500) * 1000  # sparse labels take the sorting path
    groups = cluster_sums(x, labels)
    var = cluster_robust_variance(x, groups)
    g = groups.n_clusters
    direct = sum(np.sum(x[labels == k] - x.mean()) ** 2 for k in np.unique(labels))
    assert var == pytest.approx(direct / 500**2 * g / (g - 1), rel=1e-12)


def test_binary_bootstrap_matches_the_paired_table() -> None:
    c = np.repeat([1, 1, 0, 0], [59, 6, 16, 80])
    b = np.repeat([1, 0, 1, 0], [59, 6, 16, 80])
    dist = bootstrap_paired_binary(c, b, resamples=20_000, seed=2)
    n = c.size
    p10, p01 = 6 / n, 16 / n
    var = (p10 + p01 - (p10 - p01) ** 2) / n
    assert dist.mean() == pytest.approx(-10 / n, abs=5e-4)
    assert dist.var() == pytest.approx(var, rel=0.05)
    low, high = percentile_interval(dist, 0.95)
    assert low < -10 / n < high
    with pytest.raises(ValueError, match="0/1"):
        bootstrap_paired_binary(c * 2, b, resamples=10, seed=0)
