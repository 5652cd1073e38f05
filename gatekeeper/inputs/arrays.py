"""Per-example scores as numpy arrays (``.npz``, or an ``.npy`` pair), read within limits.

Each array's header is read first and checked before any data is: no object arrays (they need
pickle), at most ``GATEKEEPER_MAX_ROWS`` elements and ``GATEKEEPER_MAX_ARRAY_BYTES`` bytes, and
no more data than the file (or the ``.npz`` member, once decompressed) holds. A zip bomb or a
header that claims 10^18 elements is refused before numpy allocates anything.
"""

from __future__ import annotations

import math
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from gatekeeper.errors import BundleError, Location
from gatekeeper.inputs import limits

_CHUNK_ROWS = 1 << 20
INT64_MAX = np.iinfo(np.int64).max
# What reading an archive or an array can raise on bad bytes, besides our own errors.
# (numpy parses an .npy header with ast.literal_eval: a mangled one is a SyntaxError or a
# tokenize.TokenError.)
READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error,
               NotImplementedError, RuntimeError, SyntaxError, tokenize.TokenError, KeyError,
               TypeError, OverflowError, MemoryError)


def _header(fh: IO[bytes], shown: str, name: str | None
            ) -> tuple[tuple[int, ...], np.dtype[Any]]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise BundleError(f"unsupported .npy format version {version}", Location(shown, name))
    return tuple(int(n) for n in shape), dtype


def _check_header(shape: tuple[int, ...], dtype: np.dtype[Any], holds: int, shown: str,
                  name: str | None) -> None:
    where = Location(shown, name)
    if dtype.hasobject:
        raise BundleError("unreadable .npy: object arrays are not allowed (they would need "
                          "pickle); save numbers or strings", where)
    count = math.prod(shape)
    limits.ROWS.check(count, f"the array holds {count:,} elements", where, BundleError)
    size = count * dtype.itemsize
    limits.ARRAY_BYTES.check(size, f"the array takes {size:,} bytes", where, BundleError)
    if size > holds:
        raise BundleError(f"the array header claims {size:,} bytes of data, the file holds "
                          f"{holds:,}", where)


def load_array(opener: Callable[[], IO[bytes]], holds: int, shown: str,
               name: str | None = None) -> np.ndarray:
    """One array: ``opener`` gives a fresh stream (once for the header, once for the data);
    ``name`` is the ``.npz`` member (None for an ``.npy`` file)."""
    try:
        with warnings.catch_warnings():
            # numpy warns (on stderr: a second line under the one error line) about headers
            # written by Python 2 and the like: such a file is refused, not half-read.
            warnings.simplefilter("error")
            with opener() as fh:
                shape, dtype = _header(fh, shown, name)
            _check_header(shape, dtype, holds, shown, name)
            with opener() as fh:
                array: np.ndarray = np.lib.format.read_array(fh, allow_pickle=False)
    except BundleError:
        raise
    except (*READ_ERRORS, Warning) as exc:
        kind = ".npz member" if name else ".npy"
        raise BundleError(f"unreadable {kind}: {type(exc).__name__}: {exc}",
                          Location(shown, name)) from exc
    return array


def npz_arrays(archive: zipfile.ZipFile, shown: str, wanted: tuple[str, ...]
               ) -> dict[str, np.ndarray]:
    """The named arrays of an ``.npz`` (members ``ids.npy``, ``scores.npy``...)."""
    members = {(n[:-4] if n.endswith(".npy") else n): archive.getinfo(n)
               for n in archive.namelist()}
    out: dict[str, np.ndarray] = {}
    for name in wanted:
        info = members.get(name)
        if info is None:
            continue
        limits.ARRAY_BYTES.check(info.file_size, f"member {info.filename!r} inflates to "
                                 f"{info.file_size:,} bytes", Location(shown, name), BundleError)

        def opener(info: zipfile.ZipInfo = info) -> IO[bytes]:
            return archive.open(info)

        out[name] = load_array(opener, info.file_size, shown, name)
    return out


def _bad_text(cp: np.ndarray) -> np.ndarray:
    """Rows (strings as UCS-4 code points, NUL-padded) that hold a control character, a lone
    surrogate, an interior NUL, or nothing at all."""
    bad = (((cp > 0) & (cp < 0x20)) | ((cp >= 0x7F) & (cp <= 0x9F)) | (cp == 0x2028)
           | (cp == 0x2029) | ((cp >= 0xD800) & (cp <= 0xDFFF)) | (cp > 0x10FFFF)).any(axis=1)
    bad |= cp[:, 0] == 0
    if cp.shape[1] > 1:
        bad |= ((cp[:, :-1] == 0) & (cp[:, 1:] != 0)).any(axis=1)
    out: np.ndarray = bad
    return out


def text_ids(ids: np.ndarray, shown: str, field: str) -> np.ndarray:
    """String ids as a ``U`` array: ASCII/UTF-8 bytes decoded, each one line of text."""
    where = Location(shown, field)
    if ids.dtype.kind == "S":
        try:
            ids = np.char.decode(ids, "utf-8") if ids.size else ids.astype(str)
        except UnicodeDecodeError as exc:
            raise BundleError(f"'{field}' holds bytes that are not UTF-8 text", where) from exc
    if ids.dtype.itemsize == 0:
        if ids.size:
            raise BundleError(f"'{field}' holds empty strings", where)
        return ids
    cp = np.ascontiguousarray(ids).view(np.uint32).reshape(ids.size, -1)
    for start in range(0, ids.size, _CHUNK_ROWS):
        bad = np.flatnonzero(_bad_text(cp[start:start + _CHUNK_ROWS]))
        if bad.size:
            i = start + int(bad[0])
            raise BundleError(f"{field}[{i}] = {str(ids[i])[:40]!r} is empty or holds a control "
                              "character", Location(shown, f"{field}[{i}]"))
    return ids


def integer_ids(ids: np.ndarray, shown: str, field: str) -> np.ndarray:
    if ids.dtype.kind == "u" and ids.size and int(ids.max()) > INT64_MAX:
        raise BundleError(f"'{field}' holds integers past 64-bit signed range",
                          Location(shown, field))
    # No copy when the file already holds int64 (the usual case): 80 MB saved at 10^7 rows.
    out: np.ndarray = ids.astype(np.int64, copy=False)
    return out


def first_duplicate(ids: np.ndarray) -> object | None:
    """The smallest id that occurs more than once, or None.

    Integer ids in a range not much wider than their count (row numbers, dataset indices) are
    checked with a table of seen ids, O(n) and one byte per id in the range; anything else, or
    a table that finds a repeat, takes the sort (so the id named is the same either way).
    """
    if ids.size > 1 and ids.dtype.kind in "iu":
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo < 4 * ids.size:
            seen = np.zeros(hi - lo + 1, dtype=np.bool_)
            seen[ids - lo if lo else ids] = True  # ids from 0 need no shifted copy
            if int(np.count_nonzero(seen)) == ids.size:
                return None
    ordered = np.sort(ids, kind="stable")
    dup_at = np.flatnonzero(ordered[1:] == ordered[:-1])
    return ordered[dup_at[0]].item() if dup_at.size else None


def float_scores(scores: np.ndarray, shown: str, field: str = "scores") -> np.ndarray:
    """Scores as float64: booleans, integers and floats; a complex, text or date array is no
    score (numpy would parse text or drop an imaginary part with only a warning)."""
    if scores.dtype.kind not in "biuf":
        raise BundleError(f"'{field}' must hold numbers (got dtype {scores.dtype.str!r})",
                          Location(shown, field))
    with np.errstate(all="ignore"):  # a float128 past float64 becomes inf: refused below
        out: np.ndarray = scores.astype(np.float64, copy=False)
    return out
