from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.stats import pairing
from gatekeeper.stats.pairing import match_ids, pair_by_id


def test_pairs_by_id_not_row_order() -> None:
    ids_c = np.array(["q3", "q1", "q2"])
    ids_b = np.array(["q2", "q3", "q1"])
    p = pair_by_id(ids_c, np.array([0.3, 0.1, 0.2]), ids_b, np.array([20.0, 30.0, 10.0]))
    np.testing.assert_array_equal(p.candidate, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(p.baseline, [10.0, 20.0, 30.0])
    assert (p.n_only_candidate, p.n_only_baseline) == (0, 0)
    assert p.clusters is None


def test_integer_ids_and_clusters_follow_the_candidate() -> None:
    p = pair_by_id(
        np.array([5, 1, 9]), np.array([0.5, 0.1, 0.9]),
        np.array([9, 5, 1]), np.array([9.0, 5.0, 1.0]),
        clusters_c=np.array(["a", "b", "c"]),
    )
    np.testing.assert_array_equal(p.candidate * 10, p.baseline)
    np.testing.assert_array_equal(p.clusters, ["b", "a", "c"])


def test_mixed_int_and_str_ids_compare_as_strings() -> None:
    p = pair_by_id(np.array([17, 4]), np.array([1.0, 2.0]),
                   np.array(["4", "17"]), np.array([20.0, 10.0]))
    assert p.candidate.tolist() == [1.0, 2.0]  # ids "17" < "4" as strings
    assert p.baseline.tolist() == [10.0, 20.0]


def test_unmatched_ids_counted_with_sorted_examples() -> None:
    ids_c = np.array([f"c{i:02d}" for i in range(8)] + ["x", "y"])
    ids_b = np.array(["y", "x", "b2", "b1"])
    m = match_ids(ids_c, ids_b)
    assert m.n_matched == 2
    assert m.n_only_candidate == 8
    assert m.examples_only_candidate == ("c00", "c01", "c02", "c03", "c04")
    assert m.n_only_baseline == 2
    assert m.examples_only_baseline == ("b1", "b2")
    notes = m.notes()
    assert notes[0].startswith("8 example id(s) only in the candidate") and "..." in notes[0]
    assert notes[1] == (
        "2 example id(s) only in the baseline, left out of the comparison (e.g. b1, b2)"
    )


@pytest.mark.parametrize("side", ["candidate", "baseline"])
def test_duplicate_ids_name_the_id(side: str) -> None:
    dup = np.array(["a", "b", "zz", "zz"])
    ok = np.array(["a", "b", "zz"])
    ids_c, ids_b = (dup, ok) if side == "candidate" else (ok, dup)
    with pytest.raises(ValueError, match=f"duplicate example id zz in the {side}"):
        pair_by_id(ids_c, np.zeros(ids_c.size), ids_b, np.zeros(ids_b.size))


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="3 ids but 2 scores"):
        pair_by_id(np.arange(3), np.zeros(2), np.arange(3), np.zeros(3))
    with pytest.raises(ValueError, match="cluster labels"):
        pair_by_id(np.arange(3), np.zeros(3), np.arange(3), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="not floating point"):
        match_ids(np.array([1.0, 2.0]), np.array([1, 2]))


def test_large_shuffled_sets_align_exactly() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    ids = rng.permutation(n * 2)[:n]
    scores = ids * 0.5
    perm = rng.permutation(n)
    keep = perm[: n - 1000]  # the baseline lost 1,000 examples
    p = pair_by_id(ids, scores, ids[keep], scores[keep] * 2)
    np.testing.assert_array_equal(p.baseline, p.candidate * 2)
    assert p.n_only_candidate == 1000 and p.n_only_baseline == 0
    assert np.all(np.diff(p.candidate) > 0)  # ascending id order


@pytest.mark.parametrize("spread", [1, 10**12])  # dense lookup table vs sort + binary search
def test_dense_and_sparse_integer_ids_agree(spread: int) -> None:
    rng = np.random.default_rng(1)
    ids_c = (rng.permutation(300)[:200] - 100) * spread
    ids_b = (rng.permutation(300)[:250] - 100) * spread
    m = match_ids(ids_c, ids_b)
    np.testing.assert_array_equal(ids_c[m.idx_candidate], ids_b[m.idx_baseline])
    assert np.all(np.diff(ids_c[m.idx_candidate]) > 0)
    common = np.intersect1d(ids_c, ids_b)
    assert m.n_matched == common.size
    assert m.n_only_candidate == ids_c.size - common.size
    expected = np.setdiff1d(ids_c, ids_b)[:5]
    assert m.examples_only_candidate == tuple(str(x) for x in expected)
    with pytest.raises(ValueError, match=f"duplicate example id {ids_c[3]} in the candidate"):
        match_ids(np.append(ids_c, ids_c[3]), ids_b)


def _by_sort(ids_c: np.ndarray, ids_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions the sort-and-search path gives (ids spread far apart to force it)."""
    m = match_ids(ids_c.astype(np.int64) * 10**12, ids_b.astype(np.int64) * 10**12)
    return m.idx_candidate, m.idx_baseline


@pytest.mark.parametrize("lo", [0, 7, -40])
@pytest.mark.parametrize("overlap", ["full", "partial"])
def test_dense_table_by_chunks_gives_the_sorted_positions(
        lo: int, overlap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The row numbers are scattered a chunk at a time, and with every id on both sides the
    # tables are returned as the positions: both must give what the sorted path gives.
    monkeypatch.setattr(pairing, "_SCATTER_ROWS", 64)
    rng = np.random.default_rng(2)
    ids_c, ids_b = rng.permutation(1000) + lo, rng.permutation(1000) + lo
    if overlap == "partial":
        ids_b = ids_b[:900]
    m = match_ids(ids_c, ids_b)
    want_c, want_b = _by_sort(ids_c, ids_b)
    np.testing.assert_array_equal(m.idx_candidate, want_c)
    np.testing.assert_array_equal(m.idx_baseline, want_b)
    assert m.n_only_candidate == (100 if overlap == "partial" else 0)
    with pytest.raises(ValueError, match=f"duplicate example id {ids_b[500]} in the baseline"):
        match_ids(ids_c, np.append(ids_b, ids_b[500]))
