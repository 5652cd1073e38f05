"""``vs_baseline`` rules: candidate vs the registry baseline with a confidence interval.

The method comes from the data's shape (``stats/select.py``); this module turns the policy rule
into a hypothesis, the interval into an outcome (``stats/decision.py``, STATISTICS.md §1) and the
outcome into a status with an explanation a reviewer can audit.

Multiplicity: a candidate passes only if *every* rule holds — an intersection-union test, which
needs no correction (Berger 1982). Blocking when *any* of several metrics is shown worse is a
family of tests, so the "worse" findings are Holm-adjusted (or BH / Bonferroni / none, as the
policy says) before they block. The adjustment works on one-sided p-values for "worse than the
margin" from the normal approximation Φ((Δ + m)/SE) (the interval keeps its own method). A finding
that is worse only before the adjustment gets its own outcome, ``worse_before_adjustment``, with
the rule's ``on_inconclusive`` status: its interval lies wholly on the worse side of the
margin, so it is
neither "straddles the margin" nor underpowered — the family of block tests asks for stronger
evidence than one test alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, clean, fmt, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.errors import InputError
from gatekeeper.inputs.scores import LoadedMetric, comparable_ids
from gatekeeper.models.common import STATUS_ORDER, Status
from gatekeeper.models.policy import MetricRule
from gatekeeper.models.verdict import Check, Unmatched
from gatekeeper.stats.types import Comparison, Hypothesis, Outcome

if TYPE_CHECKING:
    from gatekeeper.checks.judge import NotComparable
    from gatekeeper.stats.select import MetricData

# Share of either side's example ids that may find no partner before a comparison cannot pass.
MAX_UNMATCHED = 0.02
# The check's outcome when a "worse" finding does not survive the multiplicity adjustment.
WORSE_BEFORE_ADJUSTMENT = "worse_before_adjustment"


@dataclass(frozen=True)
class _Result:
    index: int
    rule: MetricRule
    hypothesis: Hypothesis
    comparison: Comparison
    outcome: Outcome
    p_worse: float | None
    overlap: str | None = None  # why the pairing by id leaves too many examples out
    unmatched: Unmatched | None = None


def metric_data_pair(cand: LoadedMetric, base: LoadedMetric) -> tuple[MetricData, MetricData]:
    """Both sides as the stats engine takes them, with ids of one type so they can pair."""
    from gatekeeper.stats.select import MetricData

    ids_c, ids_b = comparable_ids(cand.ids, base.ids)
    return (MetricData(kind=cand.kind, values=cand.values, ids=ids_c, seeds=cand.seeds,
                       clusters=cand.clusters),
            MetricData(kind=base.kind, values=base.values, ids=ids_b, seeds=base.seeds,
                       clusters=base.clusters))


def _baseline_point(loaded: LoadedMetric) -> float:
    return float(np.mean(loaded.values))


def _compare(ctx: Evidence, i: int, rule: MetricRule,
             not_comparable: Mapping[str, NotComparable]) -> _Result | Check:
    from gatekeeper.stats import quantile, select
    from gatekeeper.stats.decision import decide

    vs = rule.vs_baseline
    assert vs is not None
    src = source_of(ctx.policy.location("metrics", i, "vs_baseline"))
    cid = ids.metric(rule.metric, "vs_baseline")
    if ctx.baseline is None:
        return check(cid, "block" if ctx.policy.policy.baseline is None
                     else ctx.policy.policy.baseline.on_missing,
                     "no baseline to compare with (see baseline:resolve)", source=src)
    if rule.metric in not_comparable:
        # The judge family found the two runs' scores incomparable: no Δ.
        found = not_comparable[rule.metric]
        return check(cid, found.status, f"{rule.metric}: {found.why}", outcome="not_comparable",
                     source=src)
    missing = [side for side, b in (("candidate", ctx.bundle), ("baseline", ctx.baseline))
               if rule.metric not in b.run.metrics]
    if missing:
        return check(cid, rule.on_fail,
                     f"metric {rule.metric!r} is missing from the {' and '.join(missing)} "
                     "bundle, so the comparison cannot be made", source=src)
    cand = ctx.metric("candidate", rule.metric)
    base = ctx.metric("baseline", rule.metric)
    base_point = _baseline_point(base)
    samples = cand.kind == "samples"
    if vs.margin_rel is not None:
        margin = math.log1p(vs.margin_rel) if samples else vs.margin_rel * abs(base_point)
    else:
        margin = vs.margin
    gain = vs.min_gain or 0.0
    if samples and vs.min_gain:
        gain = math.log1p(vs.min_gain)
    hyp = Hypothesis(confidence=vs.confidence, margin=margin, gain=gain,
                     require_improvement=vs.require == "superior" or bool(vs.min_gain),
                     higher_is_better=rule.higher_is_better)
    stats_cfg = ctx.policy.policy.stats
    try:
        if samples:
            if vs.quantile is None:
                raise ValueError("samples are compared by a quantile: set vs_baseline.quantile "
                                 "(e.g. 0.95)")
            comp = quantile.compare_quantile(cand.values, base.values, vs.quantile, hyp,
                                             resamples=min(stats_cfg.resamples, 4000),
                                             seed=stats_cfg.seed)
        else:
            data_c, data_b = metric_data_pair(cand, base)
            comp = select.compare(data_c, data_b, hyp,
                                  method=vs.method, aggregate=vs.aggregate, seed=stats_cfg.seed,
                                  require_full_overlap=vs.require_full_overlap,
                                  resamples=stats_cfg.resamples)
    except ValueError as exc:
        raise InputError(f"metric {rule.metric!r}: {exc}",
                         ctx.policy.location("metrics", i, "vs_baseline")) from exc
    unmatched = _unmatched(comp, cand, base)
    overlap = _overlap(ctx, rule.metric, unmatched, cand, base) if unmatched else None
    outcome = decide(comp, hyp)
    p_worse = _p_worse(comp, hyp)
    return _Result(i, rule, hyp, comp, outcome, p_worse, overlap, unmatched)


def _unmatched(comp: Comparison, cand: LoadedMetric, base: LoadedMetric) -> Unmatched | None:
    if comp.unmatched is None:
        return None
    return Unmatched(candidate_only=comp.unmatched[0], baseline_only=comp.unmatched[1],
                     candidate_total=int(np.shape(cand.values)[0]),
                     baseline_total=int(np.shape(base.values)[0]),
                     candidate_examples=comp.unmatched_examples[0],
                     baseline_examples=comp.unmatched_examples[1])


def _overlap(ctx: Evidence, metric: str, u: Unmatched, cand: LoadedMetric,
             base: LoadedMetric) -> str | None:
    """What the pairing by id left out, when it is too much to trust the comparison.

    No common id at all is an input error: the two runs were scored on different eval sets.
    More than ``MAX_UNMATCHED`` of either side left out means the comparison is not of the same
    examples — a candidate that drops the examples it fails would look better — so the rule
    cannot pass; a few ids lost (a flaky example, a rename) only get a note.
    """
    only_c, only_b = u.candidate_only, u.baseline_only
    total_c, total_b = u.candidate_total, u.baseline_total
    if total_c - only_c == 0:
        raise InputError(
            f"metric {metric!r}: no example ids in common: the candidate ({cand.file}) and the "
            f"baseline ({base.file}) were scored on different eval sets",
            ctx.bundle.location("metrics", metric, "per_example"))
    examples = {side: _examples_text(count, shown) for side, count, shown in (
        ("candidate", only_c, u.candidate_examples), ("baseline", only_b, u.baseline_examples))}
    parts = [f"{k:,} of {total:,} {side} example ids ({k / total:.1%}"
             f"{examples.get(side, '')}) are not in the {other}"
             for k, total, side, other in ((only_c, total_c, "candidate", "baseline"),
                                           (only_b, total_b, "baseline", "candidate"))
             if k > MAX_UNMATCHED * total]
    if not parts:
        return None
    return (f"{' and '.join(parts)}: the two runs were not scored on the same examples, so "
            "this comparison cannot pass")


def _examples_text(count: int, shown: tuple[str, ...]) -> str:
    if not count:
        return ""
    more = ", ..." if count > len(shown) else ""
    return f", e.g. {', '.join(shown)}{more}"


def _p_worse(comp: Comparison, hyp: Hypothesis) -> float | None:
    """One-sided p-value for 'Δ_oriented < -m' from the normal approximation, used only to
    adjust a family of block decisions; the interval itself comes from the chosen method."""
    from gatekeeper.stats.dist import norm_cdf

    if comp.se is None or comp.se <= 0 or comp.degenerate:
        return None
    d = comp.delta if hyp.higher_is_better else -comp.delta
    return float(norm_cdf((d + hyp.margin) / comp.se))


def _status(outcome: Outcome, rule: MetricRule) -> Status:
    if outcome in (Outcome.IMPROVED, Outcome.NON_INFERIOR):
        return "pass"
    if outcome == Outcome.WORSE:
        return rule.on_fail
    if outcome == Outcome.INCONCLUSIVE:
        return rule.on_inconclusive
    # Not improved, or no variance information: worth a look, never a pass. A strict policy
    # (inconclusive → block) treats "cannot tell" as strictly as "inconclusive".
    if outcome == Outcome.NO_INFORMATION and rule.on_inconclusive == "block":
        return "block"
    return "warn"


WORDS = {
    Outcome.IMPROVED: "improved beyond the required gain",
    Outcome.NON_INFERIOR: "non-inferior within the margin",
    Outcome.NOT_IMPROVED: "not worse, but the required improvement is not shown",
    Outcome.WORSE: "worse than the margin",
    Outcome.INCONCLUSIVE: "inconclusive: the interval straddles the margin",
    Outcome.NO_INFORMATION: "no variance information: cannot tell",
}


def _wholly_worse(comp: Comparison, hyp: Hypothesis) -> bool:
    """The oriented interval lies wholly below -m: "underpowered" would be the wrong story."""
    hi = comp.ci[1] if hyp.higher_is_better else -comp.ci[0]
    return hi < -hyp.margin


def _to_check(ctx: Evidence, r: _Result, adjusted: float | None, adj_method: str,
              family: int) -> Check:
    from gatekeeper.stats.decision import more_samples_needed

    comp, rule, hyp = r.comparison, r.rule, r.hypothesis
    outcome = r.outcome
    notes = list(comp.notes)
    demoted = (outcome == Outcome.WORSE and adjusted is not None
               and adjusted >= hyp.alpha_one_sided)
    if demoted:
        assert adjusted is not None
        outcome = Outcome.INCONCLUSIVE
        notes.append(f"the interval lies wholly on the worse side of the margin, but the "
                     f"adjusted p = "
                     f"{adjusted:.3g} is not below {hyp.alpha_one_sided:g}: on_inconclusive "
                     "applies, not on_fail (multiplicity: {method: none} turns the adjustment "
                     "off)")
    status = _status(outcome, rule)
    if r.overlap is not None:
        floor: Status = "block" if rule.on_inconclusive == "block" else "warn"
        status = max(status, floor, key=lambda x: STATUS_ORDER[x])
    log = comp.scale == "log_ratio"
    n_side = comp.n[0] if comp.n else 0
    undecided = outcome in (Outcome.INCONCLUSIVE, Outcome.NOT_IMPROVED, Outcome.NO_INFORMATION)
    if comp.mde is not None and hyp.margin > 0 and comp.mde > hyp.margin and undecided \
            and not _wholly_worse(comp, hyp):
        more = more_samples_needed(n_side, comp.mde, hyp.margin)
        unit = "seeds" if comp.method in ("welch-t", "paired-t") and \
            ctx.bundle.run.metrics[rule.metric].kind == "replicates" else "examples"
        if more is not None:
            notes.append(f"underpowered: the minimum detectable effect {fmt(comp.mde)} exceeds "
                         f"the margin {fmt(hyp.margin)}; about {more:,} more {unit} per side "
                         "would resolve it")
    level = round(comp.confidence * 100)
    delta_txt = (f"log ratio {comp.delta:+.4f} (×{math.exp(comp.delta):.3f})" if log
                 else f"Δ = {comp.delta:+.4f}")
    # A zero-width interval of a degenerate comparison (single values) says nothing: omit it.
    usable_ci = not (comp.degenerate and comp.ci[0] == comp.ci[1])
    ci_txt = (f"{level}% CI [{comp.ci[0]:+.4f}, {comp.ci[1]:+.4f}]" if usable_ci
              else "no interval")
    if demoted:
        words = (f"worse than the margin {fmt(hyp.margin)} before the {adj_method} adjustment "
                 f"over {family} block tests (adjusted p = {adjusted:.3g}), not after it")
    else:
        words = WORDS[outcome] + (f" {fmt(hyp.margin)}" if outcome in (
            Outcome.NON_INFERIOR, Outcome.WORSE) else "")
    message = (f"{rule.metric}: {delta_txt}, {ci_txt} by {comp.method} "
               f"(n = {comp.n[0]:,} vs {comp.n[1]:,}): {words}"
               + (f"; but {r.overlap}" if r.overlap is not None else ""))
    return check(
        ids.metric(rule.metric, "vs_baseline"), status, message,
        observed=clean(comp.candidate), baseline=clean(comp.baseline), delta=clean(comp.delta),
        ci=(clean(comp.ci[0]) or 0.0, clean(comp.ci[1]) or 0.0) if usable_ci else None,
        confidence=comp.confidence,
        threshold=clean(hyp.threshold), method=comp.method, reason=comp.reason,
        n=comp.n, p_value=clean(comp.p_value), mde=clean(comp.mde),
        outcome=WORSE_BEFORE_ADJUSTMENT if demoted else outcome.value,
        notes=notes, source=source_of(ctx.policy.location("metrics", r.index, "vs_baseline")),
        scale="log_ratio" if log else "absolute", unmatched=r.unmatched,
    )


def run(ctx: Evidence, not_comparable: Mapping[str, NotComparable]) -> list[Check]:
    """``not_comparable``: metrics the judge family found incomparable (checks/judge.py)."""
    from gatekeeper.stats.multiplicity import adjust

    results: list[_Result | Check] = []
    for i, rule in enumerate(ctx.policy.policy.metrics):
        if rule.vs_baseline is not None:
            results.append(_compare(ctx, i, rule, not_comparable))
    comps = [r for r in results if isinstance(r, _Result)]
    method = ctx.policy.policy.multiplicity.method
    family = [r for r in comps if r.p_worse is not None]
    adjusted: dict[int, float] = {}
    if len(family) > 1 and method != "none":
        values = adjust([r.p_worse for r in family if r.p_worse is not None], method)
        adjusted = {r.index: float(v) for r, v in zip(family, values, strict=True)}
    out: list[Check] = []
    for r in results:
        if isinstance(r, Check):
            out.append(r)
        else:
            c = _to_check(ctx, r, adjusted.get(r.index), method, len(family))
            if adjusted:
                c = c.model_copy(update={"notes": [
                    *c.notes, f"{method} adjustment over {len(family)} block tests, on "
                    "one-sided p-values for 'worse than the margin' from the normal "
                    "approximation (Δ and its standard error); pass needs every rule: no "
                    "correction"]})
            out.append(c)
    return out
