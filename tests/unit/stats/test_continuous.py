from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from gatekeeper.stats.continuous import compare_paired_mean, cr2_from_sums
from gatekeeper.stats.decision import decide
from gatekeeper.stats.moments import cluster_sums, moments
from gatekeeper.stats.reference import cluster_robust_variance
from gatekeeper.stats.types import Hypothesis, Outcome

H = Hypothesis(confidence=0.95, margin=0.05)


def _data(n: int = 60, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = rng.uniform(0, 1, n)
    c = np.clip(b + rng.normal(0.02, 0.15, n), 0, 1)
    return c, b


def test_paired_t_matches_scipy_ttest_rel() -> None:
    c, b = _data()
    res = compare_paired_mean(c, b, H)
    ref = stats.ttest_rel(c, b)
    low, high = ref.confidence_interval(0.95)
    assert res.method == "paired-t"
    assert res.ci == pytest.approx((low, high), abs=1e-10)
    assert res.delta == pytest.approx(np.mean(c - b), abs=1e-12)
    assert res.se == pytest.approx(np.std(c - b, ddof=1) / math.sqrt(c.size), rel=1e-10)
    # One-sided p-value of H0: Δ <= -m, i.e. scipy's 'greater' test of c + m against b.
    p_ref = stats.ttest_rel(c + H.margin, b, alternative="greater").pvalue
    assert res.p_value == pytest.approx(p_ref, rel=1e-8)
    assert res.n == (c.size, c.size)


def test_paired_t_p_value_for_lower_is_better() -> None:
    c, b = _data(seed=8)
    h = Hypothesis(margin=0.03, higher_is_better=False)
    res = compare_paired_mean(c, b, h)
    # Oriented Δ' = -Δ; H0: Δ' <= -m  <=>  Δ >= m; reject for small Δ.
    p_ref = stats.ttest_rel(c - h.margin, b, alternative="less").pvalue
    assert res.p_value == pytest.approx(p_ref, rel=1e-8)


@pytest.mark.parametrize("seed", range(20))
def test_p_value_agrees_with_interval_decision(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c, b = _data(n=int(rng.integers(5, 200)), seed=seed)
    for h in (H, Hypothesis(margin=0.02, higher_is_better=False),
              Hypothesis(gain=0.01, require_improvement=True)):
        res = compare_paired_mean(c, b, h)
        passes = decide(res, h) in (Outcome.IMPROVED, Outcome.NON_INFERIOR)
        assert res.p_value is not None
        assert passes == (res.p_value < h.alpha_one_sided)


def test_mde_uses_t_quantile() -> None:
    c, b = _data(n=12)
    res = compare_paired_mean(c, b, H)
    assert res.se is not None and res.mde is not None
    expected = (stats.t.ppf(0.975, 11) + stats.t.ppf(0.8, 11)) * res.se
    assert res.mde == pytest.approx(expected, rel=1e-10)


def _clustered(g: int = 15, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, g)
    labels = np.repeat(np.arange(g), sizes)
    u = rng.normal(0, 0.2, g)[labels]
    b = rng.uniform(0, 1, labels.size)
    c = b + 0.01 + u + rng.normal(0, 0.1, labels.size)
    return c, b, labels


def _cr2_by_matrices(d: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """CR2 variance and Bell-McCaffrey df of the intercept-only regression, computed with the
    full n x n matrices of Bell & McCaffrey (2002) / Pustejovsky & Tipton (2018)."""
    n = d.size
    x = np.ones((n, 1))
    hat = x @ np.linalg.inv(x.T @ x) @ x.T
    resid = d - d.mean()
    bread = 1.0 / n  # (X'X)^-1
    meat = 0.0
    columns = []
    for g in np.unique(labels):
        idx = np.flatnonzero(labels == g)
        block = np.eye(idx.size) - hat[np.ix_(idx, idx)]
        vals, vecs = np.linalg.eigh(block)
        adjust = vecs @ np.diag(vals**-0.5) @ vecs.T  # (I - H_gg)^(-1/2)
        u = float((x[idx].T @ adjust @ resid[idx])[0])
        meat += u * u
        # Column of G for the contrast c = 1: (I - H)_g' A_g X_g (X'X)^-1 c.
        columns.append((np.eye(n) - hat)[:, idx] @ adjust @ x[idx, 0] * bread)
    var = bread * meat * bread
    gmat = np.stack(columns, axis=1)
    eig = np.linalg.eigvalsh(gmat.T @ gmat)
    return var, float(eig.sum() ** 2 / np.sum(eig**2))


def test_cluster_t_is_cr2_with_bell_mccaffrey_df() -> None:
    c, b, labels = _clustered()
    d = c - b
    n, g = d.size, int(labels.max()) + 1
    res = compare_paired_mean(c, b, H, clusters=labels)
    var, df = _cr2_by_matrices(d, labels)
    assert res.method == "cluster-t"
    assert res.se == pytest.approx(math.sqrt(var), rel=1e-10)
    assert 1.0 < df < g - 1  # unequal sizes cost degrees of freedom
    crit = stats.t.ppf(0.975, df)
    assert res.ci == pytest.approx(
        (d.mean() - crit * res.se, d.mean() + crit * res.se), rel=1e-9
    )
    assert res.n == (g, g)
    assert any(f"{g} clusters holding {n}" in note for note in res.notes)
    assert any(f"Bell-McCaffrey df = {df:.3g}" in note for note in res.notes)
    assert any("only 15 clusters" in note for note in res.notes)  # G = 15 < 20


def test_miller_eq8_reference_is_kept_and_matches_statsmodels() -> None:
    # Miller 2024, eq. 8 (CR1 with G/(G-1)) stays available as the reference value; statsmodels'
    # CR1 correction is G/(G-1) * (N-1)/(N-k), and with an intercept only (k = 1) the second
    # factor is 1, so its clustered SE equals eq. 8 exactly.
    c, b, labels = _clustered()
    d = c - b
    n, g = d.size, int(labels.max()) + 1
    centred = np.array([np.sum(d[labels == k] - d.mean()) for k in range(g)])
    var_eq8 = np.sum(centred**2) / n**2 * g / (g - 1)
    assert cluster_robust_variance(d, cluster_sums(d, labels)) == pytest.approx(var_eq8, rel=1e-12)
    fit = sm.OLS(d, np.ones(n)).fit(
        cov_type="cluster", cov_kwds={"groups": labels, "use_correction": True}, use_t=True
    )
    assert math.sqrt(var_eq8) == pytest.approx(float(fit.bse[0]), rel=1e-10)
    # CR2 differs from eq. 8 with unequal cluster sizes...
    res = compare_paired_mean(c, b, H, clusters=labels)
    assert res.se is not None and abs(res.se / math.sqrt(var_eq8) - 1.0) > 1e-3


def test_cr2_equals_eq8_with_g_minus_1_df_for_equal_clusters() -> None:
    # ...and equals it, with G - 1 df, when every cluster has the same size.
    rng = np.random.default_rng(4)
    g, size = 12, 5
    labels = np.repeat(np.arange(g), size)
    d = rng.normal(size=g)[labels] + rng.normal(size=labels.size)
    res = compare_paired_mean(d, np.zeros_like(d), H, clusters=labels)
    fit = sm.OLS(d, np.ones(d.size)).fit(
        cov_type="cluster", cov_kwds={"groups": labels, "use_correction": True}, use_t=True
    )
    assert res.se == pytest.approx(float(fit.bse[0]), rel=1e-10)
    assert res.ci == pytest.approx(tuple(fit.conf_int(alpha=0.05)[0]), rel=1e-8)
    assert cr2_from_sums(np.ones(g), np.full(g, float(size)))[1] == pytest.approx(g - 1)


def test_cluster_labels_may_be_strings_and_unsorted() -> None:
    c, b, labels = _clustered()
    names = np.array([f"doc-{k:03d}" for k in labels])[::-1]
    ref = compare_paired_mean(c, b, H, clusters=labels)
    res = compare_paired_mean(c[::-1], b[::-1], H, clusters=names)
    assert res.ci == pytest.approx(ref.ci, rel=1e-12)


def test_singleton_clusters_reduce_to_hc1_paired_variance() -> None:
    c, b = _data(n=40)
    res = compare_paired_mean(c, b, H, clusters=np.arange(40))
    d = c - b
    # One example per cluster: CR2 is the HC2 variance, sum e^2 / (n^2 (1 - 1/n)) = s^2/n,
    # with Bell-McCaffrey df n - 1: the plain paired t.
    assert res.se == pytest.approx(np.std(d, ddof=1) / math.sqrt(40), rel=1e-12)
    assert res.ci == pytest.approx(compare_paired_mean(c, b, H).ci, rel=1e-10)


def test_swap_negates_interval() -> None:
    c, b, labels = _clustered()
    for clusters in (None, labels):
        ab = compare_paired_mean(c, b, H, clusters=clusters)
        ba = compare_paired_mean(b, c, H, clusters=clusters)
        assert ba.ci == pytest.approx((-ab.ci[1], -ab.ci[0]), abs=1e-12)
        assert ba.delta == pytest.approx(-ab.delta, abs=1e-15)


def test_adding_constant_to_both_sides_moves_nothing() -> None:
    c, b, labels = _clustered()
    for clusters in (None, labels):
        ref = compare_paired_mean(c, b, H, clusters=clusters)
        moved = compare_paired_mean(c + 1000.0, b + 1000.0, H, clusters=clusters)
        assert moved.ci == pytest.approx(ref.ci, abs=1e-9)
        assert moved.p_value == pytest.approx(ref.p_value, abs=1e-9)


def test_width_monotone_in_confidence() -> None:
    c, b = _data()
    widths = []
    for conf in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        res = compare_paired_mean(c, b, Hypothesis(confidence=conf))
        widths.append(res.ci[1] - res.ci[0])
    assert all(w1 < w2 for w1, w2 in itertools.pairwise(widths))


@pytest.mark.parametrize(
    ("c", "b", "clusters"),
    [
        (np.ones(50), np.ones(50), None),  # all ties
        (np.full(50, 0.7), np.full(50, 0.2), None),  # constant difference
        (np.array([0.9]), np.array([0.1]), None),  # n = 1
        (np.array([]), np.array([]), None),  # no pairs
        (np.array([0.9, 0.4, 0.5]), np.array([0.1, 0.3, 0.2]), np.zeros(3, int)),  # G = 1
        (np.array([0.9, 0.4]), np.array([0.4, -0.1]), np.array([0, 1])),  # equal clusters
    ],
)
def test_degenerate_inputs_are_finite_and_never_pass(
    c: np.ndarray, b: np.ndarray, clusters: np.ndarray | None
) -> None:
    res = compare_paired_mean(c, b, H, clusters=clusters)
    assert res.degenerate
    assert all(math.isfinite(x) for x in (*res.ci, res.delta, res.candidate, res.baseline))
    assert res.notes and "no variance information" in res.notes[-1]
    assert decide(res, H) is Outcome.NO_INFORMATION


def test_rejects_mismatched_or_non_finite_inputs() -> None:
    with pytest.raises(ValueError, match="same length"):
        compare_paired_mean(np.ones(3), np.ones(4), H)
    with pytest.raises(ValueError, match="non-finite"):
        compare_paired_mean(np.array([1.0, np.nan]), np.ones(2), H)
    with pytest.raises(ValueError, match="one label per value"):
        compare_paired_mean(np.ones(3), np.zeros(3), H, clusters=np.zeros(2, int))


def _rare_large_losses(n: int = 30, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = -(np.exp(rng.standard_normal(n)) - math.exp(0.5))
    d[0] = -40.0  # one large regression
    return d


def test_skew_towards_losses_gives_no_verdict() -> None:
    d = _rare_large_losses()
    res = compare_paired_mean(d, np.zeros(30), H)
    assert res.method == "paired-t" and res.degenerate
    assert "too skewed towards the candidate's losses" in res.reason
    assert any("strongly skewed towards the candidate's losses" in note for note in res.notes)
    # The t interval is still reported, finite, for context; the decision never passes.
    t_only = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert res.ci == pytest.approx((t_only.low, t_only.high), rel=1e-10)
    assert decide(res, H) == Outcome.NO_INFORMATION
    easy = Hypothesis(margin=100.0)  # even a huge margin does not let it pass
    assert decide(compare_paired_mean(d, np.zeros(30), easy), easy) == Outcome.NO_INFORMATION


def test_skew_towards_gains_only_notes_and_orientation_flips() -> None:
    d = -_rare_large_losses()  # rare large gains: the t interval is conservative for a pass
    res = compare_paired_mean(d, np.zeros(30), H)
    assert not res.degenerate
    assert any("strongly skewed (skewness" in note for note in res.notes)
    # For a lower-is-better metric the same data are rare large losses.
    lower = Hypothesis(margin=0.05, higher_is_better=False)
    assert compare_paired_mean(d, np.zeros(30), lower).degenerate


def test_skew_guard_follows_cochran_rule_and_ignores_symmetric_data() -> None:
    rng = np.random.default_rng(0)
    sym = compare_paired_mean(rng.normal(size=200), np.zeros(200), H)
    assert not sym.degenerate and not any("skewed" in note for note in sym.notes)
    # skewness of exp(Z) - e^0.5 at n = 5000 is far below sqrt((5000 - 28)/25) = 14: no guard.
    big = -(np.exp(rng.standard_normal(5000)) - math.exp(0.5))
    assert not compare_paired_mean(big, np.zeros(5000), H).degenerate


def test_moments_are_stable_with_a_large_offset() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 1e-3, 2_000_000)
    m = moments(1e9 + noise)
    # The naive sum_sq/n - mean^2 loses every digit here; two-pass keeps about 6 of them.
    assert m.variance == pytest.approx(np.var(noise, ddof=1), rel=1e-5)
    naive = np.mean((1e9 + noise) ** 2) - np.mean(1e9 + noise) ** 2
    assert abs(naive - np.var(noise)) > 1e-3 * np.var(noise)
