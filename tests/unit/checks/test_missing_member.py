"""Which baseline ids the candidate lacks: ``missing._member`` must answer as ``np.isin`` does
for every kind of id (the table for dense integers, the sorted search for the rest)."""

from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.checks import missing

RNG = np.random.default_rng(5)
CASES = {
    "dense ids from 0": (RNG.permutation(1000), RNG.permutation(900)),
    "dense ids from 500, some outside": (np.arange(480, 1600), RNG.permutation(1000) + 500),
    "negative ids": (np.arange(-50, 50), np.arange(-20, 80, 3)),
    "sparse ids (the sorted search)": (RNG.integers(0, 10**12, 300), RNG.integers(0, 10**12, 300)),
    "sparse ids sharing some": (np.arange(0, 10**9, 10**7), np.arange(0, 10**9, 3 * 10**7)),
    "text ids": (np.array([f"q{i}" for i in RNG.permutation(400)]),
                 np.array([f"q{i}" for i in range(0, 600, 2)])),
    "text ids of other widths": (np.array(["a", "bb", "ccc", "dddd"]), np.array(["bb", "dddd"])),
    "nothing to look in": (np.arange(5), np.array([], dtype=np.int64)),
    "nothing to look for": (np.array([], dtype=np.int64), np.arange(5)),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_member_is_isin(case: str) -> None:
    needles, haystack = CASES[case]
    got = missing._member(needles, haystack)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, np.isin(needles, haystack))


def test_binary_scores_are_exactly_zero_or_one() -> None:
    assert missing.all_zero_or_one(np.array([0.0, 1.0, -0.0, 1.0]))
    assert not missing.all_zero_or_one(np.array([0.0, 1.0, 0.5]))
    assert not missing.all_zero_or_one(np.array([], dtype=np.float64))
    np.testing.assert_array_equal(missing._zero_or_one(np.array([1.0, 2.0, 0.0, 1e-300])),
                                  [True, False, True, False])
