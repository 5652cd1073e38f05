"""docs/writing-bundles.md, followed as a new user would: its train.py written out and its shell
blocks run in order, in an empty folder, with `gatekeeper` and `python` on PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

DOC = ROOT / "docs" / "writing-bundles.md"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)


def _blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(DOC.read_text()) if lang == kind]


def _shims(folder: Path) -> Path:
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    for name, target in (("gatekeeper", f'"{sys.executable}" -m gatekeeper'),
                         ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    return bin_dir


def test_the_page_runs_end_to_end(tmp_path: Path) -> None:
    (train,) = [b for b in _blocks("python") if b.startswith("# train.py\n")]
    (tmp_path / "train.py").write_text(train)
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PATH": f"{_shims(tmp_path)}{os.pathsep}{os.environ['PATH']}"}
    for name in ("GATEKEEPER_BUNDLE_DIR", "GATEKEEPER_SEEDS", "GATEKEEPER_COMMAND"):
        env.pop(name, None)
    transcript = ""
    for block in _blocks("bash"):
        proc = subprocess.run(["bash", "-e", "-c", block], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        transcript += proc.stdout
        assert proc.returncode == 0, f"{block}\n{proc.stdout}\n{proc.stderr}"
    doc = yaml.safe_load((tmp_path / "candidate" / "run.yaml").read_text())
    assert doc["status"] == "complete" and len(doc["metrics"]["accuracy"]["replicates"]) == 5
    assert "gatekeeper: PASS (exit 0) — policy toy-lr@1" in transcript
    assert "replay: repeatable\n" in transcript
    assert "replay: not reproducible\n" in transcript and "exit code 1" in transcript
    assert "params.epochs: 200 -> 150 (params differ)" in transcript
    assert "environment:" in transcript  # capture env
    assert (tmp_path / "captured" / "run.yaml").is_file()


def test_the_replay_example_output_is_what_replay_prints(tmp_path: Path) -> None:
    shown = [b for b in _blocks("") if b.startswith("replay: not reproducible")]
    assert shown, "the page shows a not-reproducible replay"
    assert "(params differ)" in shown[0] and "exit code 1" in shown[0]
