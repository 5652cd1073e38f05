"""Paired 0/1 scores are gathered as booleans for the 2x2 table (no float64 copy of 10^7 rows):
the comparison must be the one the float64 scores give, and anything that is not the 2x2 table
of 0/1 scores keeps its float64 path."""

from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.stats import select
from gatekeeper.stats.select import MetricData, compare
from gatekeeper.stats.types import Hypothesis

H = Hypothesis(confidence=0.95, margin=0.02)


def _sides(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = (rng.random(n) < 0.7).astype(np.float64)
    cand = np.where(rng.random(n) < 0.1, 1.0 - base, base)
    ids_c, ids_b = rng.permutation(n), rng.permutation(n)
    return ids_c, cand[ids_c], ids_b, base[ids_b]


def _float_reference(c: MetricData, b: MetricData, method: str | None) -> object:
    """The comparison as float64 gathering makes it (the 2x2 path switched off)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(select, "_gather_binary", lambda values, idx: None)
        return compare(c, b, H, method=method)


@pytest.mark.parametrize("method", [None, "tango", "newcombe"])
def test_boolean_gather_gives_the_float_comparison(method: str | None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Several chunks, the last one partial, so the chunked gather is exercised.
    monkeypatch.setattr(select, "_GATHER_ROWS", 1000)
    ids_c, sc, ids_b, sb = _sides(4_321, seed=7)
    c, b = MetricData("per_example", sc, ids=ids_c), MetricData("per_example", sb, ids=ids_b)
    got = compare(c, b, H, method=method)
    assert got == _float_reference(c, b, method)
    assert got.method == (method or "tango")


def test_binary_rows_are_gathered_as_booleans() -> None:
    ids_c, sc, _, _ = _sides(2_000, seed=3)
    idx = np.argsort(ids_c)
    out = select._gather_binary(sc, idx)
    assert out is not None and out.dtype == np.bool_
    assert np.array_equal(out, sc[idx] == 1)


def test_a_non_binary_score_in_a_later_chunk_falls_back_to_floats(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The 2x2 table must not be built from "!= 0" of a 0.5: one such row anywhere among the
    # paired ones sends the comparison to the paired t, as with float64 gathering.
    monkeypatch.setattr(select, "_GATHER_ROWS", 500)
    ids_c, sc, ids_b, sb = _sides(3_000, seed=11)
    sc = sc.copy()
    sc[np.flatnonzero(ids_c == 2_700)[0]] = 0.5
    c, b = MetricData("per_example", sc, ids=ids_c), MetricData("per_example", sb, ids=ids_b)
    assert select._gather_binary(sc, np.argsort(ids_c)) is None
    got = compare(c, b, H)
    assert got.method == "paired-t"
    assert got == _float_reference(c, b, None)


def test_unpaired_non_binary_rows_do_not_matter() -> None:
    # Only the paired rows decide: a 0.5 on an id the baseline lacks leaves a 2x2 table.
    ids_c, sc, ids_b, sb = _sides(1_000, seed=5)
    ids_c = np.append(ids_c, 5_000)
    sc = np.append(sc, 0.5)
    c, b = MetricData("per_example", sc, ids=ids_c), MetricData("per_example", sb, ids=ids_b)
    got = compare(c, b, H)
    assert got.method == "tango"
    assert got == _float_reference(c, b, None)


@pytest.mark.parametrize("kwargs", [{"method": "paired-t"}, {"method": "bootstrap"},
                                    {"aggregate": "f1"}])
def test_other_methods_keep_float_scores(kwargs: dict[str, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = select._gather_binary

    def spy(values: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
        calls.append(idx.size)
        return real(values, idx)

    monkeypatch.setattr(select, "_gather_binary", spy)
    ids_c, sc, ids_b, sb = _sides(500, seed=2)
    labels = (ids_c % 2).astype(np.float64)  # gold 0/1 labels, for F1 of predictions
    c = MetricData("per_example", sc, ids=ids_c, labels=labels)
    b = MetricData("per_example", sb, ids=ids_b)
    assert compare(c, b, H, resamples=200, **kwargs).n == (500, 500)  # type: ignore[arg-type]
    assert calls == []


def test_clustered_binary_scores_keep_float_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "_gather_binary", pytest.fail)
    ids_c, sc, ids_b, sb = _sides(600, seed=4)
    clusters = (ids_c % 30).astype(str)
    c = MetricData("per_example", sc, ids=ids_c, clusters=clusters)
    b = MetricData("per_example", sb, ids=ids_b)
    assert compare(c, b, H).method == "cluster-t"
