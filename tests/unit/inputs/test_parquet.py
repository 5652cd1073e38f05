"""Parquet score and trace files: they load like the other formats, and every bad row is an input
error naming the file, the column and the row (pyarrow is the `parquet` extra; the test extra
installs it, so a missing pyarrow fails here rather than skipping)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatekeeper.errors import BundleError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric
from gatekeeper.inputs.traces import read_traces
from tests.conftest import AS_OF, EXAMPLES, ROOT, Result


def _bundle_with(tmp_path: Path, per_example: str) -> Path:
    dest = tmp_path / "pq"
    shutil.copytree(EXAMPLES / "bundles" / "pass", dest)
    run = dest / "run.yaml"
    run.write_text(run.read_text().replace("per_example: scores/exact_match.csv",
                                           f"per_example: {per_example}"))
    return dest


def _csv_columns(bundle: Path) -> tuple[list[str], list[float]]:
    rows = (bundle / "scores" / "exact_match.csv").read_text().splitlines()[1:]
    return [r.split(",")[0] for r in rows], [float(r.split(",")[1]) for r in rows]


def _write(bundle: Path, columns: dict[str, Any], **kwargs: Any) -> None:
    pq.write_table(pa.table(columns), bundle / "scores" / "em.parquet", **kwargs)


def _load(bundle: Path) -> Any:
    return load_metric(load_bundle(bundle), "exact_match")


def test_parquet_loads_like_csv(tmp_path: Path) -> None:
    ref = load_metric(load_bundle(EXAMPLES / "bundles" / "pass"), "exact_match")
    b = _bundle_with(tmp_path, "scores/em.parquet")
    ids, scores = _csv_columns(b)
    # Several row groups and a dictionary-encoded id column, as Spark and DuckDB write them.
    _write(b, {"id": pa.array(ids).dictionary_encode(), "score": scores}, row_group_size=300)
    got = _load(b)
    np.testing.assert_array_equal(got.values, ref.values)
    assert got.ids is not None and list(got.ids) == list(ref.ids)


def test_integer_ids_stay_integers_and_booleans_are_scores(tmp_path: Path) -> None:
    b = _bundle_with(tmp_path, "scores/em.parquet")
    _write(b, {"id": pa.array([3, 1, 2], pa.int32()), "score": [True, False, True]})
    got = _load(b)
    assert got.ids is not None and got.ids.dtype == np.int64 and list(got.ids) == [3, 1, 2]
    assert got.values.dtype == np.float64 and list(got.values) == [1.0, 0.0, 1.0]


def test_check_on_a_parquet_candidate_gives_the_csv_verdict(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    b = _bundle_with(tmp_path, "scores/em.parquet")
    ids, scores = _csv_columns(b)
    _write(b, {"id": ids, "score": scores})
    args = ("--policy", "policies/default.yaml", "--format", "json", "--as-of", AS_OF)
    ref = json.loads(cli("check", "examples/bundles/pass", *args).out)
    got = json.loads(cli("check", str(b), *args).out)
    pick = next(x for x in got["checks"] if x["id"] == "metric:exact_match:vs_baseline")
    want = next(x for x in ref["checks"] if x["id"] == "metric:exact_match:vs_baseline")
    assert (pick["ci"], pick["n"], pick["status"]) == (want["ci"], want["n"], want["status"])
    assert got["verdict"] == ref["verdict"]


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "a null score": ({"id": ["a", "b", "c"], "score": pa.array([1.0, 1.0, None])},
                     r"em\.parquet:3, field 'score': score at row 3 is null"),
    "a NaN score": ({"id": ["a", "b", "c"], "score": [1.0, float("nan"), 0.0]},
                    r"em\.parquet:2, field 'score': score at row 2 is not a finite number"),
    "an infinite score": ({"id": ["a", "b"], "score": [float("inf"), 0.0]},
                          r"row 1 is not a finite number"),
    "a null id": ({"id": pa.array(["a", None]), "score": [1.0, 0.0]},
                  r"em\.parquet:2, field 'id': id at row 2 is null"),
    "a repeated id": ({"id": ["a", "b", "a"], "score": [1.0, 0.0, 1.0]},
                      r"field 'id': duplicate example id 'a'"),
    "a repeated integer id": ({"id": [7, 8, 7], "score": [1.0, 0.0, 1.0]},
                              r"duplicate example id 7"),
    "an id with a control character": ({"id": ["a", "b\x1b[2J"], "score": [1.0, 0.0]},
                                       r"id\[1\].*control character"),
    "an empty id": ({"id": ["a", ""], "score": [1.0, 0.0]}, r"id\[1\].*empty"),
    "text scores": ({"id": ["a", "b"], "score": ["1", "0"]}, r"'score' must hold numbers"),
    "float ids": ({"id": [1.0, 2.0], "score": [1.0, 0.0]},
                  r"column 'id' must hold integers or strings"),
    "a list column": ({"id": [[1], [2]], "score": [1.0, 0.0]}, r"column 'id' holds list"),
    "no score column": ({"id": ["a"], "value": [1.0]},
                        r"missing column 'score' \(the file has id, value\)"),
    "no rows": ({"id": pa.array([], pa.string()), "score": pa.array([], pa.float64())},
                r"no scores in the file"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_rows_are_input_errors_naming_file_column_row(tmp_path: Path, case: str) -> None:
    columns, message = BAD[case]
    b = _bundle_with(tmp_path, "scores/em.parquet")
    _write(b, columns)
    with pytest.raises(BundleError, match=message):
        _load(b)


def test_limits_are_checked_from_the_footer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    b = _bundle_with(tmp_path, "scores/em.parquet")
    n = 5000
    # Constant columns compress to almost nothing: the limit reads the uncompressed size.
    _write(b, {"id": np.arange(n), "score": np.zeros(n)}, compression="zstd")
    assert (b / "scores" / "em.parquet").stat().st_size < 40_000
    monkeypatch.setenv("GATEKEEPER_MAX_ROWS", "4999")
    with pytest.raises(BundleError, match=r"holds 5,000 rows, over the limit.*GATEKEEPER_MAX_ROWS"):
        _load(b)
    monkeypatch.delenv("GATEKEEPER_MAX_ROWS")
    monkeypatch.setenv("GATEKEEPER_MAX_ARRAY_BYTES", "60000")
    with pytest.raises(BundleError,
                       match=r"bytes decoded, over the limit.*GATEKEEPER_MAX_ARRAY_BYTES"):
        _load(b)


def test_a_file_that_is_no_parquet_is_an_input_error(tmp_path: Path) -> None:
    b = _bundle_with(tmp_path, "scores/em.parquet")
    (b / "scores" / "em.parquet").write_bytes(b"PAR1 but not really" * 10)
    with pytest.raises(BundleError, match=r"unreadable Parquet"):
        _load(b)


def test_the_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    b = _bundle_with(tmp_path, "scores/em.parquet")
    _write(b, {"id": ["a", "b"], "score": [1.0, float("nan")]})
    proc = subprocess.run([sys.executable, "-m", "gatekeeper", "check", str(b), "--policy",
                           "policies/default.yaml", "--as-of", AS_OF], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "em.parquet:2, field 'score'" in proc.stderr


def _llm_bundle(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    dest = tmp_path / "llm"
    shutil.copytree(EXAMPLES / "llm" / "bundles" / "pass", dest)
    run = dest / "run.yaml"
    run.write_text(run.read_text().replace("- traces/requests.jsonl", "- traces/requests.parquet"))
    pq.write_table(pa.Table.from_pylist(records), dest / "traces" / "requests.parquet")
    return dest


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_parquet_traces_read_like_jsonl(tmp_path: Path) -> None:
    src = EXAMPLES / "llm" / "bundles" / "pass"
    ref = read_traces(load_bundle(src))
    got = read_traces(load_bundle(_llm_bundle(tmp_path, _jsonl(src / "traces" /
                                                               "requests.jsonl"))))
    assert ref is not None and got is not None
    assert list(got.ids) == list(ref.ids)
    np.testing.assert_array_equal(got.success, ref.success)
    assert got.fields.keys() == ref.fields.keys()
    for name, values in ref.fields.items():
        np.testing.assert_array_equal(got.fields[name], values)


@pytest.mark.parametrize(("change", "message"), [
    ({"latency_ms": -1.0},
     r"requests\.parquet:2, field 'latency_ms': latency_ms must be a finite number >= 0"),
    ({"id": "q-000"}, r"requests\.parquet:2, field 'id': duplicate request id 'q-000'"),
    ({"success": "yes"}, r"success must be true or false"),
], ids=["negative latency", "repeated id", "text success"])
def test_bad_trace_rows_name_the_row(tmp_path: Path, change: dict[str, Any], message: str
                                     ) -> None:
    records = _jsonl(EXAMPLES / "llm" / "bundles" / "pass" / "traces" / "requests.jsonl")
    if "success" in change:
        records = [{**r, "success": str(r["success"])} for r in records]
    else:
        records[1] = {**records[1], **change}
    with pytest.raises(BundleError, match=message):
        read_traces(load_bundle(_llm_bundle(tmp_path, records)))


# Column types as pipelines write them, read from the Arrow buffers (not pyarrow's to_numpy,
# which imports pandas): each must give what the values are.
TYPED = {
    "int8 ids, float32 scores": (pa.array([5, -2, 9], pa.int8()),
                                 pa.array([0.5, 1.0, 0.25], pa.float32()),
                                 [5, -2, 9], [0.5, 1.0, 0.25]),
    "uint32 ids, float16 scores": (pa.array([7, 8, 9], pa.uint32()),
                                   pa.array(np.array([1.0, 0.0, 0.5], np.float16)),
                                   [7, 8, 9], [1.0, 0.0, 0.5]),
    "large_string ids, int16 scores": (pa.array(["a", "bé", "c"], pa.large_string()),
                                       pa.array([1, 0, 1], pa.int16()),
                                       ["a", "bé", "c"], [1.0, 0.0, 1.0]),
    "dictionary int ids, bool scores": (pa.array([4, 6, 5]).dictionary_encode(),
                                        pa.array([False, True, True]),
                                        [4, 6, 5], [0.0, 1.0, 1.0]),
}


@pytest.mark.parametrize("case", list(TYPED))
def test_column_types_load_as_their_values(tmp_path: Path, case: str) -> None:
    ids, scores, want_ids, want_scores = TYPED[case]
    b = _bundle_with(tmp_path, "scores/em.parquet")
    # Two rows per row group: several chunks, joined.
    _write(b, {"id": ids, "score": scores}, row_group_size=2)
    got = _load(b)
    assert got.ids is not None and list(got.ids) == want_ids
    assert got.values.dtype == np.float64 and list(got.values) == want_scores


def test_columns_of_sliced_and_dictionary_chunks() -> None:
    # In memory, a chunk can start at an offset into its buffers (a slice) and a dictionary
    # chunk refers to its values by index: both must come out as the rows they hold.
    from gatekeeper.inputs import parquet

    rows = 70  # past a byte of packed booleans, so the bit offset matters
    ids = pa.chunked_array([pa.array(np.arange(rows, dtype=np.int64)),
                            pa.array([100, 101, 102], pa.int64())])
    flags = np.arange(rows + 3) % 3 == 0
    table = pa.table({"id": ids, "score": pa.array(flags)}).slice(9)
    assert table.column("score").chunk(0).offset == 9
    assert list(parquet._column(pa, table, "id", "t.parquet")) == [*range(9, rows), 100, 101,
                                                                   102]
    assert list(parquet._column(pa, table, "score", "t.parquet")) == list(flags[9:])
    labels = pa.DictionaryArray.from_arrays(pa.array([2, 0, 2, 1], pa.int8()),
                                            pa.array(["p", "q", "r"]))
    got = parquet._column(pa, pa.table({"id": labels}).slice(1), "id", "t.parquet")
    assert list(got) == ["p", "r", "q"]


def test_a_null_inside_a_dictionary_is_a_null_row() -> None:
    from gatekeeper.inputs import parquet

    labels = pa.DictionaryArray.from_arrays(pa.array([0, 0, 1], pa.int32()),
                                            pa.array(["a", None]))
    with pytest.raises(BundleError, match=r"t\.parquet:3, field 'id': id at row 3 is null"):
        parquet._column(pa, pa.table({"id": labels}), "id", "t.parquet")
    past = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["a"]),
                                          safe=False)
    with pytest.raises(BundleError, match=r"refers past its dictionary"):
        parquet._column(pa, pa.table({"id": past}), "id", "t.parquet")


def test_reading_parquet_scores_loads_no_pandas(tmp_path: Path) -> None:
    # pyarrow's to_numpy imports pandas when it is installed (as it is here): about 0.2 s per
    # `check`, more than decoding 10^7 rows. The loader reads the buffers instead.
    b = _bundle_with(tmp_path, "scores/em.parquet")
    ids, scores = _csv_columns(b)
    _write(b, {"id": pa.array(ids).dictionary_encode(), "score": scores}, row_group_size=300)
    code = ("import sys\nfrom pathlib import Path\n"
            "from gatekeeper.inputs.bundle import load_bundle\n"
            "from gatekeeper.inputs.scores import load_metric\n"
            f"m = load_metric(load_bundle(Path({str(b)!r})), 'exact_match')\n"
            "assert 'pyarrow' in sys.modules and m.values.size\n"
            "print(' '.join(x for x in ('pandas', 'pyarrow.compute') if x in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


# The columns are decoded and checked on worker threads (the ids while the scores decode); the
# error a file gets must still be the one a single thread meets first, whatever finishes first.
def _corrupt_column(path: Path, column: int) -> None:
    """Overwrite the start of ``column``'s first page (its header): it no longer decodes."""
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(column)
    raw = bytearray(path.read_bytes())
    start = chunk.data_page_offset
    raw[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))


ORDER: dict[str, tuple[dict[str, Any], int | None, str]] = {
    "an undecodable score column before a repeated id":
        ({"id": ["a", "b", "a"], "score": [1.0, 0.5, 0.25]}, 1, r"unreadable Parquet: OSError"),
    "an undecodable score column before a bad id":
        ({"id": ["a", "b\x1b"], "score": [1.0, 0.5]}, 1, r"unreadable Parquet: OSError"),
    "an undecodable score column before a null id":
        ({"id": pa.array(["a", None]), "score": [1.0, 0.5]}, 1, r"unreadable Parquet"),
    "an undecodable id column before a NaN score":
        ({"id": ["a", "b"], "score": [float("nan"), 0.5]}, 0, r"unreadable Parquet: OSError"),
    "a bad id before a NaN score":
        ({"id": ["a", "b\x1b"], "score": [float("nan"), 0.5]}, None, r"id\[1\].*control"),
    "a NaN score before a repeated id":
        ({"id": ["a", "b", "a"], "score": [1.0, float("nan"), 0.5]}, None,
         r"score at row 2 is not a finite number"),
    "a repeated id before a bad cluster":
        ({"id": ["a", "b", "a"], "score": [1.0, 0.5, 0.5], "doc": ["d", "", "e"]}, None,
         r"duplicate example id 'a'"),
    "a bad cluster label":
        ({"id": ["a", "b", "c"], "score": [1.0, 0.5, 0.5], "doc": ["d", "", "e"]}, None,
         r"doc\[1\].*empty"),
}


@pytest.mark.parametrize("case", list(ORDER), ids=list(ORDER))
def test_the_first_error_is_the_one_a_single_thread_meets(tmp_path: Path, case: str) -> None:
    from gatekeeper.inputs.parquet import read_parquet_scores

    columns, corrupt, message = ORDER[case]
    path = tmp_path / "em.parquet"
    pq.write_table(pa.table(columns), path, use_dictionary=False, compression="snappy")
    if corrupt is not None:
        _corrupt_column(path, corrupt)
    cluster = "doc" if "doc" in columns else None
    before = threading.active_count()
    for _ in range(3):  # whichever worker finishes first, the same error
        with pytest.raises(BundleError, match=message):
            read_parquet_scores(path, "s/em.parquet", "id", "score", cluster)
    assert threading.active_count() == before  # the workers are joined on the error path too


def test_clusters_and_every_column_come_out_whole_and_the_same_each_time(tmp_path: Path
                                                                         ) -> None:
    from gatekeeper.inputs.parquet import read_parquet_scores

    n = 50_000
    rng = np.random.default_rng(5)
    ids = rng.permutation(n).astype(np.int64)
    scores = rng.random(n)
    docs = rng.integers(0, 300, n)
    path = tmp_path / "em.parquet"
    pq.write_table(pa.table({"id": ids, "score": scores, "doc": docs}), path,
                   row_group_size=7_000)
    before = threading.active_count()
    first = read_parquet_scores(path, "s/em.parquet", "id", "score", "doc")
    again = read_parquet_scores(path, "s/em.parquet", "id", "score", "doc")
    assert threading.active_count() == before
    got_ids, got_scores, got_docs = first
    assert got_ids.tobytes() == ids.tobytes() and got_scores.tobytes() == scores.tobytes()
    assert got_docs is not None and list(got_docs) == [str(d) for d in docs]
    assert all(a is not None and b is not None and a.tobytes() == b.tobytes()
               for a, b in zip(first, again, strict=True))


def test_a_column_named_in_two_roles_is_read_for_each(tmp_path: Path) -> None:
    from gatekeeper.inputs.parquet import read_parquet_scores

    path = tmp_path / "em.parquet"
    pq.write_table(pa.table({"id": [4, 5, 6], "score": [1.0, 0.0, 1.0]}), path)
    ids, scores, clusters = read_parquet_scores(path, "s/em.parquet", "id", "score", "id")
    assert list(ids) == [4, 5, 6] and list(scores) == [1.0, 0.0, 1.0]
    assert clusters is not None and list(clusters) == ["4", "5", "6"]
    ids, scores, clusters = read_parquet_scores(path, "s/em.parquet", "id", "id", None)
    assert list(ids) == [4, 5, 6] and list(scores) == [4.0, 5.0, 6.0] and clusters is None
    with pytest.raises(BundleError, match=r"column 'score' must hold integers or strings"):
        read_parquet_scores(path, "s/em.parquet", "score", "score", None)


def test_an_unexpected_error_on_a_worker_comes_out_as_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug in a check (here the repeated-id table) must reach the main thread as what it is
    # (exit 3, not an input error), and never leave the main thread waiting for the worker.
    from gatekeeper.inputs import parquet

    def broken(ids: np.ndarray) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(parquet, "first_duplicate", broken)
    path = tmp_path / "em.parquet"
    pq.write_table(pa.table({"id": [1, 2], "score": [1.0, 0.0]}), path)
    caught: list[BaseException] = []

    def load() -> None:
        try:
            parquet.read_parquet_scores(path, "s/em.parquet", "id", "score", None)
        except BaseException as exc:  # the test inspects what came out
            caught.append(exc)

    before = threading.active_count()
    runner = threading.Thread(target=load)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "the load hung waiting for a worker"
    assert len(caught) == 1 and isinstance(caught[0], RuntimeError)
    assert str(caught[0]) == "boom" and not isinstance(caught[0], BundleError)
    assert threading.active_count() == before
