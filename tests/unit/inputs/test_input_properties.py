"""Property: whatever a bundle holds, reading it loads or raises gatekeeper's user error.

Generated run documents (the demo run with any value replaced by a hostile one, or arbitrary
YAML text), score files in every format and trace files, each read the way `check` reads them.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.envelope import missing_fields
from gatekeeper.inputs.scores import load_metric
from gatekeeper.inputs.traces import read_traces
from tests.conftest import EXAMPLES
from tests.unit.inputs.hostile import FAST, loads_or_refuses, paths, replaced, values

RUN = yaml.safe_load((EXAMPLES / "bundles" / "pass" / "run.yaml").read_text())
RUN_PATHS = paths(RUN)


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    """A private copy of the demo bundle, with a metric per score format besides its own."""
    root = Path(tempfile.mkdtemp(prefix="gk-props-"))
    dest = root / "bundle"
    shutil.copytree(EXAMPLES / "bundles" / "pass", dest)
    yield dest
    shutil.rmtree(root, ignore_errors=True)


def _read_all(path: Path) -> None:
    b = load_bundle(path)
    for name in b.run.metrics:
        load_metric(b, name)
    read_traces(b)
    b.sha256()
    b.verify_artifacts()
    missing_fields(b.run, ["code.commit", "data[*].sha256", "seeds", "llm.prompts[*].sha256"])


def _with_run(bundle: Path, text: bytes) -> None:
    run = bundle / "run.yaml"
    original = run.read_bytes()
    try:
        run.write_bytes(text)
        loads_or_refuses(lambda: _read_all(bundle))
    finally:
        run.write_bytes(original)


@FAST
@given(where=st.sampled_from(RUN_PATHS), value=values)
def test_any_value_anywhere_in_run_yaml(bundle: Path, where: tuple[Any, ...],
                                        value: Any) -> None:
    doc = replaced(RUN, where, value)
    text = yaml.safe_dump(doc, allow_unicode=False)  # escapes what YAML cannot hold raw
    _with_run(bundle, text.encode())


YAML_ALPHABET = [*"ab:-[]{},&*!?|>'\"#%@`~\n\t \\0123456789.eE+", "\x00", "\x1b", "\u2028",
                 "\ufeff", "\ud800", "é"]


@FAST
@given(text=st.text(alphabet=st.sampled_from(YAML_ALPHABET), max_size=80))
def test_arbitrary_yaml_text_as_run_yaml(bundle: Path, text: str) -> None:
    _with_run(bundle, text.encode("utf-8", "surrogatepass"))


@FAST
@given(where=st.sampled_from(RUN_PATHS), value=values)
def test_any_value_anywhere_in_run_json(bundle: Path, where: tuple[Any, ...],
                                        value: Any) -> None:
    doc = replaced(RUN, where, value)
    try:
        text = json.dumps(doc)  # NaN and Infinity as JSON's extension writes them
    except (TypeError, ValueError):
        return
    run_yaml, run_json = bundle / "run.yaml", bundle / "run.json"
    original = run_yaml.read_bytes()
    try:
        run_yaml.unlink()
        run_json.write_text(text)
        loads_or_refuses(lambda: _read_all(bundle))
    finally:
        run_json.unlink()
        run_yaml.write_bytes(original)


def _with_scores(bundle: Path, rel: str, content: bytes, spec: str,
                 extra: dict[str, bytes] | None = None) -> None:
    """Point exact_match at ``rel`` (written with ``content``) and load it."""
    run = bundle / "run.yaml"
    original = run.read_bytes()
    written = {rel: content, **(extra or {})}
    try:
        for name, data in written.items():
            (bundle / name).write_bytes(data)
        run.write_bytes(original.replace(b"per_example: scores/exact_match.csv",
                                         f"per_example: {rel}{spec}".encode()))
        loads_or_refuses(lambda: load_metric(load_bundle(bundle), "exact_match"))
    finally:
        run.write_bytes(original)
        for name in written:
            (bundle / name).unlink(missing_ok=True)


cells = st.one_of(st.text(max_size=8), st.sampled_from(
    ["1", "0", "0.5", "nan", "inf", "-1e400", "1e60", "true", "True", "1_0", "", " 1 ",
     "\x00", "a\x1bb", "9" * 400, "\ud800"]))


@FAST
@given(header=st.sampled_from(["id,score", "score,id", "id,scor", "id,score,extra", ""]),
       rows=st.lists(st.lists(cells, min_size=0, max_size=4), max_size=6),
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_scores(bundle: Path, header: str, rows: list[list[str]], newline: str) -> None:
    text = header + newline + "".join(",".join(r) + newline for r in rows)
    _with_scores(bundle, "scores/gen.csv", text.encode("utf-8", "surrogatepass"),
                 "\n    range: [0, 1]" if len(rows) % 2 else "")


@FAST
@given(records=st.lists(st.one_of(
    st.fixed_dictionaries({"id": values, "score": values}),
    st.dictionaries(st.sampled_from(["id", "score", "doc"]), values, max_size=3),
    values), max_size=5))
def test_jsonl_scores(bundle: Path, records: list[Any]) -> None:
    lines = []
    for record in records:
        try:
            lines.append(json.dumps(record))
        except (TypeError, ValueError):
            lines.append("{")
    _with_scores(bundle, "scores/gen.jsonl", "\n".join(lines).encode("utf-8", "surrogatepass"),
                 "\n    cluster_column: doc" if len(records) % 3 == 0 else "")


dtypes = st.one_of(hnp.scalar_dtypes(), hnp.byte_string_dtypes(), hnp.unicode_string_dtypes(),
                   st.sampled_from([np.dtype("<f16"), np.dtype([("a", "<f8")])]))
arrays = hnp.arrays(dtype=dtypes, shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


@FAST
@given(ids=arrays, scores=arrays, with_clusters=st.booleans())
def test_npz_scores(bundle: Path, ids: np.ndarray, scores: np.ndarray,
                    with_clusters: bool) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ids.npy", _npy(ids))
        zf.writestr("scores.npy", _npy(scores))
        if with_clusters:
            zf.writestr("clusters.npy", _npy(ids))
    _with_scores(bundle, "scores/gen.npz", buf.getvalue(), "")


@FAST
@given(ids=arrays, scores=arrays, cut=st.integers(min_value=0, max_value=200))
def test_npy_pairs(bundle: Path, ids: np.ndarray, scores: np.ndarray, cut: int) -> None:
    data = _npy(scores)
    data = data[:cut] if cut < 100 else data  # a truncated header or body, now and then
    _with_scores(bundle, "scores/gen.scores.npy", data, "",
                 {"scores/gen.ids.npy": _npy(ids)})


@FAST
@given(records=st.lists(st.one_of(
    st.fixed_dictionaries({"id": values, "latency_ms": values, "success": values,
                           "error": values}),
    values), max_size=4))
def test_trace_files(bundle: Path, records: list[Any]) -> None:
    traces = bundle / "traces" / "requests.jsonl"
    original = traces.read_bytes()
    run = bundle / "run.yaml"
    run_text = run.read_bytes()
    lines = []
    for record in records:
        try:
            lines.append(json.dumps(record).encode())
        except (TypeError, ValueError):
            lines.append(b"[")
    try:
        traces.write_bytes(b"\n".join(lines))
        run.write_bytes(run_text + b"llm:\n  traces: [traces/requests.jsonl]\n")

        def read() -> None:
            b = load_bundle(bundle)
            read_traces(b)
            load_metric(b, "latency_ms")

        loads_or_refuses(read)
    finally:
        traces.write_bytes(original)
        run.write_bytes(run_text)
