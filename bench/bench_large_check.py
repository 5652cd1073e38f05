"""The whole gate on a 10^7-example eval set: `gatekeeper check` against a file-registry
baseline, with per-example scores as .npy id/score pairs (integer ids, shuffled differently on
each side so pairing by id does real work).

    python bench/bench_large_check.py [--n 10000000]

Prints wall time and peak RSS of the `check` process (fresh interpreter, like CI runs it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent


def write_bundle(root: Path, run_id: str, ids: np.ndarray, scores: np.ndarray) -> None:
    (root / "scores").mkdir(parents=True)
    np.save(root / "scores" / "em.ids.npy", ids)
    np.save(root / "scores" / "em.scores.npy", scores)
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": run_id, "model": "big",
        "seeds": [0], "code": {"commit": hashlib.sha1(run_id.encode()).hexdigest()},
        "metrics": {"exact_match": {"per_example": "scores/em.scores.npy"}}}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(1)
    base = (rng.random(n) < 0.80).astype(np.int8)
    cand = base.copy()
    flip = rng.random(n)
    cand[(base == 0) & (flip < 0.02)] = 1
    cand[(base == 1) & (flip < 0.004)] = 0
    with tempfile.TemporaryDirectory(prefix="gk-large-") as tmp:
        t = Path(tmp)
        ids = np.arange(n, dtype=np.int64)
        pb, pc = rng.permutation(n), rng.permutation(n)
        write_bundle(t / "baseline", "base", ids[pb], base[pb].astype(np.float64))
        write_bundle(t / "candidate", "cand", ids[pc], cand[pc].astype(np.float64))
        registry = f"file:{t / 'registry'}"
        subprocess.run([sys.executable, "-m", "gatekeeper", "registry", "promote",
                        str(t / "baseline"), "--registry", registry, "--model", "big",
                        "--alias", "production", "--approved-by", "bench"],
                       check=True, capture_output=True, cwd=ROOT)
        policy = t / "policy.yaml"
        policy.write_text(
            "apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: large, version: 1}\n"
            f"baseline: {{registry: '{registry}', alias: production}}\n"
            "metrics:\n  - metric: exact_match\n"
            "    vs_baseline: {confidence: 0.95, margin: 0.001}\n")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "gatekeeper", "check",
                               str(t / "candidate"), "--policy", str(policy), "--format",
                               "json", "--as-of", "2026-11-26"], capture_output=True,
                              text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr)
        verdict = json.loads(proc.stdout)
        cmp_ = next(c for c in verdict["checks"] if c["id"].endswith(":vs_baseline"))
        print(f"n = {n:,} paired examples (.npy pairs, shuffled int ids), python "
              f"{sys.version.split()[0]}")
        print(f"gatekeeper check: {wall:.2f} s wall, peak RSS of the largest child "
              f"{rss_mb:,.0f} MB")
        print(f"verdict {verdict['verdict']}: {cmp_['method']} Δ = {cmp_['delta']:+.5f} "
              f"CI [{cmp_['ci'][0]:+.5f}, {cmp_['ci'][1]:+.5f}], n = {cmp_['n']}")


if __name__ == "__main__":
    main()
