"""Helpers for importer tests: import a real tool output and read back what was written."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from gatekeeper.importers import ImportOptions, get_importer
from gatekeeper.inputs.bundle import Bundle, load_bundle

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"


def do_import(tool: str, source: Path, out: Path, **options: Any) -> Bundle:
    path = get_importer(tool).import_(source, out, options=ImportOptions(**options))
    assert path == out
    return load_bundle(out)


def scores(bundle: Bundle, metric: str) -> dict[str, float]:
    spec = bundle.run.metrics[metric]
    assert spec.per_example is not None, f"{metric} is not per-example"
    with bundle.resolve(spec.per_example).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {row["id"]: float(row["score"]) for row in rows}
    assert len(out) == len(rows), "duplicate ids in a score file"
    return out


def traces(bundle: Bundle, rel: str = "traces/requests.jsonl") -> list[dict[str, Any]]:
    text = bundle.resolve(rel).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}
