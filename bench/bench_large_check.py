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
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
# An installed wheel ships byte-code: let the warm-up write it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


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


def run_measured(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS (MB) and stdout of one child; the
    peak RSS is that child's own (os.wait4), not the largest of all children so far."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, env=ENV)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode not in (0, 1):
            raise SystemExit(f"{cmd[:4]} failed: {err.read().decode()[-2000:]}")
        cpu = usage.ru_utime + usage.ru_stime
        return wall, cpu, usage.ru_maxrss / 1024, out.read().decode()


def median_of(runs: list[tuple[float, float, float, str]]) -> tuple[float, float, float, str]:
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            statistics.median(r[2] for r in runs), runs[-1][3])


def make_bundles(t: Path, n: int) -> None:
    """The two bundles, written by a process of their own (see main)."""
    rng = np.random.default_rng(1)
    base = (rng.random(n) < 0.80).astype(np.int8)
    cand = base.copy()
    flip = rng.random(n)
    cand[(base == 0) & (flip < 0.02)] = 1
    cand[(base == 1) & (flip < 0.004)] = 0
    ids = np.arange(n, dtype=np.int64)
    pb, pc = rng.permutation(n), rng.permutation(n)
    write_bundle(t / "baseline", "base", ids[pb], base[pb].astype(np.float64))
    write_bundle(t / "candidate", "cand", ids[pc], cand[pc].astype(np.float64))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, medians printed")
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n
    if args.make is not None:
        make_bundles(args.make, n)
        return
    with tempfile.TemporaryDirectory(prefix="gk-large-") as tmp:
        t = Path(tmp)
        # Written by a child: this process must stay small. A child started by vfork (as
        # subprocess does) inherits its parent's peak RSS in ru_maxrss (Linux takes the
        # larger of the two at exec), so holding the 10^7-row arrays here would put their
        # 500 MB into every figure measured below.
        subprocess.run([sys.executable, __file__, "--make", str(t), "--n", str(n)], check=True)
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
        floor_cmd = [sys.executable, "-c", FLOOR, str(t)]
        check_cmd = [sys.executable, "-m", "gatekeeper", "check", str(t / "candidate"),
                     "--policy", str(policy), "--format", "json", "--as-of", "2026-11-26"]
        # One warm-up of each (page cache, byte-code cache), then alternate floor and check.
        run_measured(floor_cmd)
        run_measured(check_cmd)
        floors, checks = [], []
        for _ in range(max(1, args.repeat)):
            floors.append(run_measured(floor_cmd))
            checks.append(run_measured(check_cmd))
        floor_wall, floor_cpu, floor_rss, _ = median_of(floors)
        wall, cpu, rss_mb, stdout = median_of(checks)
        verdict = json.loads(stdout)
        cmp_ = next(c for c in verdict["checks"] if c["id"].endswith(":vs_baseline"))
        print(f"n = {n:,} paired examples (.npy pairs, shuffled int ids, float64 0/1 scores), "
              f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of "
              f"{max(1, args.repeat)} runs")
        print(f"{'':34} {'wall s':>7} {'cpu s':>7} {'peak RSS MB':>12}")
        print(f"{'floor (load, pair, cell counts)':34} {floor_wall:7.2f} {floor_cpu:7.2f} "
              f"{floor_rss:12,.0f}")
        print(f"{'gatekeeper check':34} {wall:7.2f} {cpu:7.2f} {rss_mb:12,.0f}")
        print(f"{'ratio':34} {wall / floor_wall:6.2f}x {cpu / floor_cpu:6.2f}x "
              f"{rss_mb / floor_rss:11.2f}x")
        absolute = "met" if wall <= 1.5 and rss_mb <= 500 else "not met"
        relative = "met" if wall <= 2 * floor_wall else "not met"
        print(f"targets: <= 1.5 s and <= 500 MB ({absolute}), or <= 2x the floor ({relative})")
        print(f"verdict {verdict['verdict']}: {cmp_['method']} Δ = {cmp_['delta']:+.5f} "
              f"CI [{cmp_['ci'][0]:+.5f}, {cmp_['ci'][1]:+.5f}], n = {cmp_['n']}")


if __name__ == "__main__":
    main()
