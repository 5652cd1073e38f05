"""A mutation fuzzer over everything gatekeeper reads from a pull request.

    python bench/fuzz.py [--inputs 100000] [--workers 2] [--seed 0] [--timeout 5]
                         [--gate-every 100] [--out DIR]

Seeds are the example bundles (`run.yaml`, `run.json`; the warn demo also with its scores given
as `paired_counts` and as `paired_moments`), the policies, score files in every
format (CSV, JSONL, `.npy` pairs, `.npz`), trace files and the real tool outputs under
`tests/fixtures/real`, plus a few hostile files (alias bombs, deep nesting, zip bombs). Each
input is a seed with one to four mutations stacked (bit flips, interesting bytes and numbers,
spliced spans, dictionary tokens, and structure-aware edits of the parsed YAML/JSON or array),
fed in process to the loader that reads that kind of file. Every `--gate-every`-th input runs
the whole `gatekeeper check` instead (against the demo file registry), so a value a loader
accepts but a check cannot handle shows up too.

An outcome is fine when the input loads, or when gatekeeper raises its documented user error (a
`GatekeeperError` with a message; exit 2 with one stderr line through the CLI). Anything else is
a crash — any other exception, a warning, exit 3 or a traceback — and an input that runs longer
than `--timeout` seconds is a hang. Each distinct crash (by exception type and the innermost
gatekeeper frame) is saved once under `--out` with its traceback; `tests/unit/inputs/
test_fuzz_regressions.py` replays the saved cases kept in `tests/fixtures/fuzz/`.

Prints: inputs run, outcomes, crashes, hangs, and the peak RSS of the workers.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import itertools
import json
import multiprocessing as mp
import os
import queue
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gatekeeper.errors import GatekeeperError  # noqa: E402

AS_OF = "2026-11-26"
REAL = ROOT / "tests" / "fixtures" / "real"
# Importer sources that import cleanly: (tool, folder copied, the source inside it, options).
IMPORT_SOURCES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("lm-eval", "lm-eval/pr1567/llama", ".", {"model_name": "llama"}),
    ("lm-eval", "lm-eval/pr1668", ".", {}),
    ("lm-eval", "lm-eval/pr3936", "results_2026-07-08T16-04-34.219874.json", {}),
    ("lm-eval", "lm-eval/v0.3-results", ".", {}),
    ("promptfoo", "promptfoo/run1", ".", {}),
    ("promptfoo", "promptfoo/run2", ".", {"provider": "support-model-v12"}),
    ("inspect", "inspect_ai/main", ".", {}),
    ("inspect", "inspect_ai/pr2488-set", ".", {"model": "openai/gpt-5"}),
    ("mlflow", "mlflow/mlruns/0", "4709c8402d5e436b8ce9a601f44516a5", {}),
)

# ---------------------------------------------------------------------------------------------
# Mutations


INTERESTING_BYTES = (b"\x00", b"\x01", b"\x1b", b"\x7f", b"\x80", b"\xff", b"\xfe", b"\t",
                     b"\r", b"\n", b"\x0b", b"\x0c", b'"', b"'", b"\\", b",", b":", b"#", b"&",
                     b"*", b"!", b"[", b"{", b"-", b"?", b"|", b">", b"%", b"@", b"`")
INTERESTING_NUMBERS = ("0", "-0", "-1", "1", "0.0", "1e400", "-1e400", "1.0e+400", "1e-400",
                       "1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "nan",
                       ".nan", "NaN", "inf", ".inf", "-.inf", "Infinity", "-Infinity",
                       str(2**31), str(2**63 - 1), str(2**63), str(2**64), str(-(2**63) - 1),
                       "9" * 30, "9" * 120, "9" * 5000, "0x_", "0b_", "0o_", "0x" + "f" * 90,
                       "1_000", "1:2:3:4:5", "true", "false", "null", "~", "''", "[]", "{}",
                       "1.", ".5", "+1", "01", "1e", "1e+", "0.1234567890123456789012345")
TOKENS = (
    "!!binary aGk=", "!!python/object/apply:os.system ['true']", "!!timestamp 2026-13-45",
    "!!int xyz", "!!float", "!!str", "!!set {a, b}", "!!omap [a: 1]", "!<tag:x>", "!local x",
    "&a ", "*a", "&b [*a, *a, *a]", "<<: *a", "<<: ", "<<: [*a]", "? [1, 2]\n: 3", "? {a: 1}",
    "--- ", "...", "%YAML 1.1\n---\n", "%TAG ! tag:x,2000:\n", "2026-02-30", "2026-02-30T10:00:00Z",
    "0000-01-01", "9999-12-31T23:59:59+99:99", "2026-01-01 00:00:00.1234567890", "\"\\ud800\"",
    "\"\\ud83d\\ude00\"", "\"\\x00\"", "\"\\u0085\"", "\"\\u2028\"", "\"\\e[31m\"", "\\ud800",
    "\"\\U0010ffff\"", "\u202e", "\u200b", "\ufeff", "\u2028", "\x85", "ａ", "а", "ﬁ",
    "[" * 70, "{a: " * 70, "- " * 70, "}" * 5, "]" * 5, "\t", "\r\n", "\r", "x" * 300,
    "../../../etc/passwd", "/etc/passwd", "C:\\x", "scores/exact_match.csv",
    "traces/requests.jsonl",
    "a" * 256, "/".join(["d"] * 1100), "\x00", "NaN", "Infinity", "-Infinity", "1e999",
    '{"__proto__": 1}', '"id": {"a": 1}', '"id": [1]', '"id": true', '"id": 1.5', '"id": null',
    '"score": "1e400"', '"score": true', '"latency_ms": -1', '"success": "yes"', '"error": {}',
)
HOSTILE_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**63 - 1, 2**63, -(2**63), 10**30, 1e308, -1e308, 5e-324,
    float("nan"), float("inf"), "", " ", "x" * 300, "a\x1bb", "line\nbreak", "\u202eevil",
    "\u200baccuracy", "аccuracy", "ａccuracy", "ﬁ", "../x", "/abs", "scores/exact_match.csv",
    "2026-02-30", [], {}, [1, [2, [3]]], {"a": {"b": {}}}, ["x"] * 50, {"k": "v"}, [None],
)


def _span(rng: random.Random, n: int) -> tuple[int, int]:
    if n == 0:
        return 0, 0
    a = rng.randrange(n)
    return a, min(n, a + rng.choice((1, 2, 4, 8, 16, 64, 256)))


def _numbers(data: bytes) -> list[re.Match[bytes]]:
    return list(re.finditer(rb"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", data[:200_000]))


def byte_mutation(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    """One AFL-style edit of ``data``."""
    n = len(data)
    op = rng.randrange(10)
    if op == 0 and n:  # flip bits
        b = bytearray(data)
        for _ in range(rng.choice((1, 2, 4))):
            b[rng.randrange(n)] ^= 1 << rng.randrange(8)
        return bytes(b)
    if op == 1 and n:  # an interesting byte
        i = rng.randrange(n)
        return data[:i] + rng.choice(INTERESTING_BYTES) + data[i + rng.randrange(2):]
    if op == 2:  # delete a span
        a, b_ = _span(rng, n)
        return data[:a] + data[b_:]
    if op == 3:  # duplicate a span
        a, b_ = _span(rng, n)
        return data[:b_] + data[a:b_] * rng.choice((1, 2, 16)) + data[b_:]
    if op == 4:  # a dictionary token
        i = rng.randrange(n + 1)
        return data[:i] + rng.choice(TOKENS).encode("utf-8", "surrogatepass") + data[i:]
    if op == 5:  # an interesting number in place of a number
        numbers = _numbers(data)
        if numbers:
            m = rng.choice(numbers)
            return data[:m.start()] + rng.choice(INTERESTING_NUMBERS).encode() + data[m.end():]
    if op == 6:  # replace a word
        words = list(re.finditer(rb"[A-Za-z_]+", data[:200_000]))
        if words:
            m = rng.choice(words)
            new = rng.choice(TOKENS + INTERESTING_NUMBERS).encode("utf-8", "surrogatepass")
            return data[:m.start()] + new + data[m.end():]
    if op == 7 and others:  # splice another seed's tail
        other = rng.choice(others)
        a, c = rng.randrange(n + 1), rng.randrange(len(other) + 1)
        return data[:a] + other[c:]
    if op == 8 and n:  # truncate
        return data[:rng.randrange(n)]
    # a line repeated or moved
    lines = data.split(b"\n")
    if len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines.insert(j, lines[i])
        return b"\n".join(lines)
    return data + rng.choice(INTERESTING_BYTES)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if len(here) > 12:  # a recursive or alias-bombed document: enough places to edit
        return
    if isinstance(value, dict):
        for k, v in list(value.items())[:200]:
            yield from _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:20]):
            yield from _paths(v, (*here, i))


def _nested(depth: int) -> Any:
    out: Any = 1
    for _ in range(depth):
        out = [out]
    return out


def tree_mutation(value: Any, rng: random.Random) -> Any:
    """One edit of a parsed YAML/JSON document: a node replaced, removed, duplicated, deepened."""
    paths = list(itertools.islice(_paths(value), 2000))  # an alias bomb has billions
    path = rng.choice(paths)
    if not path:
        return rng.choice((value, [value], {"x": value}, _nested(rng.choice((70, 300)))))
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    op = rng.randrange(6)
    if op == 0 and isinstance(parent, dict):
        del parent[key]
    elif op == 1 and isinstance(parent, list):
        parent.insert(key, parent[key])
    elif op == 2:
        parent[key] = _nested(rng.choice((3, 65, 300)))
    elif op == 3 and isinstance(parent, dict):
        parent[rng.choice(("accuracy", "аccuracy", "ａccuracy", "x\ty", "", "1", "extra"))] = \
            parent[key]
    else:
        parent[key] = rng.choice(HOSTILE_VALUES)
    return value


def yaml_tree_mutation(data: bytes, rng: random.Random, as_json: bool) -> bytes:
    try:
        value = (json.loads(data) if as_json else yaml.load(data, Loader=yaml.CSafeLoader))
    except Exception:
        return data
    if value is None:
        return data
    value = tree_mutation(value, rng)
    try:
        if as_json:
            return json.dumps(value).encode()
        return yaml.safe_dump(value, allow_unicode=rng.random() < 0.5).encode("utf-8",
                                                                              "surrogatepass")
    except Exception:
        return data


def jsonl_tree_mutation(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    if not candidates:
        return data
    i = rng.choice(candidates)
    lines[i] = yaml_tree_mutation(lines[i], rng, as_json=True)
    return b"\n".join(lines)


_NPY_DTYPES = ("<f8", "<f4", "<f2", "<i8", "<u8", "|u1", "|b1", "<c16", "<U7", "<U1", "|S4",
               "<M8[s]", "|O", "|V8", "<f16", "<i2", "<U0", "[('a', '<f8')]")


def npy_header_mutation(data: bytes, rng: random.Random) -> bytes:
    """Rewrite the dict of an .npy header: its shape, dtype or order."""
    m = re.search(rb"\{.*?\}", data[:4096], re.S)
    if m is None:
        return data
    header = m.group()
    op = rng.randrange(3)
    if op == 0:
        shape = rng.choice(("()", "(0,)", "(1,)", "(10**18,)".replace("10**18", str(10**18)),
                            "(2, 2)", "(-1,)", "(3000000000,)", "(1, 0)", "(99999999,)"))
        header = re.sub(rb"'shape': \([^)]*\)", b"'shape': " + shape.encode(), header)
    elif op == 1:
        header = re.sub(rb"'descr': '[^']*'", b"'descr': '" + rng.choice(_NPY_DTYPES).encode()
                        + b"'", header)
    else:
        header = header.replace(b"False", b"True") if rng.random() < 0.5 else header + b" "
    out = data[:m.start()] + header + data[m.end():]
    return out


def npz_mutation(data: bytes, rng: random.Random) -> bytes:
    """Edit one member of an .npz (its .npy bytes or header), or the archive's bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > 1024 * 1024:
                return byte_mutation(data, rng, [])  # a bomb: edit its bytes, not its members
            members = {i.filename: zf.read(i) for i in zf.infolist()}
    except Exception:
        return byte_mutation(data, rng, [])
    if not members or rng.random() < 0.2:
        return byte_mutation(data, rng, [])
    name = rng.choice(sorted(members))
    op = rng.randrange(4)
    if op == 0:
        members[name] = npy_header_mutation(members[name], rng)
    elif op == 1:
        members[name] = byte_mutation(members[name], rng, [])
    elif op == 2:
        members[rng.choice(("ids.npy", "scores.npy", "clusters.npy", "extra.npy"))] = \
            members[name]
    else:
        del members[name]
    buf = io.BytesIO()
    method = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
    with zipfile.ZipFile(buf, "w", method) as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def array_file(rng: random.Random, what: str) -> bytes:
    """A fresh, structurally valid .npy with a hostile dtype or hostile contents."""
    n = rng.choice((0, 1, 3, 10))
    kind = rng.randrange(8)
    if kind == 0:
        arr: np.ndarray = np.array([f"id{i}" for i in range(n)] + ["a\x1bb", ""][:rng.randrange(3)])
    elif kind == 1:
        arr = np.array([1.0, float("nan"), float("inf"), 1e308][: max(1, n)])
    elif kind == 2:
        arr = np.array([2**64 - 1, 2**63, 0], dtype=np.uint64)
    elif kind == 3:
        arr = np.array([b"\xff\xfe", b"ok"])
    elif kind == 4:
        arr = np.array([1 + 2j, 3j])
    elif kind == 5:
        arr = np.array(["1", "2"])  # numbers as text
    elif kind == 6:
        arr = np.array([1, 1, 2])  # duplicates
    else:
        arr = np.array([[1.0, 2.0], [3.0, 4.0]]) if what == "scores" else np.arange(n)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Targets: what reads each kind of file


FORMATS_RUN = """schema: gatekeeper.run/v1
run_id: fuzz
model: fuzz-model
seeds: [0, 1, 2]
code: {commit: 9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684}
metrics:
  em_csv: {per_example: scores/em.csv}
  em_jsonl: {per_example: scores/em.jsonl, cluster_column: doc}
  em_npz: {per_example: scores/em.npz}
  em_npy: {per_example: scores/em.scores.npy}
  em_range: {per_example: scores/range.csv, range: [0, 1]}
  latency_ms: {samples: traces/requests.jsonl, field: latency_ms}
  loss: {series: curves/loss.csv}
llm:
  traces: [traces/requests.jsonl]
"""


@dataclass
class Workspace:
    """A worker's private copies of the seeds, on tmpfs when there is one."""

    root: Path
    seeds: dict[str, list[bytes]] = field(default_factory=dict)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


def _formats_bundle(dest: Path) -> dict[str, bytes]:
    """A bundle with one metric per score format; returns its files' bytes."""
    src = ROOT / "examples" / "bundles" / "pass"
    rows = [line.split(",") for line in (src / "scores" / "exact_match.csv").read_text()
            .splitlines()[1:201]]
    ids = [r[0] for r in rows]
    scores = [float(r[1]) for r in rows]
    files: dict[str, bytes] = {
        "run.yaml": FORMATS_RUN.encode(),
        "scores/em.csv": ("id,score\n" + "".join(f"{i},{s:g}\n" for i, s in zip(ids, scores,
                                                                              strict=True))).encode(),
        "scores/range.csv": ("id,score\n" + "".join(f"{i},{s:g}\n" for i, s in zip(ids, scores,
                                                                                 strict=True))).encode(),
        "scores/em.jsonl": "".join(json.dumps({"id": i, "score": s, "doc": f"d{k % 7}"}) + "\n"
                                   for k, (i, s) in enumerate(zip(ids, scores, strict=True))
                                   ).encode(),
        "traces/requests.jsonl": b"".join(line + b"\n" for line in (
            src / "traces" / "requests.jsonl").read_bytes().splitlines()[:200]),
        "curves/loss.csv": b"step,value\n" + b"".join(f"{k},{1 / (k + 1):.4f}\n".encode()
                                                      for k in range(50)),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, ids=np.array(ids), scores=np.array(scores))
    files["scores/em.npz"] = buf.getvalue()
    for name, arr in (("em.ids.npy", np.arange(len(ids))), ("em.scores.npy", np.array(scores))):
        b = io.BytesIO()
        np.save(b, arr)
        files[f"scores/{name}"] = b.getvalue()
    for rel, content in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(content)
    return files


def _hostile_yaml() -> list[bytes]:
    bomb = "a0: &a0 " + "x" * 2000 + "\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 8))
    return [bomb.encode(), ("x: " + "[" * 400 + "]" * 400 + "\n").encode(),
            ("x:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(200))).encode(),
            b"x: &r [*r]\n", b"m: &m {<<: *m}\n", b"a: \x07\n", b"a: 2026-02-30\n"]


# The workers bound arrays at 8 MiB (GATEKEEPER_MAX_ARRAY_BYTES) so that this seed, a small
# zip bomb, trips the limit as a gigabyte one trips the default (tests/acceptance holds that).
FUZZ_ENV = {"GATEKEEPER_MAX_ARRAY_BYTES": str(8 * 1024 * 1024)}


def _zip_bomb() -> bytes:
    """An .npz whose ids member inflates to 12 MiB of zeros from a few kilobytes."""
    buf = io.BytesIO()
    header = io.BytesIO()
    n = 12 * 1024 * 1024 // 8
    np.lib.format.write_array_header_1_0(header, {"descr": "<i8", "fortran_order": False,
                                                   "shape": (n,)})
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ids.npy", header.getvalue() + bytes(n * 8))
        s = io.BytesIO()
        np.save(s, np.ones(3))
        zf.writestr("scores.npy", s.getvalue())
    return buf.getvalue()


def _sufficient_bundles(ws: Workspace) -> list[bytes]:
    """The warn demo with exact_match given as paired_counts ("counts") and as paired_moments
    ("moments") against the registry's v3, computed from the two bundles' rows as `gatekeeper
    sql` would: unmutated they load and are compared, so mutations reach the comparison from
    statistics (checks/sufficient.py). Returns their run.yaml files."""
    def scores(path: Path) -> dict[str, float]:
        lines = path.read_text().splitlines()[1:]
        return {i: float(v) for i, v in (line.split(",")[:2] for line in lines)}

    cand = scores(ROOT / "examples" / "bundles" / "warn" / "scores" / "exact_match.csv")
    base = scores(ROOT / "examples" / "registry" / "sentiment-clf" / "versions" / "3" /
                  "scores" / "exact_match.csv")
    ids = sorted(set(cand) & set(base))
    c, b = np.array([cand[i] for i in ids]), np.array([base[i] for i in ids])
    d = c - b
    dev = d - d.mean()
    common = {"baseline_run_id": "run-v3", "n_candidate": len(cand), "n_baseline": len(base),
              "repeated_ids_candidate": 0, "repeated_ids_baseline": 0, "bad_rows_candidate": 0,
              "bad_rows_baseline": 0, "inputs": [{"name": "c.csv", "sha256": "a" * 64},
                                                 {"name": "b.csv", "sha256": "b" * 64}]}
    shapes = {
        "counts": {"paired_counts": {
            **common, "n11": int(((c == 1) & (b == 1)).sum()), "n10": int(((c == 1) & (b == 0))
                                                                         .sum()),
            "n01": int(((c == 0) & (b == 1)).sum()), "n00": int(((c == 0) & (b == 0)).sum()),
            "not_binary": 0}},
        "moments": {"paired_moments": {
            **common, "n_paired": len(ids), "mean_candidate": float(c.mean()),
            "mean_baseline": float(b.mean()), "mean_difference": float(d.mean()),
            "m2_difference": float((dev ** 2).sum()), "m3_difference": float((dev ** 3).sum()),
            "max_abs_score": float(max(np.abs(c).max(), np.abs(b).max()))}},
    }
    out = []
    for name, metric in shapes.items():
        dest = ws.path("bundles", name)
        shutil.copytree(ROOT / "examples" / "bundles" / "warn", dest)
        run = yaml.safe_load((dest / "run.yaml").read_text())
        run["metrics"]["exact_match"] = metric
        (dest / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
        out.append((dest / "run.yaml").read_bytes())
    return out


def setup(root: Path) -> Workspace:
    ws = Workspace(root)
    for name in ("pass", "warn", "block"):
        shutil.copytree(ROOT / "examples" / "bundles" / name, ws.path("bundles", name))
    shutil.copytree(ROOT / "examples" / "llm" / "bundles" / "pass", ws.path("bundles", "llm"))
    shutil.copytree(ROOT / "policies", ws.path("policies"))
    registry = ws.path("policies", "default.yaml")
    registry.write_text(registry.read_text().replace(
        "file:examples/registry", f"file:{ROOT / 'examples' / 'registry'}"))
    llm_policy = ws.path("policies", "llm-app.yaml")
    llm_policy.write_text(llm_policy.read_text().replace(
        "file:examples/llm/registry", f"file:{ROOT / 'examples' / 'llm' / 'registry'}"))
    formats = _formats_bundle(ws.path("bundles", "formats"))
    runs = [ws.path("bundles", n, "run.yaml").read_bytes() for n in ("pass", "warn", "block",
                                                                        "llm")]
    ws.seeds["run.yaml"] = [*runs, formats["run.yaml"], *_sufficient_bundles(ws),
                            *_hostile_yaml()]
    ws.seeds["run.json"] = [json.dumps(yaml.safe_load(r), default=str).encode() for r in runs]
    ws.seeds["policy"] = [p.read_bytes() for p in sorted(ws.path("policies").glob("*.yaml"))] \
        + _hostile_yaml()
    ws.seeds["csv"] = [formats["scores/em.csv"], formats["scores/range.csv"]]
    ws.seeds["jsonl"] = [formats["scores/em.jsonl"]]
    ws.seeds["traces"] = [formats["traces/requests.jsonl"]]
    ws.seeds["series"] = [formats["curves/loss.csv"]]
    ws.seeds["npz"] = [formats["scores/em.npz"], _zip_bomb()]
    ws.seeds["npy"] = [formats["scores/em.scores.npy"], formats["scores/em.ids.npy"]]
    for i, (_tool, rel, _inside, _opts) in enumerate(IMPORT_SOURCES):
        shutil.copytree(REAL / rel, ws.path("imports", str(i)))
        ws.seeds[f"import:{i}"] = []
    return ws


def _load_everything(bundle_dir: Path) -> None:
    """What `check` reads of a bundle: the run, every metric, traces, hashes, artifacts."""
    from gatekeeper.inputs.bundle import load_bundle
    from gatekeeper.inputs.envelope import missing_fields
    from gatekeeper.inputs.scores import load_metric
    from gatekeeper.inputs.traces import read_traces

    bundle = load_bundle(bundle_dir)
    for name in bundle.run.metrics:
        load_metric(bundle, name)
    read_traces(bundle)
    bundle.sha256()
    bundle.verify_artifacts()
    missing_fields(bundle.run, ["code.commit", "data[*].sha256", "llm.prompts[*].sha256",
                                "environment.hardware.accelerator", "seeds"])


def _load_one_metric(bundle_dir: Path, name: str) -> None:
    from gatekeeper.inputs.bundle import load_bundle
    from gatekeeper.inputs.scores import load_metric
    from gatekeeper.inputs.traces import read_traces

    bundle = load_bundle(bundle_dir)
    load_metric(bundle, name)
    if name == "latency_ms":
        read_traces(bundle)


@dataclass(frozen=True)
class Target:
    name: str
    weight: int
    seeds: str  # which seed list
    mutate: Callable[[bytes, random.Random, list[bytes]], bytes]
    # Reads an input: (workspace, where it goes, its bytes). ``where`` is drawn when the input
    # is made and stored with it, so a saved input replays the same way.
    run: Callable[[Workspace, str, bytes], Any]
    places: tuple[str, ...] = ("",)


def _yaml_mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if rng.random() < 0.35:
        return yaml_tree_mutation(data, rng, as_json=False)
    return byte_mutation(data, rng, others)


def _json_mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if rng.random() < 0.35:
        return yaml_tree_mutation(data, rng, as_json=True)
    return byte_mutation(data, rng, others)


def _jsonl_mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if rng.random() < 0.4:
        return jsonl_tree_mutation(data, rng)
    return byte_mutation(data, rng, others)


def _npy_mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    r = rng.random()
    if r < 0.3:
        return npy_header_mutation(data, rng)
    if r < 0.45:
        return array_file(rng, rng.choice(("ids", "scores")))
    return byte_mutation(data, rng, others)


def _npz_mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if rng.random() < 0.1:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("ids.npy", array_file(rng, "ids"))
            zf.writestr("scores.npy", array_file(rng, "scores"))
        return buf.getvalue()
    return npz_mutation(data, rng)


class Restore:
    """Put a seed file back after an input replaced it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.original = path.read_bytes() if path.exists() else None

    def __enter__(self) -> Restore:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.original is None:
            self.path.unlink(missing_ok=True)
        else:
            self.path.write_bytes(self.original)


def _run_yaml(ws: Workspace, where: str, data: bytes) -> None:
    target = ws.path("bundles", where, "run.yaml")
    with Restore(target):
        target.write_bytes(data)
        _load_everything(target.parent)


def _run_json(ws: Workspace, where: str, data: bytes) -> None:
    bundle = ws.path("bundles", where)
    with Restore(bundle / "run.yaml"), Restore(bundle / "run.json"):
        (bundle / "run.yaml").unlink()
        (bundle / "run.json").write_bytes(data)
        _load_everything(bundle)


def _policy(ws: Workspace, where: str, data: bytes) -> None:
    from gatekeeper.policy.loader import load_policy

    target = ws.path("policies", "fuzz.yaml")
    target.write_bytes(data)
    load_policy(target, target_branch=where or None, root=ws.root)


def _score_file(metric: str) -> Callable[[Workspace, str, bytes], None]:
    def run(ws: Workspace, where: str, data: bytes) -> None:
        target = ws.path("bundles", "formats", where)
        with Restore(target):
            target.write_bytes(data)
            _load_one_metric(ws.path("bundles", "formats"), metric)
    return run


def _importer(index: int) -> Callable[[Workspace, str, bytes], None]:
    def run(ws: Workspace, where: str, data: bytes) -> None:
        from gatekeeper.importers import ImportOptions, get_importer
        from gatekeeper.importers.writer import write_drafts

        tool, _rel, inside, opts = IMPORT_SOURCES[index]
        source = ws.path("imports", str(index), inside)
        victim = ws.path("imports", str(index), where)
        with Restore(victim):
            victim.write_bytes(data)
            options = ImportOptions(force=True, **opts)
            importer = get_importer(tool)
            drafts = importer.read(source, options)
            out = ws.path("out", "bundle")
            written = write_drafts(importer.name, drafts, out, options)
            for path in written:
                _load_everything(path)
    return run


def import_files(index: int) -> tuple[str, ...]:
    """The files of an importer source (relative to its copy), each a place to mutate."""
    _tool, rel, inside, _opts = IMPORT_SOURCES[index]
    root = REAL / rel
    source = root / inside
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    return tuple(f.relative_to(root).as_posix() for f in files)


def _mutate_import_file(path: Path, data: bytes, rng: random.Random) -> bytes:
    if path.suffix == ".eval":
        return npz_like_zip_mutation(data, rng)
    if path.suffix == ".jsonl":
        return _jsonl_mutate(data, rng, [])
    if path.suffix == ".json":
        return _json_mutate(data, rng, [])
    if path.name == "meta.yaml":
        return _yaml_mutate(data, rng, [])
    return byte_mutation(data, rng, [])


def npz_like_zip_mutation(data: bytes, rng: random.Random) -> bytes:
    """An Inspect .eval (a ZIP of JSON files): one member's JSON edited, or the archive's
    bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = {i.filename: zf.read(i) for i in zf.infolist()}
    except Exception:
        return byte_mutation(data, rng, [])
    if rng.random() < 0.15:
        return byte_mutation(data, rng, [])
    name = rng.choice(sorted(members))
    members[name] = _json_mutate(members[name], rng, [])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


GATE_FILES = ("run.yaml", "policy", "scores")


def gate_input(ws: Workspace, rng: random.Random) -> bytes:
    """A mutated run.yaml, policy or score file for the whole gate, as ``<which>\0<bytes>``:
    one structure-aware edit, so most inputs still load and reach the checks."""
    llm = rng.random() < 0.3
    kind = rng.choice(GATE_FILES)
    bundle = "llm" if llm else rng.choice(("pass", "warn", "block", "counts", "moments"))
    if kind == "scores" and bundle in ("counts", "moments"):
        kind = "run.yaml"  # their exact_match has no score file: the statistics are in run.yaml
    if kind == "run.yaml":
        path = ws.path("bundles", bundle, "run.yaml")
        data = yaml_tree_mutation(path.read_bytes(), rng, as_json=False)
    elif kind == "policy":
        path = ws.path("policies", "llm-app.yaml" if llm else "default.yaml")
        data = yaml_tree_mutation(path.read_bytes(), rng, as_json=False)
    else:
        path = ws.path("bundles", bundle, "scores", "exact_match.csv")
        data = path.read_bytes()
        for _ in range(rng.choice((1, 1, 2))):
            data = byte_mutation(data, rng, [])
    which = f"{'llm' if llm else bundle}:{path.relative_to(ws.root)}"
    return which.encode() + b"\0" + data


def run_gate(ws: Workspace, data: bytes) -> tuple[int, str]:
    """The whole `gatekeeper check` with one file replaced; (exit code, stderr)."""
    from gatekeeper.cli import main

    head, _, data = data.partition(b"\0")
    label, rel = head.decode().split(":", 1)
    llm = label == "llm"
    bundle = ws.path("bundles", label)
    policy = ws.path("policies", "llm-app.yaml" if llm else "default.yaml")
    registry = ROOT / "examples" / ("llm/registry" if llm else "registry")
    target = ws.path(rel)
    err = io.StringIO()
    with Restore(target), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(err):
        target.write_bytes(data)
        code = main(["check", str(bundle), "--policy", str(policy), "--registry",
                     f"file:{registry}", "--as-of", AS_OF, "--format", "json"])
    return code, err.getvalue()


def targets() -> list[Target]:
    out = [
        Target("run.yaml", 30, "run.yaml", _yaml_mutate, _run_yaml,
               ("pass", "warn", "block", "llm", "formats", "counts", "moments")),
        Target("run.json", 6, "run.json", _json_mutate, _run_json, ("pass", "llm")),
        Target("policy", 20, "policy", _yaml_mutate, _policy,
               ("", "main", "release/1.0", "feature/x")),
        Target("scores.csv", 8, "csv", byte_mutation, _score_file("em_csv"), ("scores/em.csv",)),
        Target("scores.range.csv", 2, "csv", byte_mutation, _score_file("em_range"),
               ("scores/range.csv",)),
        Target("scores.jsonl", 6, "jsonl", _jsonl_mutate, _score_file("em_jsonl"),
               ("scores/em.jsonl",)),
        Target("traces.jsonl", 6, "traces", _jsonl_mutate, _score_file("latency_ms"),
               ("traces/requests.jsonl",)),
        Target("series.csv", 2, "series", byte_mutation, _score_file("loss"),
               ("curves/loss.csv",)),
        Target("scores.npz", 6, "npz", _npz_mutate, _score_file("em_npz"), ("scores/em.npz",)),
        Target("scores.npy", 6, "npy", _npy_mutate, _score_file("em_npy"),
               ("scores/em.ids.npy", "scores/em.scores.npy", "scores/em.clusters.npy")),
    ]
    for i, (tool, rel, inside, _o) in enumerate(IMPORT_SOURCES):
        label = Path(rel).name if inside == "." else f"{Path(rel).name}/{inside[:12]}"
        out.append(Target(f"import:{tool}:{label}", 2, f"import:{i}", byte_mutation,
                          _importer(i), import_files(i)))
    return out


# ---------------------------------------------------------------------------------------------
# Running inputs


class Hang(BaseException):
    """Raised by the alarm: an input ran past the time limit."""


_ARMED = [False]  # the alarm raises only while an input runs, never in the bookkeeping after


def _on_alarm(signum: int, frame: Any) -> None:
    if _ARMED[0]:
        _ARMED[0] = False
        raise Hang()


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/gatekeeper/" in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = f"{Path(where.filename).name}:{where.lineno}" if where else "?"
    return f"{type(exc).__name__}@{place}"


@dataclass
class Outcome:
    kind: str  # ok | error | crash | hang
    signature: str = ""
    detail: str = ""


def run_input(ws: Workspace, target: Target | None, data: bytes, timeout: float) -> Outcome:
    """``target`` None: the whole gate (``data`` from ``gate_input``)."""
    """One input through its target, under the alarm, with warnings as errors."""
    signal.signal(signal.SIGALRM, _on_alarm)
    _ARMED[0] = True
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if target is None:
                code, err = run_gate(ws, data)
                lines = [line for line in err.splitlines() if line.strip()]
                if code == 3 or "Traceback" in err or (code == 2 and len(lines) != 1):
                    first = lines[0] if lines else ""
                    return Outcome("crash", f"gate-exit-{code}:{first[:60]}", err[-2000:])
                return Outcome("error" if code == 2 else "ok")
            replay(ws, target, data)
        return Outcome("ok")
    except Hang:
        return Outcome("hang", "hang", "")
    except GatekeeperError as exc:
        if not str(exc).strip():
            return Outcome("crash", "empty-message", repr(exc))
        return Outcome("error")
    except BaseException as exc:  # a crash is anything else
        if isinstance(exc, KeyboardInterrupt):
            raise
        return Outcome("crash", _signature(exc), "".join(traceback.format_exception(exc)))
    finally:
        _ARMED[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def _pick(rng: random.Random, all_targets: list[Target]) -> Target:
    return rng.choices(all_targets, weights=[t.weight for t in all_targets])[0]


def make_input(ws: Workspace, target: Target, rng: random.Random) -> bytes:
    """``<where>\0<bytes>``: a seed with one to four mutations, and where it goes."""
    where = rng.choice(target.places)
    if target.seeds.startswith("import:"):
        index = int(target.seeds.split(":")[1])
        victim = ws.path("imports", str(index), where)
        return where.encode() + b"\0" + _mutate_import_file(victim, victim.read_bytes(), rng)
    seeds = ws.seeds[target.seeds]
    data = rng.choice(seeds)
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        try:
            data = target.mutate(data, rng, seeds)
        except Exception:  # a structure-aware edit that does not apply: a byte edit instead
            data = byte_mutation(data, rng, seeds)
    return where.encode() + b"\0" + data[:4 * 1024 * 1024]


def replay(ws: Workspace, target: Target | None, data: bytes) -> None:
    """Read one input (as ``make_input`` or ``gate_input`` made it) with its target; the
    gate's exit code is checked by the caller."""
    if target is None:
        run_gate(ws, data)
        return
    where, _, payload = data.partition(b"\0")
    target.run(ws, where.decode(), payload)


def draw(ws: Workspace, all_targets: list[Target], args: argparse.Namespace, i: int
         ) -> tuple[Target | None, bytes]:
    """Input ``i`` of the run: the same on every machine (it depends on the seed and ``i``)."""
    rng = random.Random(f"{args.seed}:{i}")
    target = _pick(rng, all_targets)
    if args.gate_every > 0 and i % args.gate_every == 0:
        return None, gate_input(ws, rng)
    return target, make_input(ws, target, rng)


def _targets_for(args: argparse.Namespace) -> list[Target]:
    every = targets()
    return [t for t in every if t.name.startswith(tuple(args.only))] if args.only else every


def worker(wid: int, start: int, stop: int, args: argparse.Namespace, progress: Any,
           results: Any) -> None:
    """Inputs ``start..stop`` of the run (input i is the same on every machine and run)."""
    limit = 4 * 1024**3  # an unbounded allocation becomes a MemoryError, not an OOM kill
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.update(FUZZ_ENV)
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix=f"gk-fuzz-{wid}-", dir=base))
    out = Path(args.out)
    try:
        ws = setup(root)
        all_targets = _targets_for(args)
        counts: Counter[str] = Counter()
        by_target: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        slowest: list[tuple[float, int, str]] = []
        seen: dict[str, int] = {}
        for i in range(start, stop):
            target, data = draw(ws, all_targets, args, i)
            progress[wid] = i
            t0 = time.monotonic()
            outcome = run_input(ws, target, data, args.timeout)
            took = time.monotonic() - t0
            if outcome.kind != "hang" and took > args.timeout:
                outcome = Outcome("hang", "slow (C call past the alarm)")
            name = "gate" if target is None else target.name
            seconds[name] += took
            slowest = sorted([*slowest, (took, i, name)], reverse=True)[:5]
            counts[outcome.kind] += 1
            by_target[f"{name}:{outcome.kind}"] += 1
            if outcome.kind in ("crash", "hang"):
                sig = f"{name}|{outcome.signature}"
                seen[sig] = seen.get(sig, 0) + 1
                if seen[sig] == 1:
                    _save(out, name, sig, i, data, outcome)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.put({"wid": wid, "counts": dict(counts), "by_target": dict(by_target),
                     "signatures": seen, "rss_mb": rss_mb, "seconds": dict(seconds),
                     "slowest": slowest})
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _save(out: Path, target: str, sig: str, index: int, data: bytes, outcome: Outcome) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(sig.encode()).hexdigest()[:10]
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", target)
    (out / f"{safe}-{tag}.bin").write_bytes(data)
    (out / f"{safe}-{tag}.txt").write_text(
        f"target: {target}\ninput: {index}\nsignature: {sig}\n\n{outcome.detail}",
        encoding="utf-8", errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per input")
    parser.add_argument("--gate-every", type=int, default=100,
                        help="every N-th input runs the whole `gatekeeper check` (0: never)")
    parser.add_argument("--only", action="append", default=[],
                        help="fuzz only the targets whose name starts with this (repeatable), "
                        "e.g. --only import: --only policy")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "gatekeeper-fuzz"),
                        help="where crashing inputs are saved")
    args = parser.parse_args(argv)
    ctx = mp.get_context("fork")
    progress = ctx.Array("q", args.workers)
    results = ctx.Queue()
    bounds = [round(args.inputs * k / args.workers) for k in range(args.workers + 1)]
    started = time.monotonic()
    procs = [ctx.Process(target=worker, args=(w, bounds[w], bounds[w + 1], args, progress,
                                              results)) for w in range(args.workers)]
    for p in procs:
        p.start()
    reports = _collect(procs, results, progress, bounds, args)
    elapsed = time.monotonic() - started
    _print_summary(reports, elapsed, args)
    crashes = sum(r["counts"].get("crash", 0) for r in reports)
    hangs = sum(r["counts"].get("hang", 0) for r in reports)
    return 1 if crashes or hangs else 0


def _collect(procs: list[Any], results: Any, progress: Any, bounds: list[int],
             args: argparse.Namespace) -> list[dict[str, Any]]:
    """Wait for the workers. A worker stuck in one input for 60 s (a C call the alarm cannot
    interrupt) is killed and its input counted as a hang; one that dies counts a crash; either
    way the input is saved and a new worker goes on after it."""
    reports: list[dict[str, Any]] = []
    done: set[int] = set()
    last = {w: (-1, time.monotonic()) for w in range(len(procs))}
    while len(done) < len(procs):
        try:
            report = results.get(timeout=2)
        except queue.Empty:
            report = None
        if report is not None:
            reports.append(report)
            done.add(report["wid"])
            continue
        for w, p in enumerate(procs):
            if w in done:
                continue
            i = progress[w]
            if i != last[w][0]:
                last[w] = (i, time.monotonic())
            died = not p.is_alive() and p.exitcode not in (0, None)
            stuck = p.is_alive() and time.monotonic() - last[w][1] > 60
            if not (died or stuck):
                continue
            p.kill()
            p.join()
            kind = "hang" if stuck else "crash"
            what = "ran past 60 s" if stuck else f"killed its worker (exit {p.exitcode})"
            print(f"worker {w}: input {i} {what}; going on after it", file=sys.stderr)
            reports.append(_lost_input(args, i, kind, what, w))
            procs[w] = mp.get_context("fork").Process(
                target=worker, args=(w, i + 1, bounds[w + 1], args, progress, results))
            procs[w].start()
            last[w] = (i, time.monotonic())
    for p in procs:
        p.join()
    return reports


def _lost_input(args: argparse.Namespace, i: int, kind: str, what: str, w: int
                ) -> dict[str, Any]:
    """Regenerate input ``i`` (inputs depend only on the seed and their number) and save it."""
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="gk-fuzz-lost-", dir=base))
    try:
        ws = setup(root)
        target, data = draw(ws, _targets_for(args), args, i)
        name = "gate" if target is None else target.name
        sig = f"{name}|{kind}: input {i} {what}"
        _save(Path(args.out), name, sig, i, data, Outcome(kind, sig))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"wid": -1 - w, "counts": {kind: 1}, "by_target": {f"{name}:{kind}": 1},
            "signatures": {sig: 1}, "rss_mb": 0.0}


def _print_summary(reports: list[dict[str, Any]], elapsed: float,
                   args: argparse.Namespace) -> None:
    counts: Counter[str] = Counter()
    by_target: Counter[str] = Counter()
    sigs: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    slowest: list[tuple[float, int, str]] = []
    for r in reports:
        counts.update(r["counts"])
        by_target.update(r["by_target"])
        sigs.update(r["signatures"])
        seconds.update(r.get("seconds", {}))
        slowest += [tuple(s) for s in r.get("slowest", [])]
    total = sum(counts.values())
    peak = max((r["rss_mb"] for r in reports), default=0.0)
    print(f"gatekeeper fuzz: seed {args.seed}, {args.workers} workers, {elapsed:,.0f} s "
          f"({total / max(elapsed, 1e-9):,.0f} inputs/s)")
    print(f"inputs run: {total:,}")
    print(f"  loaded: {counts['ok']:,}   refused (user error): {counts['error']:,}")
    print(f"crashes: {counts['crash']:,} ({len([s for s in sigs if 'hang' not in s])} distinct)")
    print(f"hangs (> {args.timeout:g} s): {counts['hang']:,}")
    print(f"peak RSS (largest worker): {peak:,.0f} MB")
    targets_seen = sorted({k.rsplit(':', 1)[0] for k in by_target})
    for t in targets_seen:
        parts = ", ".join(f"{kind} {by_target[f'{t}:{kind}']:,}"
                          for kind in ("ok", "error", "crash", "hang") if by_target[f"{t}:{kind}"])
        print(f"  {t}: {parts} ({seconds[t]:,.0f} s)")
    for took, i, name in sorted(slowest, reverse=True)[:5]:
        print(f"  slowest: input {i} ({name}) {took:.2f} s")
    for sig, n in sigs.most_common():
        print(f"  CRASH x{n}: {sig}")
    if sigs:
        print(f"saved one input per distinct crash under {args.out}")


if __name__ == "__main__":
    sys.exit(main())
