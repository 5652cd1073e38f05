"""Per-example scores and request traces as Parquet, the format eval pipelines write (Hugging
Face datasets, Spark, DuckDB), read with pyarrow: an optional extra (``parquet``), imported only
when a bundle names a ``.parquet`` file.

The rules are those of the other formats. The footer is read first and checked before any
column is decoded: at most ``GATEKEEPER_MAX_ROWS`` rows, and the wanted columns' uncompressed
size within ``GATEKEEPER_MAX_ARRAY_BYTES`` (a small file cannot inflate past the limit). Then a
missing column, a null, a NaN or infinite score, a score column that holds no numbers, an id
that is empty or holds a control character, and a repeated id are errors naming the file, the
column and the row (rows count from 1, as lines do).

Score columns are decoded on worker threads (pyarrow releases the GIL while it decodes), and
each column is converted and checked by the worker that decoded it, while the other decodes the
next: the checks of the ids and of the scores overlap (``_Columns``). The errors are raised in
the order one thread would meet them, so a file with several faults gets the same message.
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs import limits
from gatekeeper.inputs.arrays import first_duplicate, float_scores, integer_ids, text_ids
from gatekeeper.inputs.fileio import open_regular

INSTALL_HINT = "pip install 'gatekeeper-gate[parquet]'"
_BATCH_ROWS = 1 << 16


def _pyarrow() -> tuple[Any, Any]:
    """(pyarrow, pyarrow.parquet), or an input error saying how to install them."""
    try:
        # lazy: pyarrow (an optional extra, ~0.13 s to import) only for a .parquet file
        import pyarrow
        import pyarrow.parquet
    except ModuleNotFoundError as exc:
        raise BundleError(f"reading Parquet needs pyarrow ({INSTALL_HINT})") from exc
    return pyarrow, pyarrow.parquet


def _open(path: Path, shown: str) -> tuple[Any, Any, Any, Any]:
    """(pyarrow, the open file, its ParquetFile, the mapped bytes); the footer is parsed here.

    The file is memory-mapped through the descriptor ``open_regular`` checked (not reopened by
    name, so nothing can be swapped in between): pyarrow then decodes pages in place, where
    reading through a Python file object copied every byte through Python first (about 2.5x the
    time at 10^7 rows). pre_buffer=False: over a memory map there is nothing to prefetch, and
    with it pyarrow decodes the columns one after another."""
    pa, pq = _pyarrow()
    fh = open_regular(path, shown.rsplit("/", 1)[-1], Location(shown))
    try:
        # An empty file cannot be mapped (ValueError): it is no Parquet file either.
        mapped = pa.py_buffer(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
        return pa, fh, pq.ParquetFile(pa.BufferReader(mapped), pre_buffer=False), mapped
    except (pa.ArrowException, OSError, ValueError) as exc:
        fh.close()
        raise BundleError(f"unreadable Parquet: {type(exc).__name__}: {exc}",
                          Location(shown)) from exc


def _check_footer(pf: Any, columns: list[str] | None, shown: str) -> None:
    """The columns exist; rows and uncompressed bytes (of ``columns``, None: all) in limits."""
    names = list(pf.schema_arrow.names)
    columns = names if columns is None else columns
    for col in columns:
        if col not in names:
            raise BundleError(f"missing column {col!r} (the file has {', '.join(names)})",
                              Location(shown, col))
    meta = pf.metadata
    rows = int(meta.num_rows)
    limits.ROWS.check(rows, f"the file holds {rows:,} rows", Location(shown), BundleError)
    # Decoded size: a dictionary- or run-length-encoded column is small on disk and even
    # before compression, but each row still becomes at least one fixed-width value.
    size = 0
    for field in pf.schema_arrow:
        if field.name not in columns:
            continue
        width = getattr(field.type, "bit_width", 64) // 8 if _fixed(field.type) else 8
        encoded = sum(int(meta.row_group(g).column(i).total_uncompressed_size)
                      for g in range(meta.num_row_groups) for i in range(meta.num_columns)
                      if meta.schema.column(i).path.split(".")[0] == field.name)
        size += max(encoded, rows * max(width, 1))
    limits.ARRAY_BYTES.check(size, f"the columns take about {size:,} bytes decoded",
                             Location(shown), BundleError)


def _fixed(kind: Any) -> bool:
    try:
        return int(kind.bit_width) > 0
    except ValueError:  # pyarrow raises for a type without a fixed width
        return False


def _column(pa: Any, table: Any, name: str, shown: str) -> np.ndarray:
    """One column as a numpy array; a null is an error naming its row.

    Read from the Arrow buffers, not by ``to_numpy``: pyarrow's conversion imports pandas when
    it is installed (about 0.2 s, more than decoding 10^7 rows). Numbers come as zero-copy
    views, text through Python strings (what the conversion did too)."""
    return _column_of(pa, table.column(name), name, shown)


def _column_of(pa: Any, col: Any, name: str, shown: str) -> np.ndarray:
    """``_column`` of a ChunkedArray."""
    if col.null_count:
        row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise BundleError(f"{name} at row {row + 1:,} is null", Location(shown, name, row + 1))
    kind = col.type
    value_kind = kind.value_type if pa.types.is_dictionary(kind) else kind
    if not (_is_text(pa, value_kind) or pa.types.is_integer(value_kind)
            or pa.types.is_floating(value_kind) or pa.types.is_boolean(value_kind)):
        raise BundleError(f"column {name!r} holds {value_kind}: ids are integers or strings, "
                          "scores numbers or booleans", Location(shown, name))
    parts: list[np.ndarray] = []
    row = 0
    for chunk in col.chunks:
        if len(chunk):
            parts.append(_decoded(pa, chunk, row, name, shown))
            row += len(chunk)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _is_text(pa: Any, kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _decoded(pa: Any, chunk: Any, first_row: int, name: str, shown: str) -> np.ndarray:
    """One chunk's values; a dictionary-encoded chunk is looked up (its indices checked)."""
    if not pa.types.is_dictionary(chunk.type):
        return _plain(pa, chunk)
    values = _plain(pa, chunk.dictionary)
    index = _plain(pa, chunk.indices)
    if int(index.min()) < 0 or int(index.max()) >= values.size:
        raise BundleError(f"unreadable Parquet: column {name!r} refers past its dictionary",
                          Location(shown, name))
    if chunk.dictionary.null_count:
        valid = _validity(chunk.dictionary)[index]
        if not valid.all():
            row = first_row + int(np.argmin(valid)) + 1
            raise BundleError(f"{name} at row {row:,} is null", Location(shown, name, row))
    out: np.ndarray = values[index]
    return out


def _plain(pa: Any, arr: Any) -> np.ndarray:
    """A pyarrow array of text, integers, floats or booleans (not dictionary-encoded) as numpy;
    its nulls are not looked at here."""
    kind = arr.type
    if _is_text(pa, kind):
        return np.array(arr.to_pylist(), dtype=str)
    data = arr.buffers()[1]
    if pa.types.is_boolean(kind):
        return _bits(data, arr.offset, len(arr))
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"<{code}{kind.bit_width // 8}")
    return np.frombuffer(data, dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def _validity(arr: Any) -> np.ndarray:
    """True where ``arr`` holds a value (Arrow's validity bitmap; none means no nulls)."""
    bitmap = arr.buffers()[0]
    if bitmap is None:
        return np.ones(len(arr), dtype=np.bool_)
    return _bits(bitmap, arr.offset, len(arr))


def _bits(buffer: Any, offset: int, length: int) -> np.ndarray:
    """Arrow's packed bits (least significant first) from bit ``offset`` on, as booleans."""
    if length == 0:
        return np.zeros(0, dtype=np.bool_)
    packed = np.frombuffer(buffer, dtype=np.uint8)
    bits = np.unpackbits(packed, count=offset + length, bitorder="little")
    out: np.ndarray = bits[offset:].astype(np.bool_)
    return out


def _ids(values: np.ndarray, column: str, shown: str) -> np.ndarray:
    if values.dtype.kind not in "iuU":
        raise BundleError(f"column {column!r} must hold integers or strings (got "
                          f"{values.dtype})", Location(shown, column))
    key = (integer_ids(values, shown, column) if values.dtype.kind in "iu"
           else text_ids(values, shown, column))
    return key


def _finite_scores(values: np.ndarray, column: str, shown: str) -> np.ndarray:
    scores = float_scores(values, shown, column)
    finite = np.isfinite(scores)
    if not finite.all():
        row = int(np.argmin(finite)) + 1
        raise BundleError(f"score at row {row:,} is not a finite number",
                          Location(shown, column, row))
    return scores


def read_parquet_scores(path: Path, shown: str, id_column: str, score_column: str,
                        cluster_column: str | None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(ids, scores, clusters) of a Parquet score file, columns named as for CSV."""
    columns = [id_column, score_column, *([cluster_column] if cluster_column else [])]
    pa, fh, pf, mapped = _open(path, shown)
    with fh:
        _check_footer(pf, columns, shown)

        def ids_and_repeat(col: Any) -> tuple[np.ndarray, object | None]:
            if len(col) == 0:
                raise BundleError("no scores in the file", Location(shown))
            ids = _ids(_column_of(pa, col, id_column, shown), id_column, shown)
            return ids, first_duplicate(ids)

        # One job per role, in the order of the checks (a column named twice is read twice).
        jobs: list[tuple[str, Callable[[Any], Any]]] = [
            (id_column, ids_and_repeat),
            (score_column, lambda col: _finite_scores(_column_of(pa, col, score_column, shown),
                                                      score_column, shown))]
        if cluster_column:
            jobs.append((cluster_column, lambda col: _labels(
                _column_of(pa, col, cluster_column, shown), cluster_column, shown)))
        decoded = _Columns(pa, pf, mapped, jobs, shown)
        try:
            # Taken in the order of the checks on one thread: the same error comes first.
            ids, dup = decoded.result(0)
            scores = decoded.result(1)
            if scores.size != ids.size:
                raise BundleError("unreadable Parquet: the columns hold different numbers of "
                                  "rows", Location(shown))
            if dup is not None:
                raise BundleError(f"duplicate example id {dup!r}", Location(shown, id_column))
            clusters = decoded.result(2) if cluster_column else None
        except BundleError:
            decoded.raise_unreadable()  # a column that cannot be decoded is named first
            raise
        finally:
            decoded.close()
    return ids, scores, clusters


def _labels(labels: np.ndarray, column: str, shown: str) -> np.ndarray:
    return labels.astype(str) if labels.dtype.kind in "iu" else _ids(labels, column, shown)


class _Columns:
    """Decodes columns on worker threads and hands each to its job's function there.

    Each column is read whole (one chunk, nothing to join) by one worker, which then converts
    and checks it: while one worker checks the ids, the other still decodes the scores.
    ``result(i)`` waits for job ``i`` and returns what its function gave, or raises what it
    raised.
    (Splitting a column's row groups between the workers was measured and dropped: the parts
    must be joined by a copy into fresh memory, and on a 2-core machine that cost more than the
    second decoding thread saved: 1.5 to 2x the wall time for a snappy file.)"""

    def __init__(self, pa: Any, pf: Any, mapped: Any,
                 jobs: list[tuple[str, Callable[[Any], Any]]], shown: str) -> None:
        self._pa, self._shown, self._jobs = pa, shown, jobs
        self._failed: dict[int, Exception] = {}
        self._results: dict[int, tuple[bool, Any]] = {}
        self._ready = [threading.Event() for _ in jobs]
        self._lock = threading.Lock()
        self._next = 0
        workers = max(1, min(int(pa.cpu_count()), len(jobs)))
        self._threads = [threading.Thread(target=self._work, args=(pf, mapped), daemon=True)
                         for _ in range(workers)]
        for thread in self._threads:
            thread.start()

    def _work(self, pf: Any, mapped: Any) -> None:
        reader = None
        while (job := self._take()) is not None:
            name, finish = self._jobs[job]
            try:
                if reader is None:
                    # One reader per thread over the same mapped bytes; the footer is not
                    # parsed again.
                    reader = type(pf)(self._pa.BufferReader(mapped), metadata=pf.metadata,
                                      pre_buffer=False)
                col = reader.read(columns=[name], use_threads=False).column(0)
            except Exception as exc:  # raised on the main thread, by raise_unreadable
                self._failed[job] = exc
                self._ready[job].set()
                continue
            try:
                self._results[job] = (True, finish(col))
            except Exception as exc:  # a BundleError (or a bug): raised by result()
                self._results[job] = (False, exc)
            finally:
                self._ready[job].set()  # whatever happened: the main thread never waits forever

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= len(self._jobs):
                return None
            self._next += 1
            return self._next - 1

    def result(self, job: int) -> Any:
        self._ready[job].wait()
        if job in self._failed:
            self.raise_unreadable()
        ok, value = self._results[job]
        if not ok:
            raise value
        return value

    def raise_unreadable(self) -> None:
        """The decoding error of the first job (in the order given) that has one, if any."""
        self.close()
        exc = next((self._failed[i] for i in range(len(self._jobs)) if i in self._failed),
                   None)
        if exc is None:
            return
        if isinstance(exc, self._pa.ArrowException | OSError | ValueError):
            raise BundleError(f"unreadable Parquet: {type(exc).__name__}: {exc}",
                              Location(self._shown)) from exc
        raise exc

    def close(self) -> None:
        for thread in self._threads:
            thread.join()


def iter_parquet_records(path: Path, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row, record) per row of a Parquet trace file, as a JSONL reader yields (line, record):
    the trace rules then apply unchanged. Rows count from 1."""
    pa, fh, pf, _mapped = _open(path, shown)
    with fh:
        _check_footer(pf, None, shown)
        row = 0
        try:
            for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
                for record in batch.to_pylist():
                    row += 1
                    yield row, record
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise BundleError(f"unreadable Parquet: {type(exc).__name__}: {exc}",
                              Location(shown, None, row + 1)) from exc
