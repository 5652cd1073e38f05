"""Minimum detectable effect and required sample size (Miller 2024, eq. 9).

A gate that cannot detect an effect as small as its margin should say "underpowered" rather
than give a bare warn; these two functions put a number on that.
"""

from __future__ import annotations

import math

from gatekeeper.stats.dist import norm_ppf, t_ppf


def _check_level(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value}")


def mde(se: float, alpha_one_sided: float, power: float = 0.8, df: float | None = None) -> float:
    """Smallest true effect a one-sided level-alpha test detects with the given power.

    (q_{1-alpha} + q_{power}) * se, with normal quantiles, or Student-t quantiles when ``df``
    is given (small K replicates, clustered data with G-1 degrees of freedom)."""
    if not math.isfinite(se) or se < 0.0:
        raise ValueError(f"se must be finite and non-negative, got {se}")
    _check_level("alpha_one_sided", alpha_one_sided)
    _check_level("power", power)
    if df is None:
        q_alpha = norm_ppf(1.0 - alpha_one_sided)
        q_power = norm_ppf(power)
    else:
        if not df > 0:
            raise ValueError(f"degrees of freedom must be positive, got {df}")
        q_alpha = t_ppf(1.0 - alpha_one_sided, df)
        q_power = t_ppf(power, df)
    return float((q_alpha + q_power) * se)


def required_n(
    omega2: float,
    sigma_a2: float,
    k_a: int,
    sigma_b2: float,
    k_b: int,
    delta: float,
    alpha: float,
    power: float,
) -> int:
    """Examples needed to detect a difference ``delta`` (Miller 2024, eq. 9), rounded up.

    n = (z_{alpha/2} + z_beta)^2 (omega^2 + sigma_A^2/K_A + sigma_B^2/K_B) / delta^2, where
    omega^2 is the variance of the per-example difference of conditional means, sigma^2 the
    within-example (resampling) variance of each model, K the samples per example, and
    ``alpha`` the two-sided level."""
    if omega2 < 0 or sigma_a2 < 0 or sigma_b2 < 0:
        raise ValueError("variances must be non-negative")
    if k_a <= 0 or k_b <= 0:
        raise ValueError(f"samples per example must be positive, got K_A={k_a}, K_B={k_b}")
    if delta == 0 or not math.isfinite(delta):
        raise ValueError(f"the effect to detect must be finite and non-zero, got {delta}")
    _check_level("alpha", alpha)
    _check_level("power", power)
    z_alpha = norm_ppf(1.0 - alpha / 2.0)
    z_beta = norm_ppf(power)
    variance = omega2 + sigma_a2 / k_a + sigma_b2 / k_b
    n = (z_alpha + z_beta) ** 2 * variance / delta**2
    # Float noise must not turn an exact integer into the next one up.
    return max(1, math.ceil(n - 1e-9))
