"""The whole gate on a 10^7-example eval set: `gatekeeper check` against a file-registry
baseline, with per-example scores as .npy id/score pairs (integer ids, shuffled differently on
each side so pairing by id does real work).

    python bench/bench_large_check.py [--n 10000000]

Prints wall time and peak RSS of the `check` process (fresh interpreter, like CI runs it),
next to a floor measured in the same run: a script that only loads the four arrays from disk,
pairs the ids by direct addressing and computes the four paired cell counts with numpy.
Targets: <= 1.5 s and <= 500 MB, or <= 2x the floor.
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


FLOOR = """
import sys
import numpy as np
d = sys.argv[1]
ids_c = np.load(d + "/candidate/scores/em.ids.npy")
sc = np.load(d + "/candidate/scores/em.scores.npy")
ids_b = np.load(d + "/baseline/scores/em.ids.npy")
sb = np.load(d + "/baseline/scores/em.scores.npy")
n = int(max(ids_c.max(), ids_b.max())) + 1
pos_b = np.full(n, -1, dtype=np.int64)
pos_b[ids_b] = np.arange(ids_b.size)
j = pos_b[ids_c]
keep = j >= 0
c = sc[keep] > 0.5
b = sb[j[keep]] > 0.5
n11 = int(np.count_nonzero(c & b)); n10 = int(np.count_nonzero(c & ~b))
n01 = int(np.count_nonzero(~c & b)); n00 = int(c.size) - n11 - n10 - n01
print(n11, n10, n01, n00)
"""


def run_measured(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds and peak RSS (MB) of one child; peak RSS via wait4's own rusage."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    out, err = child.communicate()
    wall = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, rss_mb, subprocess.CompletedProcess(cmd, child.returncode, out, err)


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
                        "--alias", "production", "--approved-by", "bench",
                        "--waiver", "bench baseline"],
                       check=True, capture_output=True, cwd=ROOT)
        policy = t / "policy.yaml"
        policy.write_text(
            "apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: large, version: 1}\n"
            f"baseline: {{registry: '{registry}', alias: production}}\n"
            "metrics:\n  - metric: exact_match\n"
            "    vs_baseline: {confidence: 0.95, margin: 0.001}\n")
        # The floor first: RUSAGE_CHILDREN's maxrss is the largest child so far, and the floor
        # is the smaller of the two.
        floor_wall, floor_rss, fproc = run_measured([sys.executable, "-c", FLOOR, str(t)])
        if fproc.returncode:
            raise SystemExit(fproc.stderr)
        wall, rss_mb, proc = run_measured([sys.executable, "-m", "gatekeeper", "check",
                                           str(t / "candidate"), "--policy", str(policy),
                                           "--format", "json", "--as-of", "2026-11-26"])
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr)
        verdict = json.loads(proc.stdout)
        cmp_ = next(c for c in verdict["checks"] if c["id"].endswith(":vs_baseline"))
        print(f"n = {n:,} paired examples (.npy pairs, shuffled int ids), python "
              f"{sys.version.split()[0]}")
        print(f"{'':34} {'wall s':>7} {'peak RSS MB':>12}")
        print(f"{'floor (load, pair, cell counts)':34} {floor_wall:7.2f} {floor_rss:12,.0f}")
        print(f"{'gatekeeper check':34} {wall:7.2f} {rss_mb:12,.0f}")
        print(f"{'ratio':34} {wall / floor_wall:6.2f}x {rss_mb / floor_rss:11.2f}x")
        absolute = "met" if wall <= 1.5 and rss_mb <= 500 else "not met"
        relative = "met" if wall <= 2 * floor_wall else "not met"
        print(f"targets: <= 1.5 s and <= 500 MB ({absolute}), or <= 2x the floor ({relative})")
        print(f"verdict {verdict['verdict']}: {cmp_['method']} Δ = {cmp_['delta']:+.5f} "
              f"CI [{cmp_['ci'][0]:+.5f}, {cmp_['ci'][1]:+.5f}], n = {cmp_['n']}")


if __name__ == "__main__":
    main()
