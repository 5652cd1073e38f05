"""Seeds listed vs replicates given.

Reporting 3 replicates from a run that lists 5 seeds is how cherry-picked seeds look from the
outside, so a mismatch is a block whatever the policy says elsewhere.

A run that lists several seeds but gives a gated metric (one with a ``min``, ``max`` or
``vs_baseline`` rule) as a single ``value`` hides the same trap one step earlier: the value may
be the best seed. That is a **warn**, not a block: a single value is also how an honest run
reports a mean it already took over its seeds, and the gate cannot tell the two apart; the warn
asks for one replicate per seed so that the mean of K runs, with its spread, is what is judged.
Its id is ``replicates:<metric>`` so that a team that knowingly reports a mean can waive it,
while ``seeds:*`` (a count that does not match) can never be waived.
"""

from __future__ import annotations

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.verdict import Check


def run(ctx: Evidence) -> list[Check]:
    run_ = ctx.bundle.run
    out: list[Check] = []
    seeds = run_.seeds
    gated = {rule.metric for rule in ctx.policy.policy.metrics
             if rule.min is not None or rule.max is not None or rule.vs_baseline is not None}
    for name in sorted(run_.metrics):
        spec = run_.metrics[name]
        if spec.kind == "value" and name in gated and seeds is not None \
                and len(set(seeds)) > 1:
            k = len(set(seeds))
            out.append(check(
                ids.replicates(name), "warn",
                f"one value of {name} for {k} seeds: give one replicate per seed so the mean "
                f"of {k} runs, not one run, is judged (if this value is already the mean over "
                "the seeds, say so with replicates)",
                observed=1.0, threshold=float(k),
                source=source_of(ctx.bundle.location("metrics", name, "value"))))
            continue
        if spec.replicates is None:
            continue
        src = source_of(ctx.bundle.location("metrics", name, "replicates"))
        k = len(spec.replicates)
        if seeds is None:
            out.append(check(ids.seeds(name), "block",
                             f"{k} replicates of {name} but the run lists no seeds: every seed "
                             "that was run must be listed", observed=float(k), source=src))
        elif len(set(seeds)) != len(seeds):
            out.append(check(ids.seeds(name), "block", "the run lists a seed more than once",
                             source=source_of(ctx.bundle.location("seeds"))))
        elif k != len(seeds):
            out.append(check(
                ids.seeds(name), "block",
                f"{k} replicates of {name} for {len(seeds)} seeds: report one value per seed "
                "that was run (dropping seeds is cherry-picking)",
                observed=float(k), threshold=float(len(seeds)), source=src,
            ))
        else:
            out.append(check(ids.seeds(name), "pass", f"{k} replicates, one per seed",
                             observed=float(k), source=src))
    return out
