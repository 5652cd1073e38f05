"""A table of bad inputs: each must exit 2 with one line naming the file and the field or line,
and never a traceback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, Result, run_subprocess

Mutate = Callable[[Path, Path], None]  # (bundle dir, policy file) -> None


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture drift: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _run_yaml(b: Path) -> Path:
    return b / "run.yaml"


def _add_to_run(b: Path, text: str) -> None:
    with _run_yaml(b).open("a") as fh:
        fh.write(text)


def big_score_file(b: Path, _p: Path) -> None:
    path = b / "scores" / "exact_match.csv"
    rows = 4_000_000  # about 52 MB
    with path.open("w") as fh:
        fh.write("id,score\n")
        chunk = "".join(f"ex-{i:07d},1\n" for i in range(100_000))
        for _ in range(rows // 100_000):
            fh.write(chunk.replace("ex-", f"x{_}-"))
        fh.write("ex-last,notanumber\n")
    assert path.stat().st_size > 50_000_000


def symlink_escape(b: Path, _p: Path) -> None:
    outside = b.parent / "outside.csv"
    outside.write_text("id,score\na,1\n")
    (b / "scores" / "exact_match.csv").unlink()
    os.symlink(outside, b / "scores" / "exact_match.csv")


def extends_cycle(_b: Path, p: Path) -> None:
    other = p.parent / "other.yaml"
    other.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: o, version: 1}\n"
                     f"extends: {p.name}\n")
    _edit(p, "kind: Policy\n", "kind: Policy\nextends: other.yaml\n")


def non_utf8(b: Path, _p: Path) -> None:
    _run_yaml(b).write_bytes(_run_yaml(b).read_bytes() + b"\nname: \xff\xfe\n")


def jsonl_bad_line(b: Path, _p: Path) -> None:
    with (b / "traces" / "requests.jsonl").open("a") as fh:
        fh.write('{"id": "x", "latency_ms": \n')
    _edit(_run_yaml(b), "metrics:\n", "metrics:\n  lat_floor_probe:\n    samples: traces/"
          "requests.jsonl\n    field: latency_ms\n")
    with _p.open("a") as fh:
        fh.write("budgets:\n  - {name: lat_floor_probe, max: 1000}\n")


def registry_missing_policy(_b: Path, p: Path) -> None:
    lines = p.read_text().splitlines(keepends=True)
    assert any(line.startswith("  registry:") for line in lines)
    p.write_text("".join(line for line in lines if not line.startswith("  registry:")))


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutate
    expect: tuple[str, ...]  # substrings of the one-line message
    env: tuple[tuple[str, str], ...] = ()


CASES = [
    Case("malformed yaml", lambda b, p: _edit(_run_yaml(b), "model: sentiment-clf",
                                              "model: [sentiment-clf"),
         ("run.yaml:", "malformed YAML")),
    Case("duplicate key in run", lambda b, p: _add_to_run(b, "model: other\n"),
         ("run.yaml:", "duplicate key 'model'")),
    Case("duplicate key in policy", lambda b, p: _edit(p, "  min_seeds: 5\n",
                                                       "  min_seeds: 5\n  min_seeds: 3\n"),
         ("default.yaml:", "duplicate key 'min_seeds'", "envelope.min_seeds")),
    Case("wrong type", lambda b, p: _edit(_run_yaml(b), "seeds:\n- 0\n", "seeds:\n- zero\n"),
         ("run.yaml:", "seeds[0]")),
    Case("NaN value", lambda b, p: _add_to_run(b, "").__class__ and _edit(
        _run_yaml(b), "metrics:\n", "metrics:\n  f1:\n    value: .nan\n"),
         ("run.yaml:", "metrics.f1.value", "not a finite number")),
    Case("Inf replicate", lambda b, p: _edit(_run_yaml(b), "- 0.9076\n", "- .inf\n"),
         ("run.yaml:", "metrics.accuracy.replicates", "finite")),
    Case("negative size", lambda b, p: _edit(_run_yaml(b), "  size: ", "  size: -"),
         ("run.yaml:", "artifacts[0].size")),
    Case("bad sha256", lambda b, p: _edit(_run_yaml(b), "  sha256: ", "  sha256: xyz"),
         ("run.yaml:", "sha256")),
    Case("missing run.yaml", lambda b, p: _run_yaml(b).unlink(), ("no run.yaml or run.json",)),
    Case("missing score file", lambda b, p: (b / "scores" / "exact_match.csv").unlink(),
         ("run.yaml", "metrics.exact_match.per_example", "not found")),
    Case("dotdot path", lambda b, p: _edit(_run_yaml(b), "per_example: scores/",
                                           "per_example: ../scores/"),
         ("run.yaml", "metrics.exact_match.per_example", "leaves the bundle")),
    Case("absolute path", lambda b, p: _edit(_run_yaml(b), "path: artifacts/model.json",
                                             "path: /etc/passwd"),
         ("run.yaml", "artifacts[0].path", "absolute path")),
    Case("symlink escape", symlink_escape, ("exact_match", "symlink")),
    Case("extends cycle", extends_cycle, ("extends cycle",)),
    Case("50 MB score file, bad row at the end", big_score_file,
         ("exact_match.csv:4000002", "field 'score'", "not a number")),
    Case("unknown metric kind", lambda b, p: _edit(_run_yaml(b), "metrics:\n",
                                                   "metrics:\n  hist:\n    histogram: h.csv\n"),
         ("run.yaml:", "metrics.hist", "unknown field")),
    Case("two metric shapes", lambda b, p: _edit(_run_yaml(b), "metrics:\n",
                                                 "metrics:\n  f1:\n    value: 1\n"
                                                 "    replicates: [1]\n"),
         ("run.yaml:", "metrics.f1", "exactly one")),
    Case("policy typo", lambda b, p: _edit(p, "    on_fail: block\n    on_inconclusive",
                                           "    on_fial: block\n    on_inconclusive"),
         ("default.yaml:", "on_fial", "unknown field")),
    Case("policy apiVersion", lambda b, p: _edit(p, "gatekeeper/v1", "gatekeeper/v9"),
         ("default.yaml:", "apiVersion")),
    Case("policy NaN floor", lambda b, p: _edit(p, "min: 0.85", "min: .nan"),
         ("default.yaml:", "metrics[0].min", "not a finite number")),
    Case("policy missing metadata", lambda b, p: _edit(p, "metadata:\n  name: default\n",
                                                       "meta:\n  name: default\n"),
         ("default.yaml", "meta")),
    Case("extends missing file", lambda b, p: _edit(p, "kind: Policy\n",
                                                    "kind: Policy\nextends: nope.yaml\n"),
         ("default.yaml", "extends", "not found")),
    Case("bad envelope path", lambda b, p: _edit(p, '"data[*].sha256"', '"data[*.sha256"'),
         ("default.yaml", "envelope.required[2]", "malformed envelope path")),
    Case("csv bad number", lambda b, p: _edit(b / "scores" / "exact_match.csv", "ex-0005,1",
                                              "ex-0005,one"),
         ("exact_match.csv:7", "not a number")),
    Case("csv missing column", lambda b, p: _edit(b / "scores" / "exact_match.csv", "id,score",
                                                  "id,scor"),
         ("exact_match.csv", "missing column 'score'")),
    Case("duplicate ids", lambda b, p: _edit(b / "scores" / "exact_match.csv", "ex-0005,",
                                             "ex-0004,"),
         ("exact_match.csv:7", "duplicate example id 'ex-0004'")),
    Case("run schema version", lambda b, p: _edit(_run_yaml(b), "gatekeeper.run/v1",
                                                  "gatekeeper.run/v7"),
         ("run.yaml", "schema must be")),
    Case("not UTF-8", non_utf8, ("run.yaml", "not UTF-8")),
    Case("jsonl bad line", jsonl_bad_line, ("requests.jsonl:2001", "invalid JSON")),
    Case("score file over the size limit", lambda b, p: None,
         ("exact_match.csv", "over the limit"), (("GATEKEEPER_MAX_FILE_BYTES", "1000"),)),
    Case("unknown budget", lambda b, p: p.write_text(p.read_text() + "budgets:\n"
                                                     "  - {name: speed, max: 3}\n"),
         ("default.yaml", "budgets[0].name", "unknown budget")),
    Case("vs_baseline without registry", registry_missing_policy,
         ("default.yaml", "names no registry")),
    # Numbers no real metric can take.
    Case("booleans as replicates", lambda b, p: _edit(_run_yaml(b), "- 0.9076\n", "- true\n"),
         ("run.yaml:", "metrics.accuracy.replicates", "not a boolean")),
    Case("replicates whose mean overflows", lambda b, p: _edit(
        _run_yaml(b), "    - 0.9119\n    - 0.9156\n", "    - 1.0e+308\n    - 1.0e+308\n"),
         ("run.yaml:", "metrics.accuracy", "mean of the replicates overflows")),
    Case("value outside its declared range", lambda b, p: _edit(
        _run_yaml(b), "  accuracy:\n    replicates:\n",
        "  accuracy:\n    range: [0, 1]\n    replicates:\n    - 1.5\n"),
         ("run.yaml:", "metrics.accuracy", "outside the metric's range [0, 1]")),
    Case("boolean floor in the policy", lambda b, p: _edit(p, "min: 0.85", "min: true"),
         ("default.yaml", "metrics[0].min", "not a boolean")),
    # The bundle is evidence, not configuration: it cannot name what it is compared with.
    Case("bundle names its own registry", lambda b, p: _add_to_run(
        b, "baseline: {registry: 'file:/tmp/weak', alias: production}\n"),
         ("run.yaml:", "baseline", "unknown field")),
    # Credentials: refused wherever they appear, and never echoed (see the test below).
    Case("token in a param", lambda b, p: _edit(_run_yaml(b), "params:\n",
                                                 f"params:\n  api_key: {TOKEN}\n"),
         ("run.yaml:", "params", "looks like a GitHub token", "not shown")),
    Case("token in a tag", lambda b, p: _edit(_run_yaml(b), "tags:\n",
                                               f"tags:\n  ci: 'Bearer {TOKEN}'\n"),
         ("run.yaml:", "tags", "looks like a GitHub token")),
    Case("AWS key in a description", lambda b, p: _add_to_run(
        b, "description: 'uses AKIAABCDEFGHIJKLMNOP'\n"),
         ("run.yaml:", "description", "looks like a AWS access key")),
    Case("token in a waiver ticket", lambda b, p: p.write_text(p.read_text() + (
        "waivers:\n  - {check: 'metric:accuracy:min', reason: r, approved_by: a, "
        "expires: 2099-01-01, ticket: ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8}\n")),
         ("default.yaml", "waivers[0].ticket", "looks like a GitHub token")),
]

TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_with_one_line(case: Case, tmp_path: Path,
                                         cli: Callable[..., Result],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert_exits_2_with_one_line(case, tmp_path, cli, monkeypatch)


def assert_exits_2_with_one_line(case: Case, tmp_path: Path, cli: Callable[..., Result],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The pass demo and the default policy with ``case`` applied: exit 2, one stderr line that
    holds every expected part, no traceback (shared by the hostile-input table)."""
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundles" / "pass", bundle)
    policy = tmp_path / "default.yaml"
    # A policy's relative file: registry is found from the repository holding the policy; this
    # copy lives outside it, so it names the demo registry by its absolute path.
    policy.write_text((ROOT / "policies" / "default.yaml").read_text().replace(
        "file:examples/registry", f"file:{ROOT / 'examples' / 'registry'}"))
    case.mutate(bundle, policy)
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    res = cli("check", str(bundle), "--policy", str(policy), "--as-of", AS_OF)
    assert res.code == 2, (res.code, res.out, res.err)
    assert "Traceback" not in res.err
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1, res.err
    for part in case.expect:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"


def test_bundle_is_a_file_and_policy_missing(cli: Callable[..., Result]) -> None:
    res = cli("check", "README.md", "--policy", "policies/default.yaml")
    assert res.code == 2 and "a bundle is a folder" in res.err
    res = cli("check", "examples/bundles/pass", "--policy", "policies/nope.yaml")
    assert res.code == 2 and "policies/nope.yaml" in res.err and "not found" in res.err


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(ROOT / "examples" / "bundles" / "pass", bundle)
    _edit(bundle / "run.yaml", "per_example: scores/", "per_example: ../../scores/")
    res = run_subprocess("check", str(bundle), "--policy", "policies/default.yaml")
    assert res.code == 2
    assert "Traceback" not in res.err and "leaves the bundle" in res.err
    res = run_subprocess("check", str(bundle), "--policy", "policies/default.yaml", "--debug")
    assert "Traceback" in res.err  # --debug is the one way to see it


def test_a_credential_is_never_echoed(tmp_path: Path, cli: Callable[..., Result]) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundles" / "pass", bundle)
    _edit(bundle / "run.yaml", "params:\n", f"params:\n  nested: {{key: 'x {TOKEN} y'}}\n")
    res = cli("check", str(bundle), "--policy", "policies/default.yaml", "--format", "json")
    assert res.code == 2 and "params" in res.err and "looks like a GitHub token" in res.err
    assert TOKEN not in res.err and TOKEN not in res.out and TOKEN[:12] not in res.err
