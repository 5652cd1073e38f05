"""Property: whatever a tool's output holds, `gatekeeper import` writes a bundle the gate reads,
or raises gatekeeper's user error. Real outputs (tests/fixtures/real) with any value of their
JSON (or MLflow's meta.yaml and metric lines) replaced by a hostile one."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.importers import ImportOptions, get_importer
from gatekeeper.importers.writer import write_drafts
from tests.unit.inputs.hostile import FAST, loads_or_refuses, paths, replaced, values

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"
MLFLOW_RUN = "4709c8402d5e436b8ce9a601f44516a5"
# (tool, folder copied, source inside it, options, the file whose JSON is edited)
SOURCES: tuple[tuple[str, str, str, dict[str, Any], str], ...] = (
    ("lm-eval", "lm-eval/pr1668", ".", {}, "results.json"),
    ("lm-eval", "lm-eval/pr1668", ".", {}, "model__gpt-3.5-turbo-0125_wmdp_bio.jsonl"),
    ("lm-eval", "lm-eval/v0.3-results", ".", {}, "llama-7B_common_sense_reasoning_0-shot.json"),
    ("promptfoo", "promptfoo/run1", ".", {}, "output.json"),
    ("inspect", "inspect_ai/main", ".", {}, "2025-05-12T20-28-13-04-00_popularity.json"),
    ("inspect", "inspect_ai/pr2488-set", "2025-09-15T15-02-26-04-00_popularity_"
     "L8g2GLGDDfsiXvdJ8LyZNJ.eval", {}, "2025-09-15T15-02-26-04-00_popularity_"
     "L8g2GLGDDfsiXvdJ8LyZNJ.eval"),
    ("mlflow", "mlflow/mlruns/0", MLFLOW_RUN, {}, f"{MLFLOW_RUN}/meta.yaml"),
)


def _doc(index: int) -> Any:
    """The parsed document a source's edits apply to."""
    _tool, folder, _inside, _opts, name = SOURCES[index]
    path = REAL / folder / name
    if path.suffix == ".eval":
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read("header.json"))
    if path.suffix == ".jsonl" and not path.read_text().lstrip().startswith("["):
        return [json.loads(line) for line in path.read_text().splitlines()[:5] if line.strip()]
    if path.suffix == ".yaml":
        return yaml.safe_load(path.read_text())
    return json.loads(path.read_text())


DOCS = [_doc(i) for i in range(len(SOURCES))]
# A few hundred places per document at most: enough to reach every section of it.
PLACES = [(i, where) for i, doc in enumerate(DOCS) for where in paths(doc)[:300]]


def _encode(index: int, doc: Any) -> bytes | None:
    name = SOURCES[index][4]
    try:
        if name.endswith(".eval"):
            original = REAL / SOURCES[index][1] / name
            buf = io.BytesIO()
            with zipfile.ZipFile(original) as src, zipfile.ZipFile(buf, "w") as dst:
                for info in src.infolist():
                    data = (json.dumps(doc).encode() if info.filename == "header.json"
                            else src.read(info))
                    dst.writestr(info.filename, data)
            return buf.getvalue()
        if name.endswith(".jsonl") and not (REAL / SOURCES[index][1] / name).read_text() \
                .lstrip().startswith("["):
            lines = doc if isinstance(doc, list) else [doc]
            return "\n".join(json.dumps(line) for line in lines).encode("utf-8",
                                                                        "surrogatepass")
        if name.endswith(".yaml"):
            return yaml.safe_dump(doc, allow_unicode=False).encode()
        return json.dumps(doc).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return None  # a value JSON cannot hold (a non-string key)


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="gk-import-props-"))
    for i, (_tool, folder, _inside, _opts, _name) in enumerate(SOURCES):
        shutil.copytree(REAL / folder, root / str(i))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _import(workspace: Path, index: int, content: bytes) -> None:
    tool, _folder, inside, opts, name = SOURCES[index]
    target = workspace / str(index) / name
    original = target.read_bytes()
    try:
        target.write_bytes(content)
        options = ImportOptions(force=True, **opts)

        def run() -> None:
            importer = get_importer(tool)
            drafts = importer.read(workspace / str(index) / inside, options)
            write_drafts(importer.name, drafts, workspace / "out" / "bundle", options)

        loads_or_refuses(run)
    finally:
        target.write_bytes(original)


@FAST
@given(place=st.sampled_from(PLACES), value=values)
def test_any_value_anywhere_in_a_tools_output(workspace: Path, place: tuple[int, Any],
                                              value: Any) -> None:
    index, where = place
    content = _encode(index, replaced(DOCS[index], where, value))
    if content is not None:
        _import(workspace, index, content)


@FAST
@given(lines=st.lists(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(
    ["1700000000000", "nan", "-inf", "1e400", "9" * 5000, "0.5", "-1"])), max_size=4),
    max_size=5))
def test_mlflow_metric_lines(workspace: Path, lines: list[list[str]]) -> None:
    index = len(SOURCES) - 1
    metrics = workspace / str(index) / MLFLOW_RUN / "metrics"
    target = sorted(p for p in metrics.rglob("*") if p.is_file())[0]
    original = target.read_bytes()
    try:
        target.write_text("\n".join(" ".join(line) for line in lines), encoding="utf-8",
                          errors="surrogatepass")
        options = ImportOptions(force=True)

        def run() -> None:
            importer = get_importer("mlflow")
            drafts = importer.read(workspace / str(index) / MLFLOW_RUN, options)
            write_drafts(importer.name, drafts, workspace / "out" / "bundle", options)

        loads_or_refuses(run)
    finally:
        target.write_bytes(original)
