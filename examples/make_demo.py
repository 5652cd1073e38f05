"""Regenerate the demo bundles and the demo file registry under examples/ (deterministic).

    python examples/make_demo.py

The demo model is a sentiment classifier evaluated on one shared eval set of 2,000 examples.
Production (registry version 3) gets about 88% right. Three candidates:

* ``bundles/pass``  — truly better: fixes 90 of production's errors, breaks 30 (Δ = +3.0 points);
* ``bundles/warn``  — equal within noise: fixes 40, breaks 40 (Δ = 0; the interval is wider than
  the 0.5-point margin, so the comparison is inconclusive);
* ``bundles/block`` — worse: fixes 20, breaks 100 (Δ = −4.0 points) and drops below the floor.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
N = 2000
SEEDS = [0, 1, 2, 3, 4]
MODEL = "sentiment-clf"
EVAL_SHA = hashlib.sha256(b"sentiment eval v3").hexdigest()
TRAIN_SHA = hashlib.sha256(b"sentiment train v7").hexdigest()
LOCK_SHA = hashlib.sha256(b"uv.lock demo").hexdigest()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_bundle(root: Path, *, run_id: str, commit: str, created: str, correct: np.ndarray,
                 accuracy: list[float], latency: np.ndarray, params: dict[str, Any],
                 weights_seed: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "scores").mkdir(parents=True)
    (root / "traces").mkdir()
    (root / "artifacts").mkdir()
    ids = [f"ex-{i:04d}" for i in range(N)]
    with (root / "scores" / "exact_match.csv").open("w", newline="") as fh:
        fh.write("id,score\n")
        for ident, c in zip(ids, correct, strict=True):
            fh.write(f"{ident},{int(c)}\n")
    with (root / "traces" / "requests.jsonl").open("w") as fh:
        for ident, lat in zip(ids, latency, strict=True):
            fh.write(json.dumps({"id": ident, "latency_ms": round(float(lat), 2)}) + "\n")
    rng = np.random.default_rng(weights_seed)
    weights = {"bias": round(float(rng.normal()), 6),
               "w": [round(float(x), 6) for x in rng.normal(size=16)]}
    model_path = root / "artifacts" / "model.json"
    model_path.write_text(json.dumps(weights, sort_keys=True) + "\n")
    run = {
        "schema": "gatekeeper.run/v1",
        "run_id": run_id,
        "model": MODEL,
        "created_at": created,
        "tags": {"team": "nlp"},
        "params": params,
        "seeds": SEEDS,
        "code": {"repo": "example/sentiment", "commit": commit, "dirty": False},
        "environment": {
            "python": "3.11.7",
            "platform": "linux-x86_64",
            "lockfile": {"path": "uv.lock", "sha256": LOCK_SHA},
            "hardware": {"accelerator": "NVIDIA L4", "count": 1, "driver": "550.54",
                         "cuda": "12.4"},
        },
        "data": [
            {"name": "train", "uri": "s3://demo/sentiment/train-v7.parquet",
             "sha256": TRAIN_SHA, "split": "train"},
            {"name": "eval", "uri": "s3://demo/sentiment/eval-v3.parquet",
             "sha256": EVAL_SHA, "split": "test", "rows": N},
        ],
        "metrics": {
            "accuracy": {"replicates": accuracy},
            "exact_match": {"per_example": "scores/exact_match.csv"},
            "latency_ms": {"samples": "traces/requests.jsonl", "field": "latency_ms",
                           "unit": "ms"},
        },
        "artifacts": [{"path": "artifacts/model.json", "sha256": sha(model_path),
                       "size": model_path.stat().st_size, "kind": "model"}],
        "intended_use": "Route English product reviews by sentiment for the support queue.",
        "limitations": "English only; short reviews; not for moderation decisions.",
    }
    (root / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))


def flip(base: np.ndarray, rng: np.random.Generator, fix: int, brk: int) -> np.ndarray:
    out = base.copy()
    wrong = np.flatnonzero(base == 0)
    right = np.flatnonzero(base == 1)
    out[rng.choice(wrong, fix, replace=False)] = 1
    out[rng.choice(right, brk, replace=False)] = 0
    return out


def main() -> None:
    rng = np.random.default_rng(20261126)
    production = (rng.random(N) < 0.88).astype(int)
    older = flip(production, rng, 20, 60)
    oldest = flip(older, rng, 10, 40)
    base_lat = rng.lognormal(mean=np.log(120), sigma=0.35, size=N)
    acc = [0.881, 0.884, 0.878, 0.883, 0.879]

    noise = np.random.default_rng(11)

    def shift(d: float) -> list[float]:
        # Seed-to-seed noise of its own per run, as real reruns have.
        return [round(a + d + float(noise.normal(0, 0.002)), 4) for a in acc]

    reg = HERE / "registry" / MODEL
    versions = [
        ("1", "run-v1", "1111111aaaaaaa1111111aaaaaaa1111111aaaaa", "2026-06-02T09:00:00Z",
         oldest, shift(-0.035), {"lr": 1e-3, "epochs": 2}),
        ("2", "run-v2", "2222222bbbbbbb2222222bbbbbbb2222222bbbbb", "2026-08-14T09:00:00Z",
         older, shift(-0.02), {"lr": 5e-4, "epochs": 3}),
        ("3", "run-v3", "3333333ccccccc3333333ccccccc3333333ccccc", "2026-11-02T09:00:00Z",
         production, shift(0.0), {"lr": 3e-4, "epochs": 3}),
    ]
    if reg.exists():
        shutil.rmtree(reg)
    entries = []
    for number, run_id, commit, created, correct, accuracy, params in versions:
        bundle = reg / "versions" / number
        write_bundle(bundle, run_id=run_id, commit=commit, created=created, correct=correct,
                     accuracy=accuracy, latency=base_lat, params=params,
                     weights_seed=int(number))
        entries.append({"version": number, "run_id": run_id, "created_at": created,
                        "verdict": "pass", "archived": False, "tags": {"team": "nlp"},
                        "approval": {"approved_by": "alice", "approved_at": created,
                                     "ticket": f"ML-10{number}", "policy_name": "default",
                                     "policy_version": "1"}})
    from gatekeeper.inputs.bundle import (
        load_bundle,  # the canonical bundle hash, as check computes it
    )

    for entry in entries:
        entry["bundle_sha256"] = load_bundle(reg / "versions" / str(entry["version"])).sha256()
    index = {
        "schema": "gatekeeper.registry/v1",
        "model": MODEL,
        "revision": 6,
        "versions": entries,
        "aliases": {"production": "3"},
        "alias_history": [
            {"alias": "production", "version": "1", "since": "2026-06-02T09:00:00Z",
             "until": "2026-08-14T09:00:00Z"},
            {"alias": "production", "version": "2", "since": "2026-08-14T09:00:00Z",
             "until": "2026-11-02T09:00:00Z"},
            {"alias": "production", "version": "3", "since": "2026-11-02T09:00:00Z",
             "until": None},
        ],
    }
    (reg / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

    lat_rng = np.random.default_rng(7)
    cands = {
        "pass": (flip(production, rng, 90, 30), shift(0.03), 0.95, "run-cand-pass"),
        "warn": (flip(production, rng, 40, 40), shift(0.0005), 1.0, "run-cand-warn"),
        "block": (flip(production, rng, 20, 100), shift(-0.04), 1.02, "run-cand-block"),
    }
    for name, (correct, accuracy, lat_scale, run_id) in cands.items():
        latency = base_lat * lat_scale * lat_rng.lognormal(0, 0.05, size=N)
        write_bundle(HERE / "bundles" / name, run_id=run_id,
                     commit=hashlib.sha1(name.encode()).hexdigest(),
                     created="2026-11-20T10:00:00Z", correct=correct, accuracy=accuracy,
                     latency=latency, params={"lr": 3e-4, "epochs": 4, "variant": name},
                     weights_seed=100 + len(name))


if __name__ == "__main__":
    main()
