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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from gatekeeper.checks import ids, sufficient
from gatekeeper.checks.base import check, clean, fmt, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.checks.missing import MAX_UNMATCHED, Filled, fill_missing, implausible
from gatekeeper.checks.series import Gated, gated
from gatekeeper.errors import InputError
from gatekeeper.inputs.scores import LoadedMetric, comparable_ids
from gatekeeper.leaderboard.ladder import ladder_gain
from gatekeeper.models.common import STATUS_ORDER, Status
from gatekeeper.models.policy import MetricRule
from gatekeeper.models.verdict import Check, Unmatched
from gatekeeper.stats.decision import decide, more_samples_needed
from gatekeeper.stats.multiplicity import AdjustMethod, adjust
from gatekeeper.stats.types import Comparison, Hypothesis, Outcome

if TYPE_CHECKING:
    from gatekeeper.checks.judge import NotComparable
    from gatekeeper.stats.select import MetricData

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
    missing_note: str | None = None  # how examples the candidate lacks were scored
    series_note: str | None = None  # which point of each curve a series rule compared


def metric_data_pair(cand: LoadedMetric, base: LoadedMetric) -> tuple[MetricData, MetricData]:
    """Both sides as the stats engine takes them, with ids of one type so they can pair."""
    # lazy: scipy (stats.select's methods) stays off checks with no vs_baseline rule
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
    refused = _refusal(ctx, i, rule, not_comparable)
    if refused is not None:
        return refused
    judged_c, judged_b = gated(ctx, "candidate", rule, i), gated(ctx, "baseline", rule, i)
    cand, base = judged_c.metric, judged_b.metric
    evidence = _scored_evidence(ctx, i, rule, cand, base)
    if isinstance(evidence, Check):
        return evidence
    cand = evidence.candidate
    hyp = _leaderboard_hypothesis(ctx, rule.metric,
                                  _hypothesis(rule, cand.kind == "samples", _baseline_point(base)))
    comp = _comparison(ctx, i, rule, hyp, cand, base)
    unmatched = _unmatched(comp, cand, base)
    overlap = _overlap(ctx, rule, unmatched, cand, base) if unmatched else None
    outcome = decide(comp, hyp)
    p_worse = _p_worse(comp, hyp)
    return _Result(i, rule, hyp, comp, outcome, p_worse, overlap, unmatched, evidence.note,
                   _series_note(rule, judged_c, judged_b))


def _series_note(rule: MetricRule, cand: Gated, base: Gated) -> str | None:
    """Which point of each curve the comparison took, when the metric is a series."""
    if cand.point is None or base.point is None:
        return None
    return (f"series reduced to its {rule.reduce} value: candidate {fmt(cand.point.value)} at "
            f"step {cand.point.step:g}, baseline {fmt(base.point.value)} at step "
            f"{base.point.step:g}")


def _scored_evidence(ctx: Evidence, i: int, rule: MetricRule, cand: LoadedMetric,
                     base: LoadedMetric) -> Filled | Check:
    """The candidate's scores as the comparison takes them: plausible for the metric, and
    with the examples it lacks scored as failures unless the policy says ``missing: drop``."""
    vs = rule.vs_baseline
    assert vs is not None
    src = source_of(ctx.policy.location("metrics", i, "vs_baseline"))
    cid = ids.metric(rule.metric, "vs_baseline")
    why = implausible(rule, cand, base)
    if why is not None:
        return check(cid, "block", f"{rule.metric}: {why}", source=src)
    if vs.missing == "drop":
        return Filled(cand, 0, None)
    filled = fill_missing(rule, cand, base)
    if isinstance(filled, str):
        return check(cid, "block", f"{rule.metric}: {filled}", source=src)
    return filled


def _refusal(ctx: Evidence, i: int, rule: MetricRule,
             not_comparable: Mapping[str, NotComparable]) -> Check | None:
    """Why the comparison cannot be made at all (no baseline, the judge changed, a side lacks
    the metric), as its check; None when it can."""
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
    return None


def _hypothesis(rule: MetricRule, samples: bool, base_point: float) -> Hypothesis:
    """The rule as a hypothesis; for samples (compared by a quantile on the log-ratio scale)
    relative margins and gains are log ratios too."""
    vs = rule.vs_baseline
    assert vs is not None
    if vs.margin_rel is not None:
        margin = math.log1p(vs.margin_rel) if samples else vs.margin_rel * abs(base_point)
    else:
        margin = vs.margin
    gain = vs.min_gain or 0.0
    if samples and vs.min_gain:
        gain = math.log1p(vs.min_gain)
    return Hypothesis(confidence=vs.confidence, margin=margin, gain=gain,
                      require_improvement=vs.require == "superior" or bool(vs.min_gain),
                      higher_is_better=rule.higher_is_better)


def _leaderboard_hypothesis(ctx: Evidence, metric: str, hyp: Hypothesis) -> Hypothesis:
    """The question as the leaderboard settings ask it: at a confidence adjusted for the
    sweep the candidate won (and, under the Ladder, for the reuse budget), and under the
    Ladder an improvement of at least one step."""
    lb = ctx.leaderboard
    if lb is None or (lb.family(metric) == 1 and not lb.is_laddered(metric)):
        return hyp
    gain = hyp.gain
    if lb.is_laddered(metric):
        gain = ladder_gain(hyp.gain, lb.rule.ladder_step)
    return replace(hyp, confidence=lb.confidence(hyp.confidence, metric), gain=gain)


def _leaderboard_notes(ctx: Evidence, metric: str, hyp: Hypothesis) -> list[str]:
    """What the adjustment did, in the comparison's own notes (numbers from the policy and
    the registry only, so they may be released under the Ladder)."""
    lb = ctx.leaderboard
    if lb is None:
        return []
    notes: list[str] = []
    sweep = lb.sweep
    if sweep.k > 1:
        where = (f"run.yaml claims {sweep.claimed}, the registry knows {sweep.recorded} of "
                 f"parent run {sweep.parent_run_id!r}" if sweep.parent_run_id
                 else f"run.yaml claims {sweep.claimed}")
        effect = ("no adjustment (sweep_adjustment: none)"
                  if lb.rule.sweep_adjustment == "none" else
                  f"{lb.rule.sweep_adjustment} adjustment over k = {sweep.k}")
        notes.append(f"winner's curse: the best of k = {sweep.k} trials on this eval set "
                     f"({where}; the larger counts): {effect}")
    if lb.is_laddered(metric):
        notes.append(f"release: ladder: an improvement counts only above one step "
                     f"({fmt(lb.rule.ladder_step)}); α spread over the reuse budget of "
                     f"{lb.ladder_family} decision{'s' if lb.ladder_family != 1 else ''}")
    if notes and lb.family(metric) > 1:
        notes.append(f"adjusted confidence: the interval is at {hyp.confidence:.4%} instead "
                     "of the policy's level, for the selection above")
    return notes


def _comparison(ctx: Evidence, i: int, rule: MetricRule, hyp: Hypothesis, cand: LoadedMetric,
                base: LoadedMetric) -> Comparison:
    """The method the data's shape calls for; a rule the data cannot serve is an input error."""
    # lazy: scipy (stats.quantile, stats.select) stays off checks with no vs_baseline rule
    from gatekeeper.stats import quantile, select

    vs = rule.vs_baseline
    assert vs is not None
    stats_cfg = ctx.policy.policy.stats
    try:
        if cand.kind in sufficient.KINDS:
            return sufficient.compare_sufficient(ctx, rule, hyp, cand, base)
        if cand.kind == "samples":
            if vs.quantile is None:
                raise ValueError("samples are compared by a quantile: set vs_baseline.quantile "
                                 "(e.g. 0.95)")
            return quantile.compare_quantile(cand.values, base.values, vs.quantile, hyp,
                                             resamples=min(stats_cfg.resamples, 4000),
                                             seed=stats_cfg.seed)
        data_c, data_b = metric_data_pair(cand, base)
        return select.compare(data_c, data_b, hyp,
                              method=vs.method, aggregate=vs.aggregate, seed=stats_cfg.seed,
                              require_full_overlap=vs.require_full_overlap,
                              resamples=stats_cfg.resamples)
    except ValueError as exc:
        raise InputError(f"metric {rule.metric!r}: {exc}",
                         ctx.policy.location("metrics", i, "vs_baseline")) from exc


def _unmatched(comp: Comparison, cand: LoadedMetric, base: LoadedMetric) -> Unmatched | None:
    if comp.unmatched is None:
        return None
    return Unmatched(candidate_only=comp.unmatched[0], baseline_only=comp.unmatched[1],
                     candidate_total=int(np.shape(cand.values)[0]),
                     baseline_total=int(np.shape(base.values)[0]),
                     candidate_examples=comp.unmatched_examples[0],
                     baseline_examples=comp.unmatched_examples[1])


def _overlap(ctx: Evidence, rule: MetricRule, u: Unmatched, cand: LoadedMetric,
             base: LoadedMetric) -> str | None:
    """What the pairing by id left out, when it is too much to trust the comparison.

    No common id at all is an input error: the two runs were scored on different eval sets.
    More than ``MAX_UNMATCHED`` of the candidate's ids, or (under ``missing: drop``) more than
    ``max_missing_fraction`` of the baseline's, left out means the comparison is not of the same
    examples — a candidate that drops the examples it fails would look better — so the rule
    cannot pass; a few ids lost (a flaky example, a rename) only get a note.
    """
    metric = rule.metric
    assert rule.vs_baseline is not None
    limits = {"candidate": MAX_UNMATCHED, "baseline": rule.vs_baseline.max_missing_fraction}
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
             if k > limits[side] * total]
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
    # lazy: scipy.special (stats.dist) stays off checks with no vs_baseline rule
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


@dataclass(frozen=True)
class _Adjustment:
    """Where one rule's "worse" finding stands in the family of block tests."""

    p: float | None  # its adjusted p-value; None when no adjustment applies to it
    method: str  # holm | bh | bonferroni | none
    family: int  # how many block tests the adjustment runs over

    def demotes(self, r: _Result) -> bool:
        """A "worse" finding that does not survive the adjustment."""
        return (r.outcome == Outcome.WORSE and self.p is not None
                and self.p >= r.hypothesis.alpha_one_sided)


def _demotion_note(adjusted: float, hyp: Hypothesis) -> str:
    return (f"the interval lies wholly on the worse side of the margin, but the adjusted p = "
            f"{adjusted:.3g} is not below {hyp.alpha_one_sided:g}: on_inconclusive applies, not "
            "on_fail (multiplicity: {method: none} turns the adjustment off)")


def _underpowered_note(ctx: Evidence, r: _Result, outcome: Outcome) -> str | None:
    """How many more examples (or seeds) per side would resolve an undecided comparison whose
    minimum detectable effect exceeds the margin; None when that is not the story."""
    comp, hyp = r.comparison, r.hypothesis
    undecided = outcome in (Outcome.INCONCLUSIVE, Outcome.NOT_IMPROVED, Outcome.NO_INFORMATION)
    if comp.mde is None or hyp.margin <= 0 or comp.mde <= hyp.margin or not undecided \
            or _wholly_worse(comp, hyp):
        return None
    more = more_samples_needed(comp.n[0] if comp.n else 0, comp.mde, hyp.margin)
    if more is None:
        return None
    unit = "seeds" if comp.method in ("welch-t", "paired-t") and \
        ctx.bundle.run.metrics[r.rule.metric].kind == "replicates" else "examples"
    return (f"underpowered: the minimum detectable effect {fmt(comp.mde)} exceeds the margin "
            f"{fmt(hyp.margin)}; about {more:,} more {unit} per side would resolve it")


def _usable_ci(comp: Comparison) -> bool:
    # A zero-width interval of a degenerate comparison (single values) says nothing: omit it.
    return not (comp.degenerate and comp.ci[0] == comp.ci[1])


def _words(r: _Result, outcome: Outcome, adj: _Adjustment) -> str:
    """What the interval says about the margin, after the multiplicity adjustment."""
    hyp = r.hypothesis
    if adj.demotes(r):
        return (f"worse than the margin {fmt(hyp.margin)} before the {adj.method} adjustment "
                f"over {adj.family} block tests (adjusted p = {adj.p:.3g}), not after it")
    return WORDS[outcome] + (f" {fmt(hyp.margin)}" if outcome in (
        Outcome.NON_INFERIOR, Outcome.WORSE) else "")


def _message(r: _Result, words: str, statistics: str | None = None) -> str:
    """``statistics``: the shape (paired_counts, ...) the candidate gave instead of
    rows; said in the message itself, which every report shows, so a reviewer reading only
    the comment or the HTML sees that the rows were never seen."""
    comp = r.comparison
    level = round(comp.confidence * 100)
    delta_txt = (f"log ratio {comp.delta:+.4f} (×{math.exp(comp.delta):.3f})"
                 if comp.scale == "log_ratio" else f"Δ = {comp.delta:+.4f}")
    ci_txt = (f"{level}% CI [{comp.ci[0]:+.4f}, {comp.ci[1]:+.4f}]" if _usable_ci(comp)
              else "no interval")
    via = f" from {statistics}, not rows" if statistics is not None else ""
    return (f"{r.rule.metric}: {delta_txt}, {ci_txt} by {comp.method}{via} "
            f"(n = {comp.n[0]:,} vs {comp.n[1]:,}): {words}"
            + (f"; but {r.overlap}" if r.overlap is not None else ""))


def _final_status(r: _Result, outcome: Outcome) -> Status:
    status = _status(outcome, r.rule)
    if r.overlap is None:
        return status
    # Not the same examples: the comparison cannot pass, however it came out.
    floor: Status = "block" if r.rule.on_inconclusive == "block" else "warn"
    return max(status, floor, key=lambda x: STATUS_ORDER[x])


def _to_check(ctx: Evidence, r: _Result, adj: _Adjustment) -> Check:
    comp, rule, hyp = r.comparison, r.rule, r.hypothesis
    demoted = adj.demotes(r)
    outcome = Outcome.INCONCLUSIVE if demoted else r.outcome
    notes = [*comp.notes, *_leaderboard_notes(ctx, rule.metric, hyp)]
    if r.missing_note is not None:
        notes.insert(0, r.missing_note)
    if r.series_note is not None:
        notes.insert(0, r.series_note)
    if demoted:
        assert adj.p is not None
        notes.append(_demotion_note(adj.p, hyp))
    underpowered = _underpowered_note(ctx, r, outcome)
    if underpowered is not None:
        notes.append(underpowered)
    usable_ci = _usable_ci(comp)
    kind = ctx.bundle.run.metrics[rule.metric].kind
    return check(
        ids.metric(rule.metric, "vs_baseline"), _final_status(r, outcome),
        _message(r, _words(r, outcome, adj), kind if kind in sufficient.KINDS else None),
        observed=clean(comp.candidate), baseline=clean(comp.baseline), delta=clean(comp.delta),
        ci=(clean(comp.ci[0]) or 0.0, clean(comp.ci[1]) or 0.0) if usable_ci else None,
        confidence=comp.confidence,
        threshold=clean(hyp.threshold), method=comp.method, reason=comp.reason,
        n=comp.n, p_value=clean(comp.p_value), mde=clean(comp.mde),
        outcome=WORSE_BEFORE_ADJUSTMENT if demoted else outcome.value,
        notes=notes, source=source_of(ctx.policy.location("metrics", r.index, "vs_baseline")),
        scale="log_ratio" if comp.scale == "log_ratio" else "absolute", unmatched=r.unmatched,
    )


def run(ctx: Evidence, not_comparable: Mapping[str, NotComparable]) -> list[Check]:
    """``not_comparable``: metrics the judge family found incomparable (checks/judge.py)."""
    results = [_compare(ctx, i, rule, not_comparable)
               for i, rule in enumerate(ctx.policy.policy.metrics)
               if rule.vs_baseline is not None]
    method = ctx.policy.policy.multiplicity.method
    family = [r for r in results if isinstance(r, _Result) and r.p_worse is not None]
    adjusted = _adjusted(family, method)
    out: list[Check] = []
    for r in results:
        if isinstance(r, Check):
            out.append(r)
            continue
        c = _to_check(ctx, r, _Adjustment(adjusted.get(r.index), method, len(family)))
        if adjusted:
            c = c.model_copy(update={"notes": [
                *c.notes, f"{method} adjustment over {len(family)} block tests, on "
                "one-sided p-values for 'worse than the margin' from the normal "
                "approximation (Δ and its standard error); pass needs every rule: no "
                "correction"]})
        out.append(c)
    return out


def _adjusted(family: list[_Result], method: AdjustMethod) -> dict[int, float]:
    """The family's adjusted p-values by rule index; none for a single test or method none."""
    if len(family) <= 1 or method == "none":
        return {}
    values = adjust([r.p_worse for r in family if r.p_worse is not None], method)
    return {r.index: float(v) for r, v in zip(family, values, strict=True)}
