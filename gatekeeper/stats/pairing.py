"""Pair per-example scores of two runs by example id, never by row order.

One sort per side and a binary search (O(n log n), all in numpy) find the common ids and their
positions; ids present on one side only are counted and a few are kept as examples for the
report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_EXAMPLES = 5


@dataclass(frozen=True, eq=False)
class Match:
    """Positions of the common ids in each input (sorted by id) and what did not match."""

    idx_candidate: np.ndarray
    idx_baseline: np.ndarray
    n_only_candidate: int
    n_only_baseline: int
    examples_only_candidate: tuple[str, ...]
    examples_only_baseline: tuple[str, ...]

    @property
    def n_matched(self) -> int:
        return int(self.idx_candidate.size)

    def notes(self) -> tuple[str, ...]:
        """Report lines for ids found on one side only (empty when every id matched)."""
        out: list[str] = []
        for side, count, examples in (
            ("candidate", self.n_only_candidate, self.examples_only_candidate),
            ("baseline", self.n_only_baseline, self.examples_only_baseline),
        ):
            if count:
                more = ", ..." if count > len(examples) else ""
                out.append(
                    f"{count} example id(s) only in the {side}, left out of the comparison "
                    f"(e.g. {', '.join(examples)}{more})"
                )
        return tuple(out)


@dataclass(frozen=True, eq=False)
class Paired:
    """Scores aligned by id (ascending id order)."""

    candidate: np.ndarray
    baseline: np.ndarray
    clusters: np.ndarray | None
    n_only_candidate: int
    n_only_baseline: int
    examples_only_candidate: tuple[str, ...]
    examples_only_baseline: tuple[str, ...]


def _normalise_ids(ids_c: np.ndarray, ids_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bring both id arrays to one comparable dtype: integers stay integers, else strings.

    Ids read from CSV on one side and JSONL on the other may be ints on one side and strings on
    the other; comparing them as strings makes "17" and 17 the same example.
    """
    a, b = np.asarray(ids_c), np.asarray(ids_b)
    for arr, side in ((a, "candidate"), (b, "baseline")):
        if arr.ndim != 1:
            raise ValueError(f"{side} ids must be one-dimensional, got shape {arr.shape}")
        if arr.dtype.kind == "f":
            raise ValueError(f"{side} ids must be strings or integers, not floating point")
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return a.astype(np.int64, copy=False), b.astype(np.int64, copy=False)
    return a.astype(str), b.astype(str)


def _check_unique(sorted_ids: np.ndarray, side: str) -> None:
    if sorted_ids.size < 2:
        return
    dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if dup.size:
        first = sorted_ids[int(dup[0])]
        extra = f" (and {dup.size - 1} more repeats)" if dup.size > 1 else ""
        raise ValueError(f"duplicate example id {first!s} in the {side} scores{extra}")


def _match_dense(a: np.ndarray, b: np.ndarray) -> Match | None:
    """O(n) matching for integer ids in a range not much larger than their count.

    Ids 0..n-1 (row numbers, dataset indices) are the common case; a lookup table replaces the
    two argsorts, which dominate the cost at n = 10^7. Returns None when it does not apply.
    """
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu" or a.size == 0 or b.size == 0:
        return None
    lo = min(int(a.min()), int(b.min()))
    size = max(int(a.max()), int(b.max())) - lo + 1
    if size > 4 * (a.size + b.size):
        return None
    # One scatter per side into a table of row positions (-1: absent), int32 when it fits;
    # a side whose table holds fewer ids than the side has rows has a repeat, named below.
    # Memory at 10^7 ids: the two tables (80 MB) and one byte per id for the overlap; the row
    # numbers are scattered a chunk at a time, and the tables themselves are the positions
    # when every id is on both sides (the usual case), not copies of them.
    index_type = np.int32 if max(a.size, b.size) < 2**31 else np.int64
    pos_a = _positions(a, lo, size, index_type, "candidate")
    pos_b = _positions(b, lo, size, index_type, "baseline")
    has_b = pos_b >= 0
    only_c = np.flatnonzero((pos_a >= 0) > has_b)
    only_b = np.flatnonzero(has_b > (pos_a >= 0))
    if only_c.size or only_b.size or a.size != size:
        # A boolean mask, not the array of common ids: one byte per id instead of eight.
        common = has_b & (pos_a >= 0)
        del has_b
        pos_a, pos_b = pos_a[common], pos_b[common]
    return Match(
        idx_candidate=pos_a,
        idx_baseline=pos_b,
        n_only_candidate=int(only_c.size),
        n_only_baseline=int(only_b.size),
        examples_only_candidate=tuple(str(int(x) + lo) for x in only_c[:MAX_EXAMPLES]),
        examples_only_baseline=tuple(str(int(x) + lo) for x in only_b[:MAX_EXAMPLES]),
    )


_SCATTER_ROWS = 1 << 20


def _positions(ids: np.ndarray, lo: int, size: int, index_type: type[np.signedinteger[Any]],
               side: str) -> np.ndarray:
    """The table id - lo -> row of ``ids`` (-1: absent); ValueError naming a repeated id."""
    offset = ids - lo if lo else ids  # ids from 0 (the usual case) need no shifted copy
    position: np.ndarray = np.full(size, -1, dtype=index_type)
    for start in range(0, ids.size, _SCATTER_ROWS):
        stop = min(start + _SCATTER_ROWS, ids.size)
        position[offset[start:stop]] = np.arange(start, stop, dtype=index_type)
    if int(np.count_nonzero(position >= 0)) != ids.size:
        count = np.bincount(offset, minlength=size)
        dup = np.flatnonzero(count > 1)
        extra = f" (and {dup.size - 1} more repeats)" if dup.size > 1 else ""
        raise ValueError(f"duplicate example id {int(dup[0]) + lo} in the {side} scores{extra}")
    return position


def match_ids(ids_c: np.ndarray, ids_b: np.ndarray) -> Match:
    """Match two id arrays; raises ValueError naming a duplicated id.

    One argsort per side, then a binary search of every candidate id in the sorted baseline
    ids: O(n log n) with no Python loop.
    """
    a, b = _normalise_ids(ids_c, ids_b)
    dense = _match_dense(a, b)
    if dense is not None:
        return dense
    order_a = np.argsort(a)
    order_b = np.argsort(b)
    sa, sb = a[order_a], b[order_b]
    _check_unique(sa, "candidate")
    _check_unique(sb, "baseline")
    if sb.size:
        pos = np.minimum(np.searchsorted(sb, sa), sb.size - 1)
        found = sb[pos] == sa
    else:
        pos = np.zeros(sa.size, dtype=np.intp)
        found = np.zeros(sa.size, dtype=bool)
    in_a = np.zeros(sb.size, dtype=bool)
    in_a[pos[found]] = True
    only_c = sa[~found]
    only_b = sb[~in_a]
    return Match(
        idx_candidate=order_a[found],
        idx_baseline=order_b[pos[found]],
        n_only_candidate=int(only_c.size),
        n_only_baseline=int(only_b.size),
        examples_only_candidate=tuple(str(x) for x in only_c[:MAX_EXAMPLES]),
        examples_only_baseline=tuple(str(x) for x in only_b[:MAX_EXAMPLES]),
    )


def pair_by_id(
    ids_c: np.ndarray,
    scores_c: np.ndarray,
    ids_b: np.ndarray,
    scores_b: np.ndarray,
    clusters_c: np.ndarray | None = None,
) -> Paired:
    """Align candidate and baseline scores on their common ids (ascending id order)."""
    sc, sb = np.asarray(scores_c), np.asarray(scores_b)
    if sc.shape != np.shape(ids_c):
        raise ValueError(f"candidate: {np.size(ids_c)} ids but {sc.size} scores")
    if sb.shape != np.shape(ids_b):
        raise ValueError(f"baseline: {np.size(ids_b)} ids but {sb.size} scores")
    if clusters_c is not None and np.shape(clusters_c) != sc.shape:
        raise ValueError(f"candidate: {sc.size} scores but {np.size(clusters_c)} cluster labels")
    m = match_ids(ids_c, ids_b)
    return Paired(
        candidate=sc[m.idx_candidate],
        baseline=sb[m.idx_baseline],
        clusters=None if clusters_c is None else np.asarray(clusters_c)[m.idx_candidate],
        n_only_candidate=m.n_only_candidate,
        n_only_baseline=m.n_only_baseline,
        examples_only_candidate=m.examples_only_candidate,
        examples_only_baseline=m.examples_only_baseline,
    )
