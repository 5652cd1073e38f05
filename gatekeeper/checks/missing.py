"""Evidence the candidate lacks counts against it.

A candidate scored on fewer of the baseline's examples than the baseline would look better by
dropping the ones it gets wrong. So an example the baseline has and the candidate lacks is
scored as a failure: the worst value of the metric's range in its direction (the policy's
``range``, or 0/1 for a metric whose baseline scores are all 0 or 1). A metric with no bounded
range cannot be scored that way, and its comparison cannot pass. ``missing: drop`` (chosen per
metric in the policy, with ``max_missing_fraction``) leaves such examples out instead.

The same module refuses scores no honest run of the metric produces: values outside the
policy's ``range``, and non-binary candidate scores where the baseline's are all 0 or 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from gatekeeper.inputs.scores import LoadedMetric, comparable_ids
from gatekeeper.models.policy import MetricRule

# Share of the candidate's example ids that may find no partner before a comparison cannot pass.
MAX_UNMATCHED = 0.02


@dataclass(frozen=True)
class Filled:
    candidate: LoadedMetric  # with the missing examples added as failures
    count: int  # how many baseline examples had no candidate score
    note: str | None  # what was done, for the report


def _zero_or_one(values: np.ndarray) -> np.ndarray:
    # Not np.isin(values, (0.0, 1.0)): it calls np.unique, which imports numpy.ma (5 ms of
    # every check's start-up).
    out: np.ndarray = (values == 0.0) | (values == 1.0)
    return out


def all_zero_or_one(values: np.ndarray) -> bool:
    """One-dimensional, non-empty, and every score 0 or 1 (the rows Tango's interval serves)."""
    return values.ndim == 1 and values.size > 0 and bool(_zero_or_one(values).all())


def _member(needles: np.ndarray, haystack: np.ndarray) -> np.ndarray:
    """``np.isin(needles, haystack)``: integer ids in a range not much wider than their count
    by a table of one byte per id (np.isin's own table copied both id arrays: +190 MB at 10^7),
    anything else by one sort and a binary search (np.isin's sort goes through np.unique, which
    imports numpy.ma)."""
    if haystack.size == 0 or needles.size == 0:
        return np.zeros(needles.shape, dtype=np.bool_)
    if needles.dtype.kind in "iu" and haystack.dtype.kind in "iu":
        lo, hi = int(haystack.min()), int(haystack.max())
        if hi - lo < 4 * haystack.size:
            return _member_by_table(needles, haystack, lo, hi)
    ordered = np.sort(haystack)
    at = np.minimum(np.searchsorted(ordered, needles), ordered.size - 1)
    out: np.ndarray = ordered[at] == needles
    return out


def implausible(rule: MetricRule, cand: LoadedMetric, base: LoadedMetric) -> str | None:
    """Why the candidate's scores cannot be scores of this metric; None when they can."""
    if rule.range is not None:
        lo, hi = rule.range
        for side, loaded in (("candidate", cand), ("baseline", base)):
            outside = loaded.values[(loaded.values < lo) | (loaded.values > hi)]
            if outside.size:
                return (f"the {side}'s scores include {float(outside.flat[0]):g}, outside the "
                        f"metric's range [{lo:g}, {hi:g}] ({loaded.file or loaded.name})")
    if (cand.kind == "per_example" and all_zero_or_one(base.values)
            and not all_zero_or_one(cand.values)):
        odd = cand.values[~_zero_or_one(cand.values)]
        shown = f"{float(odd.flat[0]):g}" if odd.size else "non-binary rows"
        return (f"the baseline's scores are all 0 or 1 but the candidate's include {shown} "
                f"({cand.file or cand.name}): not the same metric")
    return None


def _member_by_table(needles: np.ndarray, haystack: np.ndarray, lo: int, hi: int
                     ) -> np.ndarray:
    table = np.zeros(hi - lo + 1, dtype=np.bool_)
    table[haystack - lo if lo else haystack] = True  # ids from 0 need no shifted copy
    inside = (needles >= lo) & (needles <= hi)
    if inside.all():
        found: np.ndarray = table[needles - lo if lo else needles]
        return found
    out = np.zeros(needles.shape, dtype=np.bool_)
    out[inside] = table[needles[inside] - lo]
    return out


def worst_value(rule: MetricRule, base: LoadedMetric) -> float | None:
    """The worst score the metric can take in its direction; None when it is unbounded."""
    if rule.range is not None:
        return rule.range[0] if rule.higher_is_better else rule.range[1]
    if all_zero_or_one(base.values):
        return 0.0 if rule.higher_is_better else 1.0
    return None


def fill_missing(rule: MetricRule, cand: LoadedMetric, base: LoadedMetric) -> Filled | str:
    """The candidate with each baseline example it lacks scored as a failure, or why that
    cannot be done (the comparison then cannot pass)."""
    if cand.kind != "per_example" or cand.ids is None or base.ids is None:
        return Filled(cand, 0, None)
    ids_c, ids_b = comparable_ids(cand.ids, base.ids)
    assert ids_c is not None and ids_b is not None
    lacking = ~_member(ids_b, ids_c)
    count = int(lacking.sum())
    if count == 0 or count == ids_b.size:
        # Nothing lacking; or nothing shared at all, which is another eval set, not missing
        # examples (the comparison says so as an input error).
        return Filled(cand, 0, None)
    total = int(ids_b.size)
    worst = worst_value(rule, base)
    if worst is None or cand.values.ndim != 1:
        return (f"{count:,} of {total:,} baseline examples have no candidate score and the "
                "metric has no bounded range to score them as failures: declare `range` on "
                "the rule, or choose `missing: drop` in its vs_baseline")
    clusters = None
    if cand.clusters is not None and base.clusters is not None:
        clusters = np.concatenate([cand.clusters, base.clusters[lacking]])
    filled = dataclasses.replace(
        cand, ids=np.concatenate([ids_c, ids_b[lacking]]),
        values=np.concatenate([cand.values, np.full(count, worst, dtype=np.float64)]),
        clusters=clusters)
    note = (f"{count:,} of {total:,} baseline examples have no candidate score: each is scored "
            f"as a failure ({worst:g}, the worst value of the metric) — missing: fail")
    return Filled(filled, count, note)
