"""Minimum detectable effect and Miller's (2024) sample-size formula."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from gatekeeper.stats.power import mde, required_n


def test_miller_reference() -> None:
    assert required_n(1 / 9, 0.0, 1, 0.0, 1, 0.03, 0.05, 0.8) == 969


def test_required_n_uses_resampling_variance() -> None:
    base = required_n(1 / 9, 0.0, 1, 0.0, 1, 0.03, 0.05, 0.8)
    noisy = required_n(1 / 9, 0.05, 1, 0.05, 1, 0.03, 0.05, 0.8)
    many_samples = required_n(1 / 9, 0.05, 10, 0.05, 10, 0.03, 0.05, 0.8)
    assert base < many_samples < noisy
    # Halving the effect quadruples n.
    assert required_n(1 / 9, 0.0, 1, 0.0, 1, 0.015, 0.05, 0.8) == pytest.approx(4 * base, abs=4)


def test_mde_normal_and_t() -> None:
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert mde(0.01, 0.025) == pytest.approx(z * 0.01)
    t = stats.t.ppf(0.975, 4) + stats.t.ppf(0.8, 4)
    assert mde(0.01, 0.025, df=4) == pytest.approx(t * 0.01)
    assert mde(0.01, 0.025, df=4) > mde(0.01, 0.025)
    assert mde(0.0, 0.025) == 0.0


def test_mde_and_required_n_are_inverse() -> None:
    # The MDE at n examples with per-example variance ω² is the δ that needs n examples
    # (two-sided alpha = 2 * one-sided alpha).
    omega2, n = 0.25, 400
    delta = mde(math.sqrt(omega2 / n), 0.025)
    assert required_n(omega2, 0.0, 1, 0.0, 1, delta, 0.05, 0.8) == n


def test_monotone_in_alpha_and_power() -> None:
    assert mde(0.01, 0.01) > mde(0.01, 0.025) > mde(0.01, 0.05)
    assert mde(0.01, 0.025, power=0.9) > mde(0.01, 0.025, power=0.8)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        mde(-1.0, 0.025)
    with pytest.raises(ValueError):
        mde(0.1, 0.0)
    with pytest.raises(ValueError):
        mde(0.1, 0.025, df=0)
    with pytest.raises(ValueError):
        required_n(0.1, 0.0, 0, 0.0, 1, 0.03, 0.05, 0.8)
    with pytest.raises(ValueError):
        required_n(0.1, 0.0, 1, 0.0, 1, 0.0, 0.05, 0.8)
