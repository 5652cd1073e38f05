"""The bounded readers one by one: YAML, names, bundle files, arrays and text lines."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gatekeeper.errors import BundleError, InputError, Location
from gatekeeper.inputs.arrays import load_array, npz_arrays, text_ids
from gatekeeper.inputs.fileio import confine, open_regular
from gatekeeper.inputs.names import name_problem
from gatekeeper.inputs.textio import bounded_lines, open_text, parse_json_record
from gatekeeper.inputs.yamlio import parse_text, read_document

# -- YAML -----------------------------------------------------------------------------------


def test_merge_keys_merge_and_the_mapping_own_keys_win() -> None:
    data, lines = parse_text("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert data["item"] == {"x": 1, "y": 3}
    assert lines[("item", "y")] == (4, 3)


def test_a_merge_of_a_list_keeps_the_first_value_of_a_key() -> None:
    data, _ = parse_text("a: &a {k: 1}\nb: &b {k: 2, j: 2}\nc: {<<: [*a, *b]}\n", "f.yaml")
    assert data["c"] == {"k": 1, "j": 2}


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!str 1", "explicit YAML tag 'tag:yaml.org,2002:str'"),
    ("a: !local x", "explicit YAML tag '!local'"),
    ("a: 2026-02-29", "day is out of range for month"),
    ("a: 0b_", "not a valid int"),
    ("a: 9223372036854775808", "does not fit in 64 bits"),
    ("a: -9223372036854775809", "does not fit in 64 bits"),
    ("a: " + "1" * 101, "101 characters"),
    ("a: 1.0e+400", "not a finite number"),
    ("a: .NaN", "not a finite number"),
    ("a: [1, *b]", "undefined alias"),
    ("? [1]\n: 2", "mapping keys must be plain scalars"),
    ("a: \x07", "U+0007"),
    ("a: &x [*x]", "GATEKEEPER_MAX_DEPTH"),
    ("a: 1\n---\nb: 2", "expected a single document in the stream: but found another document"),
])
def test_yaml_refusals_are_located_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as err:
        parse_text(text, "f.yaml")
    assert err.value.location.file == "f.yaml" and err.value.location.line is not None


def test_limits_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKEEPER_MAX_DEPTH", "2")
    assert parse_text("a: [1]", "f.yaml")[0] == {"a": [1]}
    with pytest.raises(InputError, match="GATEKEEPER_MAX_DEPTH"):
        parse_text("a: [[1]]", "f.yaml")
    monkeypatch.setenv("GATEKEEPER_MAX_NODES", "3")
    with pytest.raises(InputError, match="GATEKEEPER_MAX_NODES"):
        parse_text("a: [1, 2]", "f.yaml")


def test_a_document_is_read_from_a_regular_file_only(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_document(fifo)  # without the check this would wait for a writer forever


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["accuracy", "exact_match/flexible", "f1@k=5", "точность",
                                  "正確率", "精度accuracy", "レイテンシp95", "정확도",
                                  "latency_p95_ms"])
def test_plain_names_in_one_script_or_an_allowed_mix(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(("name", "problem"), [
    ("аccuracy", "mixes the scripts Cyrillic, Latin"),
    ("αccuracy", "mixes the scripts Greek, Latin"),
    ("ａccuracy", "NFKC"),
    ("ﬁ_score", "NFKC"),
    ("accu\u200bracy", "U+200B"),
    ("accuracy\u202e", "U+202E"),
])
def test_look_alike_names_are_refused(name: str, problem: str) -> None:
    found = name_problem(name)
    assert found is not None and problem in found


# -- bundle files -----------------------------------------------------------------------------


def test_confine_refuses_what_is_not_a_regular_file_of_its_own(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "a.csv").write_text("id,score\n")
    os.link(root / "a.csv", root / "b.csv")
    os.mkfifo(root / "pipe")
    os.symlink("loop", root / "loop")
    where = Location("run.yaml", "metrics.x.per_example", 3)
    with pytest.raises(BundleError, match="2 hard links"):
        confine(root, "a.csv", where)
    with pytest.raises(BundleError, match="is a FIFO"):
        confine(root, "pipe", where)
    with pytest.raises(BundleError, match="symlink loop"):
        confine(root, "loop", where)
    with pytest.raises(BundleError, match="at most 255"):
        confine(root, "x" * 256, where)
    assert confine(root, "missing.csv", where) == root / "missing.csv"


def test_open_regular_does_not_wait_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(BundleError, match="is a FIFO"):
        open_regular(tmp_path / "pipe", "pipe", Location("b"))


# -- arrays -----------------------------------------------------------------------------------


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def test_an_npz_member_is_checked_before_it_is_inflated(
        monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ids.npy", _npy(np.zeros(1 << 20, dtype=np.int64)))
    monkeypatch.setenv("GATEKEEPER_MAX_ARRAY_BYTES", str(1 << 20))
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as archive, \
            pytest.raises(BundleError, match="inflates to 8,388,7"):
        npz_arrays(archive, "s.npz", ("ids",))


def test_a_header_that_claims_more_than_the_file_holds_is_refused() -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (1000,)})
    data = header.getvalue() + bytes(80)
    with pytest.raises(BundleError, match="claims 8,000 bytes of data, the file holds 208"):
        load_array(lambda: io.BytesIO(data), len(data), "s.npy")


def test_string_ids_hold_one_line_each() -> None:
    assert list(text_ids(np.array(["a", "b c"]), "s.npz", "ids")) == ["a", "b c"]
    with pytest.raises(BundleError, match=r"ids\[1\]"):
        text_ids(np.array(["a", "b\x1b"]), "s.npz", "ids")
    with pytest.raises(BundleError, match=r"ids\[0\]"):
        text_ids(np.array(["", "b"]), "s.npz", "ids")
    with pytest.raises(BundleError, match="not UTF-8"):
        text_ids(np.array([b"\xff"]), "s.npz", "ids")


# -- text lines -------------------------------------------------------------------------------


def test_a_line_past_the_limit_is_refused_before_it_is_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKEEPER_MAX_LINE_BYTES", "10")
    path = tmp_path / "s.csv"
    path.write_text("id,score\n" + "x" * 50 + "\n")
    with open_text(path, "s.csv") as fh, pytest.raises(BundleError, match="line 2 is longer"):
        list(bounded_lines(fh, "s.csv"))


@pytest.mark.parametrize(("line", "message"), [
    ('{"a": ' + "[" * 100 + "]" * 100 + "}", "GATEKEEPER_MAX_DEPTH"),
    ('{"id": "\\udc00"}', "lone surrogate"),
    ('{"score": ' + "9" * 5000 + "}", "invalid JSON"),
    ('{"a": ' + "[" * 100_000, "GATEKEEPER_MAX_DEPTH|invalid JSON"),
])
def test_a_json_record_is_bounded(line: str, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        parse_json_record(line, "t.jsonl", 7)
