"""Hostile inputs, one per crash class the fuzzer and the issue found: each must exit 2 with one
stderr line naming the file and the field or line, never a traceback, a hang or unbounded memory.

The bundle and the policy come from the pull request under review, so every case is something a
PR can write: YAML tricks, numbers no metric takes, files that are not files, archives that
inflate, names that look like other names.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.acceptance.test_bad_inputs import Case, assert_exits_2_with_one_line
from tests.conftest import AS_OF, ROOT, Result

CSV = Path("scores") / "exact_match.csv"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture drift: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _run(b: Path) -> Path:
    return b / "run.yaml"


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _rows(b: Path) -> list[tuple[str, float]]:
    lines = (b / CSV).read_text().splitlines()[1:]
    return [(line.split(",")[0], float(line.split(",")[1])) for line in lines]


def _per_example(b: Path, rel: str, extra: str = "") -> None:
    """Point exact_match at another score file (and drop the CSV)."""
    _edit(_run(b), "per_example: scores/exact_match.csv", f"per_example: {rel}{extra}")
    (b / CSV).unlink()


def _jsonl_scores(b: Path, last: str) -> None:
    text = "".join(json.dumps({"id": i, "score": s}) + "\n" for i, s in _rows(b))
    (b / "scores" / "em.jsonl").write_text(text + last + "\n")
    _per_example(b, "scores/em.jsonl")


def _latency(b: Path, p: Path, last: str) -> None:
    """A policy that reads the latency samples, and a trace file that ends with ``last``."""
    _append(p, "budgets:\n  - {name: latency_ms, max: 100000}\n")
    _append(b / "traces" / "requests.jsonl", last)


def _npz_scores(b: Path, ids: np.ndarray | None = None, scores: np.ndarray | None = None,
                ) -> None:
    rows = _rows(b)
    ids = np.array([i for i, _ in rows]) if ids is None else ids
    scores = np.array([s for _, s in rows]) if scores is None else scores
    np.savez(b / "scores" / "em.npz", ids=ids, scores=scores)
    _per_example(b, "scores/em.npz")


def _npy_scores(b: Path, scores: np.ndarray) -> None:
    np.save(b / "scores" / "em.ids.npy", np.arange(scores.size))
    np.save(b / "scores" / "em.scores.npy", scores)
    _per_example(b, "scores/em.scores.npy")


def _npy_bytes(header: dict[str, object], data: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def zip_bomb(b: Path, _p: Path) -> None:
    """ids.npy inflates to 64 MiB of zeros from about 64 KiB (the limit is set to 16 MiB for
    the test; by default it is 2 GiB)."""
    n = 8 * 1024 * 1024
    with zipfile.ZipFile(b / "scores" / "em.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ids.npy", _npy_bytes({"descr": "<i8", "fortran_order": False,
                                           "shape": (n,)}, bytes(8 * n)))
        zf.writestr("scores.npy", _npy_bytes({"descr": "<f8", "fortran_order": False,
                                              "shape": (1,)}, bytes(8)))
    _per_example(b, "scores/em.npz")


def zip_claims_gigabytes(b: Path, _p: Path) -> None:
    """A member whose recorded size is 3.75 GiB: refused on the record, before inflating."""
    _npz_scores(b)
    raw = bytearray((b / "scores" / "em.npz").read_bytes())
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = raw.find(signature)
        struct.pack_into("<I", raw, at + offset, 0xF0000000)
    (b / "scores" / "em.npz").write_bytes(bytes(raw))


def npy_header_claims(b: Path, _p: Path) -> None:
    """An .npy whose header claims 10^12 elements over 16 bytes of data."""
    _npy_scores(b, np.ones(2))
    (b / "scores" / "em.scores.npy").write_bytes(_npy_bytes(
        {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, bytes(16)))


def alias_bomb_of_strings(b: Path, _p: Path) -> None:
    """Seven levels of nine aliases over a 2,000-character string: 96 KB of YAML that expands
    to 9^6 × 2,000 = 1 GB of text."""
    lines = ["  a0: &a0 " + "x" * 2000]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]
    _edit(_run(b), "params:\n", "params:\n" + "\n".join(lines) + "\n")


def alias_bomb_of_nodes(b: Path, _p: Path) -> None:
    lines = ["  l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    _edit(_run(b), "params:\n", "params:\n" + "\n".join(lines) + "\n")


def deep_block_nesting(b: Path, _p: Path) -> None:
    """300 levels of block mappings (each key on its own line)."""
    nested = "".join("  " * (i + 2) + f"k{i}:\n" for i in range(300)) + "  " * 302 + "x\n"
    _edit(_run(b), "params:\n", "params:\n  deep:\n" + nested)


def fifo(b: Path, _p: Path) -> None:
    os.mkfifo(b / "scores" / "pipe")


def fifo_score_file(b: Path, _p: Path) -> None:
    (b / CSV).unlink()
    os.mkfifo(b / CSV)


def symlink_loop(b: Path, _p: Path) -> None:
    os.symlink("loop-b", b / "loop-a")
    os.symlink("loop-a", b / "loop-b")


def symlink_loop_score(b: Path, _p: Path) -> None:
    (b / CSV).unlink()
    os.symlink("exact_match.csv", b / CSV)


def hard_link_to_outside(b: Path, _p: Path) -> None:
    """The candidate's scores as a second name of a file outside the bundle."""
    outside = b.parent / "elsewhere.csv"
    shutil.copy(b / CSV, outside)
    (b / CSV).unlink()
    os.link(outside, b / CSV)


def hard_link_inside(b: Path, _p: Path) -> None:
    os.link(b / "artifacts" / "model.json", b / "artifacts" / "copy.json")


def hundred_mb_line(path: Path) -> None:
    with path.open("a", encoding="utf-8") as fh:
        chunk = "x" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
    assert path.stat().st_size > 100_000_000


def npy_ids_link_out(b: Path, _p: Path) -> None:
    """The scores are in the bundle; the ids beside them are a symlink to a file outside."""
    _npy_scores(b, np.ones(3))
    outside = b.parent / "ids.npy"
    np.save(outside, np.arange(3))
    (b / "scores" / "em.ids.npy").unlink()
    os.symlink(outside, b / "scores" / "em.ids.npy")


def both_run_files(b: Path, _p: Path) -> None:
    (b / "run.json").write_text(json.dumps({"schema": "gatekeeper.run/v1", "run_id": "other",
                                            "model": "sentiment-clf"}))


def branch_override_with_mapping_name(_b: Path, p: Path) -> None:
    _append(p, "branches:\n  'release/*':\n    metrics:\n      - metric: {a: 1}\n"
               "        min: 0.5\n")


CASES = [
    # -- YAML the reader used to pass through to an exception ----------------------------------
    Case("impossible date", lambda b, p: _edit(_run(b), "created_at: '2026-11-20T10:00:00Z'",
                                               "created_at: 2026-02-30"),
         ("run.yaml:4:", "field 'created_at'", "2026-02-30", "day is out of range")),
    Case("impossible time zone", lambda b, p: _edit(
        _run(b), "created_at: '2026-11-20T10:00:00Z'", "created_at: 2026-11-20T10:00:00+99:00"),
         ("run.yaml:4:", "field 'created_at'", "not a valid timestamp")),
    Case("impossible date in the policy", lambda b, p: _append(
        p, "waivers:\n  - {check: 'metric:accuracy:min', reason: r, approved_by: a, "
           "expires: 2026-13-01}\n"),
         ("default.yaml:", "field 'waivers[0].expires'", "month must be in 1..12")),
    Case("!!python tag", lambda b, p: _edit(_run(b), "model: sentiment-clf",
                                            "model: !!python/object/apply:os.system ['true']"),
         ("run.yaml:3:", "explicit YAML tag", "python/object/apply")),
    Case("!!binary tag", lambda b, p: _edit(_run(b), "model: sentiment-clf",
                                            "model: !!binary c2VudGltZW50LWNsZg=="),
         ("run.yaml:3:", "explicit YAML tag", "binary")),
    Case("!!timestamp oddity", lambda b, p: _edit(
        _run(b), "created_at: '2026-11-20T10:00:00Z'", "created_at: !!timestamp 2026-11-20"),
         ("run.yaml:4:", "explicit YAML tag", "timestamp")),
    Case("empty base-16 integer", lambda b, p: _edit(_run(b), "  epochs: 4", "  epochs: 0x_"),
         ("run.yaml:", "field 'params.epochs'", "not a valid int")),
    Case("integer past Python's digit limit", lambda b, p: _edit(
        _run(b), "  epochs: 4", "  epochs: " + "9" * 5000),
         ("run.yaml:", "field 'params.epochs'", "5,000 characters")),
    Case("integer past 64 bits", lambda b, p: _edit(_run(b), "  size: 193",
                                                    "  size: 99999999999999999999"),
         ("run.yaml:", "field 'artifacts[0].size'", "does not fit in 64 bits")),
    Case("float that overflows", lambda b, p: _edit(_run(b), "- 0.9076\n", "- 1.0e+400\n"),
         ("run.yaml:", "field 'metrics.accuracy.replicates[2]'", "not a finite number")),
    Case("control character", lambda b, p: _edit(_run(b), "model: sentiment-clf",
                                                 "model: sentiment\x01clf"),
         ("run.yaml:3:", "U+0001")),
    Case("control character in the policy", lambda b, p: _edit(p, "owner: ml-platform",
                                                               "owner: ml\x1bplatform"),
         ("default.yaml:", "U+001B")),
    Case("300 levels of flow nesting", lambda b, p: _edit(
        _run(b), "  epochs: 4", "  epochs: " + "[" * 300 + "]" * 300),
         ("run.yaml:", "GATEKEEPER_MAX_DEPTH")),
    Case("300 levels of block nesting", deep_block_nesting, ("run.yaml:", "GATEKEEPER_MAX_DEPTH")),
    Case("10^5 levels of nesting", lambda b, p: _edit(
        _run(b), "  epochs: 4", "  epochs: " + "[" * 100_000 + "]" * 100_000),
         ("run.yaml:", "GATEKEEPER_MAX_DEPTH")),
    Case("10^5 levels of nesting in the policy", lambda b, p: _append(
        p, "x: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n"),
         ("default.yaml:", "GATEKEEPER_MAX_DEPTH")),
    Case("a merge key that names itself", lambda b, p: _edit(
        _run(b), "  epochs: 4", "  epochs: &m {<<: *m}"),
         ("run.yaml:", "GATEKEEPER_MAX_DEPTH")),
    Case("alias bomb of long strings", alias_bomb_of_strings,
         ("run.yaml:", "field 'params.a", "GATEKEEPER_MAX_DOCUMENT_BYTES")),
    Case("alias bomb of nodes", alias_bomb_of_nodes, ("run.yaml:", "GATEKEEPER_MAX_NODES")),
    Case("100 MB single-line run.yaml", lambda b, p: hundred_mb_line(_run(b)),
         ("run.yaml", "GATEKEEPER_MAX_DOCUMENT_BYTES")),
    # -- names and ids --------------------------------------------------------------------------
    Case("a mapping as a metric name", lambda b, p: _edit(
        _run(b), "  accuracy:\n", "  ? {a: 1}\n  : {value: 1}\n  accuracy:\n"),
         ("run.yaml:", "field 'metrics'", "mapping keys must be plain scalars")),
    Case("a mapping as a policy metric name, in a branch override",
         branch_override_with_mapping_name,
         ("default.yaml:", "metrics[2].metric", "release/*")),
    Case("a mapping as an example id (JSONL)", lambda b, p: _jsonl_scores(
        b, '{"id": {"a": 1}, "score": 1}'),
         ("em.jsonl:2001", "field 'id'", "an id is a string or an integer")),
    Case("a lone surrogate as an id (JSONL)", lambda b, p: _jsonl_scores(
        b, '{"id": "\\ud800", "score": 1}'),
         ("em.jsonl:2001", "lone surrogate")),
    Case("a lone surrogate escape in YAML", lambda b, p: _edit(
        _run(b), "model: sentiment-clf", 'model: "sentiment\\ud800"'),
         ("run.yaml:3:", "Unicode")),
    Case("look-alike metric name (Cyrillic а)", lambda b, p: _edit(
        _run(b), "  accuracy:\n", "  аccuracy:\n"),
         ("run.yaml:", "field 'metrics.аccuracy'", "mixes the scripts Cyrillic, Latin")),
    Case("metric name not in NFKC form (fullwidth ａ)", lambda b, p: _edit(
        _run(b), "  accuracy:\n", "  ａccuracy:\n"),
         ("run.yaml:", "field 'metrics.ａccuracy'", "NFKC")),
    Case("metric name with a zero-width space", lambda b, p: _edit(
        _run(b), "  accuracy:\n", "  accu\u200bracy:\n"),
         ("run.yaml:", "U+200B")),
    Case("look-alike metric name in the policy", lambda b, p: _edit(
        p, "metric: accuracy", "metric: ассuracy"),
         ("default.yaml:", "field 'metrics[0].metric'", "mixes the scripts")),
    Case("id with an escape character (CSV)", lambda b, p: _append(b / CSV, "ex-\x1b[2J,1\n"),
         ("exact_match.csv:2002", "field 'id'", "U+001B")),
    Case("id with a NUL (CSV)", lambda b, p: _append(b / CSV, "ex-\x00,1\n"),
         ("exact_match.csv:2002", "field 'id'", "U+0000")),
    Case("id with a line break (.npz)", lambda b, p: _npz_scores(
        b, ids=np.array(["a", "b\n::error::x"]), scores=np.ones(2)),
         ("em.npz", "field 'ids[1]'", "control character")),
    # -- numbers no metric takes ------------------------------------------------------------------
    Case("NaN in CSV", lambda b, p: _edit(b / CSV, "ex-0005,1", "ex-0005,nan"),
         ("exact_match.csv:7", "field 'score'", "not a finite number")),
    Case("Infinity in JSONL", lambda b, p: _jsonl_scores(b, '{"id": "z", "score": Infinity}'),
         ("em.jsonl:2001", "field 'score'", "not a finite number")),
    Case("NaN in .npz", lambda b, p: _npz_scores(
        b, ids=np.array(["a", "b"]), scores=np.array([1.0, np.nan])),
         ("em.npz", "field 'scores[1]'", "not a finite number")),
    Case("Inf in .npy", lambda b, p: _npy_scores(b, np.array([1.0, np.inf])),
         ("em.scores.npy", "field 'scores[1]'", "not a finite number")),
    Case("score outside the declared range (CSV)", lambda b, p: (
        _edit(_run(b), "    per_example: scores/exact_match.csv",
              "    per_example: scores/exact_match.csv\n    range: [0, 1]"),
        _edit(b / CSV, "ex-0005,1", "ex-0005,1.5")),
         ("exact_match.csv", "1.5", "outside the metric's range [0, 1]")),
    Case("score past 1e50 (.npy)", lambda b, p: _npy_scores(b, np.array([0.0, 1e60])),
         ("em.scores.npy", "1e+60", "no metric takes such values")),
    Case("replicate near the float limit", lambda b, p: _edit(
        _run(b), "- 0.9076\n", "- -1.0e+308\n"),
         ("run.yaml:", "metrics.accuracy.replicates", "no metric takes such values")),
    Case("complex scores (.npy)", lambda b, p: _npy_scores(b, np.array([1 + 2j, 3j])),
         ("em.scores.npy", "must hold numbers")),
    Case("integer ids past 64 bits (.npz)", lambda b, p: _npz_scores(
        b, ids=np.array([2**64 - 1, 1], dtype=np.uint64), scores=np.ones(2)),
         ("em.npz", "field 'ids'", "64-bit")),
    Case("duplicate ids in .npz", lambda b, p: _npz_scores(
        b, ids=np.array(["a", "b", "a"]), scores=np.ones(3)),
         ("em.npz", "field 'ids'", "duplicate example id 'a'")),
    Case("boolean seed", lambda b, p: _edit(_run(b), "seeds:\n- 0\n", "seeds:\n- true\n"),
         ("run.yaml:", "field 'seeds[0]'", "not a boolean")),
    Case("boolean row count", lambda b, p: _edit(_run(b), "rows: 2000", "rows: true"),
         ("run.yaml:", "field 'data[1].rows'", "not a boolean")),
    Case("boolean latency in a trace", lambda b, p: _latency(
        b, p, '{"id": "zz", "latency_ms": true}\n'),
         ("requests.jsonl:2001", "field 'latency_ms'", "must be a number, not a boolean")),
    Case("integer score past Python's digit limit (JSONL)", lambda b, p: _jsonl_scores(
        b, '{"id": "z", "score": ' + "9" * 5000 + "}"),
         ("em.jsonl:2001", "invalid JSON")),
    Case("integer latency past 1.8e308", lambda b, p: _latency(
        b, p, '{"id": "zz", "latency_ms": 1' + "0" * 400 + "}\n"),
         ("requests.jsonl:2001", "field 'latency_ms'", "finite")),
    Case("a margin below float resolution", lambda b, p: _edit(p, "margin: 0.005",
                                                               "margin: 5.0e-324"),
         ("default.yaml:", "field 'metrics[1].vs_baseline.margin'", "below 1e-09")),
    Case("a resampling count that would take days", lambda b, p: _append(
        p, "stats: {resamples: 1000000000000}\n"),
         ("default.yaml:", "field 'stats.resamples'", "at most 1,000,000")),
    # -- files that are not files, archives that inflate ----------------------------------------
    Case("zip bomb inside .npz", zip_bomb, ("em.npz", "field 'ids'", "inflates to",
                                            "GATEKEEPER_MAX_ARRAY_BYTES"),
         (("GATEKEEPER_MAX_ARRAY_BYTES", str(16 * 1024 * 1024)),)),
    Case(".npz member that claims 3.75 GiB", zip_claims_gigabytes,
         ("em.npz", "field 'ids'", "4,026,531,840 bytes", "GATEKEEPER_MAX_ARRAY_BYTES")),
    Case(".npy header that claims 10^12 elements", npy_header_claims,
         ("em.scores.npy", "GATEKEEPER_MAX_ROWS")),
    Case("FIFO in the bundle", fifo, ("bundle", "'scores/pipe' is a FIFO")),
    Case("FIFO as the score file", fifo_score_file,
         ("run.yaml:", "metrics.exact_match.per_example", "is a FIFO")),
    Case("symlink loop in the bundle", symlink_loop, ("bundle", "symlink loop")),
    Case("symlink loop as the score file", symlink_loop_score,
         ("run.yaml:", "metrics.exact_match.per_example", "symlink loop")),
    Case("hard link to a file outside", hard_link_to_outside,
         ("run.yaml:", "metrics.exact_match.per_example", "2 hard links")),
    Case("hard link inside the bundle", hard_link_inside,
         ("run.yaml:", "artifacts[0].path", "2 hard links")),
    Case(".npy ids beside the scores link out of the bundle", npy_ids_link_out,
         ("run.yaml:", "metrics.exact_match.per_example", "leaves the bundle through a symlink")),
    Case("path component too long (ENAMETOOLONG)", lambda b, p: _edit(
        _run(b), "per_example: scores/exact_match.csv", "per_example: scores/" + "a" * 300),
         ("run.yaml:", "metrics.exact_match.per_example", "file names are at most 255")),
    Case("extends a name too long", lambda b, p: _edit(p, "kind: Policy\n",
                                                       "kind: Policy\nextends: " + "a" * 300 +
                                                       ".yaml\n"),
         ("default.yaml:", "field 'extends'", "File name too long")),
    Case("100 MB single-line score file", lambda b, p: hundred_mb_line(b / CSV),
         ("exact_match.csv:2002", "GATEKEEPER_MAX_LINE_BYTES")),
    Case("run.yaml and run.json both present", both_run_files,
         ("bundle", "several run files (run.yaml, run.json)")),
    Case("more metrics than the limit", lambda b, p: _edit(
        _run(b), "metrics:\n", "metrics:\n" + "".join(f"  m{i}: {{value: 1}}\n"
                                                       for i in range(30))),
         ("run.yaml:", "field 'metrics'", "GATEKEEPER_MAX_METRICS"),
         (("GATEKEEPER_MAX_METRICS", "20"),)),
    Case("more data entries than the limit", lambda b, p: None,
         ("run.yaml:", "field 'data'", "2 entries", "GATEKEEPER_MAX_ARTIFACTS"),
         (("GATEKEEPER_MAX_ARTIFACTS", "1"),)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_exits_2_with_one_line(case: Case, tmp_path: Path,
                                             cli: Callable[..., Result],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert_exits_2_with_one_line(case, tmp_path, cli, monkeypatch)


def test_an_artifact_whose_size_lies_blocks(tmp_path: Path,
                                             cli: Callable[..., Result]) -> None:
    """A size that differs from the file is the artifact check's block (never waivable), not
    an input error: the run is well formed, its evidence is not."""
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundles" / "pass", bundle)
    _edit(_run(bundle), "  size: 193", "  size: 1")
    res = cli("check", str(bundle), "--policy", "policies/default.yaml", "--as-of", AS_OF,
              "--format", "json")
    assert res.code == 1, res.err
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    artifact = checks["artifact:artifacts/model.json"]
    assert artifact["status"] == "block"
    assert "size mismatch: expected 1 bytes, found 193" in artifact["message"]


def test_a_bad_limit_setting_is_an_input_error(cli: Callable[..., Result],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKEEPER_MAX_DEPTH", "many")
    res = cli("check", "examples/bundles/pass", "--policy", "policies/default.yaml",
              "--as-of", AS_OF)
    assert res.code == 2
    assert res.err.count("\n") == 1 and "GATEKEEPER_MAX_DEPTH must be a whole number" in res.err


def test_folders_nested_a_thousand_deep_are_walked_without_recursion(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    """The bundle hash lists every file: a recursive walk overflowed the stack here."""
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundles" / "pass", bundle)
    folders = [bundle / "d"]
    for _ in range(1200):
        os.mkdir(folders[-1])  # one level at a time: os.makedirs itself recurses
        folders.append(folders[-1] / "d")
    (folders[-2] / "notes.txt").write_text("deep\n")
    try:
        res = cli("check", str(bundle), "--policy", "policies/default.yaml", "--as-of", AS_OF)
        assert res.code == 0, res.err
    finally:  # deepest first: shutil.rmtree (and pytest's cleanup) recurse too
        (folders[-2] / "notes.txt").unlink()
        for folder in reversed(folders[:-1]):
            folder.rmdir()
