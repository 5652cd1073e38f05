"""Seeds listed vs replicates given.

Reporting 3 replicates from a run that lists 5 seeds is how cherry-picked seeds look from the
outside, so a mismatch is a block whatever the policy says elsewhere.
"""

from __future__ import annotations

from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.context import Context
from gatekeeper.models.verdict import Check


def run(ctx: Context) -> list[Check]:
    run_ = ctx.bundle.run
    out: list[Check] = []
    seeds = run_.seeds
    for name in sorted(run_.metrics):
        spec = run_.metrics[name]
        if spec.replicates is None:
            continue
        src = source_of(ctx.bundle.location("metrics", name, "replicates"))
        k = len(spec.replicates)
        if seeds is None:
            out.append(check(f"seeds:{name}", "block",
                             f"{k} replicates of {name} but the run lists no seeds: every seed "
                             "that was run must be listed", observed=float(k), source=src))
        elif len(set(seeds)) != len(seeds):
            out.append(check(f"seeds:{name}", "block", "the run lists a seed more than once",
                             source=source_of(ctx.bundle.location("seeds"))))
        elif k != len(seeds):
            out.append(check(
                f"seeds:{name}", "block",
                f"{k} replicates of {name} for {len(seeds)} seeds: report one value per seed "
                "that was run (dropping seeds is cherry-picking)",
                observed=float(k), threshold=float(len(seeds)), source=src,
            ))
        else:
            out.append(check(f"seeds:{name}", "pass", f"{k} replicates, one per seed",
                             observed=float(k), source=src))
    return out
