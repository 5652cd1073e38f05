"""How many more samples an underpowered comparison needs, and when no number is honest."""

from __future__ import annotations

from gatekeeper.stats.decision import more_samples_needed


def test_more_samples_scale_with_the_square_of_mde_over_margin() -> None:
    # SE shrinks as 1/sqrt(n): halving the MDE takes four times the samples.
    assert more_samples_needed(1000, 0.02, 0.01) == 3000


def test_no_number_when_the_margin_is_already_met_or_absent() -> None:
    assert more_samples_needed(1000, 0.01, 0.02) is None
    assert more_samples_needed(1000, 0.02, 0.0) is None
    assert more_samples_needed(1000, None, 0.01) is None


def test_a_tiny_margin_gives_no_number_instead_of_overflowing() -> None:
    # (0.5 / 1e-300)² overflows a float: an OverflowError (exit 3) before.
    assert more_samples_needed(1000, 0.5, 1e-300) is None
    assert more_samples_needed(1000, 0.5, 1e-12) is None  # 2.5e26 samples: not a real advice
