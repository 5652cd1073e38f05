"""``leaderboard:`` checks, and the release of comparison results under the policy's
``leaderboard:`` section (docs/leaderboard.md).

``run`` reports how many decisions each eval set has already informed against the reuse
budget. ``release`` rewrites the metric checks that would leak an eval set's exact scores:
under ``release: ladder`` every number is rounded to the Ladder step or withheld, and a sealed
holdout's checks keep only their verdict. Every report format renders these same fields, so one
rewrite here keeps them all consistent.
"""

from __future__ import annotations

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, fmt
from gatekeeper.checks.evidence import Evidence
from gatekeeper.leaderboard import ladder
from gatekeeper.leaderboard.context import LeaderboardContext, Usage
from gatekeeper.models.common import Status
from gatekeeper.models.verdict import Check

_VERDICT_WORDS = {"pass": "passes", "warn": "warns", "block": "blocks"}
_OUTCOME_WORDS = {
    "improved": "improved by at least one Ladder step",
    "non_inferior": "non-inferior within the margin",
    "not_improved": "not worse, but no improvement of a full Ladder step is shown",
    "worse": "worse than the margin",
    "worse_before_adjustment": "worse than the margin before the multiplicity adjustment",
    "inconclusive": "inconclusive: the interval straddles the margin",
    "no_information": "no variance information: cannot tell",
    "not_comparable": "not comparable",
}


def _reuse(lb: LeaderboardContext, usage: Usage | None) -> Check:
    rule = lb.rule
    if usage is None and lb.sealed is not None:
        return check(ids.leaderboard("reuse"), "pass",
                     "no public eval set: every compared eval set is the sealed holdout")
    if usage is None:
        names = f" ({', '.join(lb.sets.unhashed)} give no sha256)" if lb.sets.unhashed else ""
        return check(ids.leaderboard("reuse"), rule.on_exceed,
                     "no eval set identified: the leaderboard counts decisions by the sha256 "
                     "of each data[] entry whose split is test, eval or validation (or that "
                     f"leaderboard.eval_sets names){names}; this decision cannot be counted")
    n, budget = usage.earlier, rule.max_decisions
    window = f" in the last {rule.window_days:g} days" if rule.window_days else ""
    # The ledger is named: a count from an empty or copied ledger (``--registry`` pointed
    # elsewhere) shows where it came from in the report a reviewer reads.
    head = (f"eval set {usage.eval_set.short} ({', '.join(usage.eval_set.names)}) has informed "
            f"{n:,} earlier decision{'s' if n != 1 else ''}{window} in ledger {lb.ledger}")
    base = lb.sets.baseline
    if base is not None and base.sha256 != usage.eval_set.sha256:
        # A changed file is a new eval set to the ledger, however small the change: say so.
        head += (f" (the baseline was scored on eval set {base.short}: a changed eval set, "
                 "even by a trivial edit of its file, starts a fresh count)")
    if budget is None:
        return check(ids.leaderboard("reuse"), "pass", f"{head}; no reuse budget is set",
                     observed=float(n))
    if n >= budget:
        return check(ids.leaderboard("reuse"), rule.on_exceed,
                     f"{head}: over the reuse budget of {budget:,}; every further answer leaks "
                     "more of it, so a gain on it means less: refresh the eval set or seal a "
                     "holdout", observed=float(n), threshold=float(budget))
    return check(ids.leaderboard("reuse"), "pass",
                 f"{head}, within the reuse budget of {budget:,} ({budget - n:,} left)",
                 observed=float(n), threshold=float(budget))


def _sealed(lb: LeaderboardContext, usage: Usage) -> Check:
    n = usage.earlier
    return check(ids.leaderboard("sealed"), "pass",
                 f"sealed holdout {usage.eval_set.short} ({', '.join(usage.eval_set.names)}) "
                 f"has informed {n:,} earlier decision{'s' if n != 1 else ''} (counted apart "
                 "from the public eval set); only its verdicts are released",
                 observed=float(n))


def run(ev: Evidence) -> list[Check]:
    lb = ev.leaderboard
    if lb is None:
        return []
    out = [_reuse(lb, lb.public)]
    if lb.sealed is not None:
        out.append(_sealed(lb, lb.sealed))
    return out


# --- release -------------------------------------------------------------------------------

def _verdict_only(c: Check, why: str) -> Check:
    """Only the verdict: no value, Δ, interval, p-value, MDE, notes or example ids."""
    status: Status = c.status
    return c.model_copy(update={
        "message": f"{c.metric}: {why}: {_VERDICT_WORDS[status]} (only the verdict "
                   "is released)",
        "observed": None, "baseline": None, "delta": None, "ci": None, "p_value": None,
        "mde": None, "outcome": None, "notes": [], "unmatched": None, "reason": None,
        "n": None})


def _ladder_comparison(c: Check, step: float, notes: list[str]) -> Check:
    if c.method is None:
        return c  # no comparison was made (no baseline, refused evidence): nothing to round
    level = round((c.confidence or 0.95) * 100, 2)
    n_txt = f" (n = {c.n[0]:,} vs {c.n[1]:,})" if c.n else ""
    words = _OUTCOME_WORDS.get(c.outcome or "", "no comparison")
    mde = ladder.up(c.mde, step) if c.mde is not None else None
    withheld = {"observed": None, "baseline": None, "delta": None, "ci": None,
                "p_value": None, "mde": mde, "unmatched": None, "notes": notes}
    if c.outcome != "improved" or c.delta is None or c.ci is None:
        return c.model_copy(update={**withheld, "message": (
            f"{c.metric}: Δ and interval withheld (release: ladder, step {fmt(step)}: only an "
            f"improvement of a full step is released) by {c.method}{n_txt}: {words}")})
    delta = ladder.toward_zero(c.delta, step)
    lo, hi = ladder.outward(c.ci, step)
    # On a log-ratio scale Δ is not observed − baseline: the values are withheld there.
    base = (ladder.down(float(c.baseline), step)
            if isinstance(c.baseline, float) and c.scale != "log_ratio" else None)
    observed = round(base + delta, ladder.DECIMALS) if base is not None else None
    return c.model_copy(update={**withheld, "delta": delta, "ci": (lo, hi),
                                "baseline": base, "observed": observed, "message": (
        f"{c.metric}: Δ = {delta:+.4g} (to the Ladder step {fmt(step)}), {level:g}% CI "
        f"[{lo:+.4g}, {hi:+.4g}] by {c.method}{n_txt}: {words}")})


def _ladder_bound(c: Check, step: float) -> Check:
    """A floor or ceiling on a laddered metric: its value to the step, like the comparison."""
    if not isinstance(c.observed, float):
        return c
    value = ladder.down(c.observed, step)
    return c.model_copy(update={
        "observed": value, "notes": [],
        "message": f"{c.metric} ≈ {fmt(value)} (release: ladder, to the step {fmt(step)}): "
                   f"{_VERDICT_WORDS[c.status]} its {_bound(c)} "
                   f"{fmt(c.threshold) if isinstance(c.threshold, float) else c.threshold}"})


def _bound(c: Check) -> str:
    assert c.metric is not None
    return "floor" if c.id == ids.metric(c.metric, "min").id else "ceiling"


def _leaderboard_notes(c: Check) -> list[str]:
    return [n for n in c.notes if n.startswith(SWEEP_NOTE_PREFIXES)]


# The comparison's notes that carry only policy and registry numbers (sweep size, step,
# adjusted level), so they may be released under the Ladder.
SWEEP_NOTE_PREFIXES = ("winner's curse:", "release: ladder:", "adjusted confidence:")


def release(checks: list[Check], lb: LeaderboardContext | None) -> list[Check]:
    """The checks as they may be released for the policy's leaderboard settings."""
    if lb is None:
        return checks
    out: list[Check] = []
    for c in checks:
        if c.family == "budget" and c.metric is not None:
            out.append(_budget(c, lb))
        elif c.family != "metric" or c.metric is None:
            out.append(c)
        elif lb.is_sealed(c.metric):
            out.append(_verdict_only(c, "sealed holdout"))
        elif lb.withholds(c.metric):
            out.append(_verdict_only(c, "over the reuse budget"))
        elif lb.is_laddered(c.metric) and c.id == ids.metric(c.metric, "vs_baseline").id:
            out.append(_ladder_comparison(c, lb.rule.ladder_step, _leaderboard_notes(c)))
        elif lb.is_laddered(c.metric):
            out.append(_ladder_bound(c, lb.rule.ladder_step))
        else:
            out.append(c)
    return out


def _budget(c: Check, lb: LeaderboardContext) -> Check:
    """A budget on a metric (``budgets: [{name: exact_match, max: ...}]``) reports the same
    score as the metric's own checks: adding one, a tightening that needs no approval, must
    not release what the Ladder withholds. Its value and ratio are withheld (a derived
    quantity such as cost per success can carry the labels too); the verdict stays."""
    assert c.metric is not None
    kind = "budget vs baseline" if c.id.endswith(":vs_baseline") else "budget"
    if lb.is_sealed(c.metric):
        return _verdict_only(c, f"{kind} on a sealed holdout")
    if lb.is_laddered(c.metric):
        return _verdict_only(c, f"{kind} (release: ladder)")
    return c
