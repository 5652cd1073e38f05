"""Adjusted p-values against scipy and statsmodels, and the reference family of 15."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control
from statsmodels.stats.multitest import multipletests

from gatekeeper.stats.multiplicity import adjust, benjamini_hochberg, bonferroni, holm

# scipy.stats.false_discovery_control's example (Benjamini & Hochberg 1995).
PS = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
      0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]  # fmt: skip


def test_reference_rejections() -> None:
    assert int(np.sum(adjust(PS, "bh") <= 0.05)) == 4
    assert int(np.sum(adjust(PS, "holm") <= 0.05)) == 3
    assert int(np.sum(adjust(PS, "bonferroni") <= 0.05)) == 3
    assert int(np.sum(adjust(PS, "none") <= 0.05)) == 9


@pytest.mark.parametrize("seed", range(5))
def test_matches_scipy_and_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.05, 6), rng.uniform(0, 1, 14), [0.01, 0.01]])
    rng.shuffle(p)
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p), atol=1e-15)
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
    np.testing.assert_allclose(bonferroni(p), multipletests(p, method="bonferroni")[1])


@pytest.mark.parametrize("method", ["holm", "bh", "bonferroni", "none"])
def test_properties(method: str) -> None:
    p = np.array(PS)
    adjusted = adjust(p, method)  # type: ignore[arg-type]
    assert np.all(adjusted >= p) and np.all(adjusted <= 1)
    # Permuting the inputs permutes the outputs.
    order = np.random.default_rng(1).permutation(p.size)
    np.testing.assert_allclose(adjust(p[order], method), adjusted[order])  # type: ignore[arg-type]
    assert adjust([], method).size == 0  # type: ignore[arg-type]


def test_ordering_of_strictness() -> None:
    p = np.array(PS)
    assert np.all(bonferroni(p) >= holm(p))
    assert np.all(holm(p) >= benjamini_hochberg(p))


def test_invalid_input_raises() -> None:
    with pytest.raises(ValueError):
        holm([0.1, float("nan")])
    with pytest.raises(ValueError):
        benjamini_hochberg([1.2])
    with pytest.raises(ValueError):
        adjust([0.1], "sidak")  # type: ignore[arg-type]
