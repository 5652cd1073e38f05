"""The eval set the scores claim: a declared row count must match the score file.

A ``data[]`` entry may declare ``rows``. A per-example metric (or one given as sufficient
statistics, by its ``n_candidate``) scored on it (the entry its
``data`` names, else the run's only test/eval/validation entry) must hold exactly that many
distinct example ids: fewer is evidence left out, more is another eval set. Either blocks
(``data:<metric>:rows``), since the comparison would not be of the set the run names.
"""

from __future__ import annotations

import numpy as np

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.models.run import DataVersion, Run
from gatekeeper.models.verdict import Check

EVAL_SPLITS = ("test", "eval", "validation")


def scored_on(run: Run, metric: str) -> tuple[int, DataVersion] | None:
    """The data entry (and its index) a per-example metric was scored on, if the run says."""
    spec = run.metrics[metric]
    if spec.data is not None:
        for i, entry in enumerate(run.data):
            if entry.name == spec.data:
                return i, entry
        return None
    evals = [(i, d) for i, d in enumerate(run.data) if d.split in EVAL_SPLITS]
    return evals[0] if len(evals) == 1 else None


def run(ev: Evidence) -> list[Check]:
    out: list[Check] = []
    run_ = ev.bundle.run
    for name in sorted(run_.metrics):
        spec = run_.metrics[name]
        if spec.kind not in ("per_example", "paired_counts", "paired_moments",
                             "paired_cluster_sums"):
            continue
        found = scored_on(run_, name)
        if found is None or found[1].rows is None:
            continue
        i, entry = found
        rows = found[1].rows
        loaded = ev.metric("candidate", name)
        stats = spec.paired_counts or spec.paired_moments or spec.paired_cluster_sums
        # Every per-example reader refuses a repeated id (inputs/scores.py, inputs/parquet.py):
        # the ids are the distinct examples, counted without np.unique (a sort of every id, and
        # numpy.ma imported on each check). Sufficient statistics count the candidate's rows
        # (n_candidate, repeated ids refused): statistics over part of the eval set are the
        # same evidence left out as a short score file.
        n = (stats.n_candidate if stats is not None
             else int(np.shape(loaded.ids if loaded.ids is not None else loaded.values)[0]))
        src = source_of(ev.bundle.location("data", i, "rows"))
        key = ids.data_rows(name)
        if n == rows:
            out.append(check(key, "pass", f"{name}: {n:,} examples, as data {entry.name!r} "
                                          "declares", observed=float(n),
                             threshold=float(rows), source=src))
        else:
            what = "fewer" if n < rows else "more"
            out.append(check(key, "block",
                             f"{name}: {n:,} examples in {loaded.file or name}, but data "
                             f"{entry.name!r} declares rows: {rows:,} ({what}): the scores "
                             "are not of the eval set the run names",
                             observed=float(n), threshold=float(rows), source=src))
    return out
