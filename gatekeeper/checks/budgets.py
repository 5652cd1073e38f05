"""Cost, latency and usage budgets: absolute limits and ratios against the baseline.

A budget names a **reserved** quantity (``latency_p50_ms``, ``latency_p95_ms``,
``latency_p99_ms``, ``cost_usd``, ``cost_per_request_usd``, ``cost_per_success_usd``,
``tokens_per_request``, ``input_tokens``, ``output_tokens``, ``requests``, ``error_rate``) or any
other metric of the run. A reserved quantity is measured from the run's per-request evidence,
first match wins:

1. request traces (``llm.traces``, JSONL, one request per line: ``id``, ``latency_ms``,
   ``input_tokens``, ``output_tokens``, ``cost_usd``, ``success``, ``judge``, ``error``): every
   derived quantity with an interval — latency quantiles by Harrell–Davis with a percentile
   bootstrap, cost and tokens per request and cost per success as ratios of means with a
   delta-method interval, the error rate (share of requests whose ``error`` is set; every
   record must carry the key, null when fine) with Wilson's interval;
2. latency quantiles only: a ``samples`` metric of the run whose field is ``latency_ms``;
3. ``llm.usage`` totals: a scalar without an interval (older bundles and tools that record only
   totals); there the error rate is 1 − successes/requests, since usage counts no errors.

A run metric that carries a reserved name is a *claim* about that quantity, not evidence: it is
used (its mean, with its standard error) only when the run has none of the sources above. When
it has both and the claim disagrees with the measured value — more than 1% apart (rounding, or
another quantile estimator) and outside the measured interval when there is one — the budget
blocks and names both values: a bundle must not be able to report ``latency_p95_ms: 100`` over
traces whose p95 is 2,852. A ``samples`` metric is per-request data, not a claim, and is never
compared this way. A budget named after a non-reserved metric uses that metric's mean.

An **absolute** budget (``max``/``min``) is decided on the point estimate against the limit, and
the interval is shown beside it (with a note when it straddles the limit): a budget is an
operating limit on what the run costs, not a hypothesis about a population, and deciding on the
upper bound would make a small eval fail a budget its own point estimate keeps. A latency
quantile with fewer than 20 requests beyond it (n(1−q) < 20) cannot pass: it warns.

A **vs_baseline** budget (``max_ratio``) compares the same quantity of the baseline bundle as a
ratio candidate/baseline with an interval at ``confidence``: the log ratio of Harrell–Davis
quantiles for latency (requests resampled in pairs when both runs served the same request ids),
the delta-method (or bootstrap-t, for skewed costs) log ratio of means for cost, tokens and error
rate. Each side takes its traces (or latency samples); a run metric of the budget's name stands
in only for a side that has neither those nor a usage total. Lower bound of the ratio above
``max_ratio`` → ``on_exceed``; upper bound below → pass; otherwise, or when the comparison
carries no variance information → warn.

A budget whose quantity the run cannot provide is not a pass: it takes ``on_exceed`` and says
what is missing. Malformed trace lines are bundle errors naming the file and line.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, clean, fmt, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.checks.ids import CheckKey
from gatekeeper.checks.thresholds import point_estimate, unpaired_mean_bounds
from gatekeeper.errors import BundleError, InputError, Location, UnsupportedRuleError
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.inputs.traces import Traces, read_traces
from gatekeeper.models.common import Status
from gatekeeper.models.policy import Budget
from gatekeeper.models.run import Run
from gatekeeper.models.verdict import Check, Source
from gatekeeper.stats.types import Comparison, Hypothesis

DERIVED = ("cost_usd", "cost_per_request_usd", "cost_per_success_usd", "tokens_per_request",
           "input_tokens", "output_tokens", "requests", "error_rate")
QUANTILES = {"latency_p50_ms": 0.50, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}
TRACE_BUDGETS = tuple(QUANTILES)
RESERVED = DERIVED + TRACE_BUDGETS
# A run metric restating a reserved quantity agrees with the measured value when it is within
# this relative distance (a rounded figure, another quantile estimator) or inside its interval.
AGREE_REL = 0.01
# Level of the interval shown beside an absolute budget (a vs_baseline block gives its own).
CONFIDENCE = 0.95
# Bootstrap resamples for latency quantiles: the policy's count, capped so a gate stays fast.
MAX_QUANTILE_RESAMPLES = 4000


# ---------------------------------------------------------------- usage totals


def derived_value(run: Run, name: str) -> tuple[float | None, str | None]:
    """(value, why-missing) for a usage-derived quantity."""
    usage = run.llm.usage if run.llm else None
    if usage is None:
        return None, "the run has no llm.usage"
    def need(field: str) -> float | None:
        value = getattr(usage, field)
        return None if value is None else float(value)
    cost, req, succ = need("cost_usd"), need("requests"), need("successes")
    tin, tout = need("input_tokens"), need("output_tokens")
    table: dict[str, tuple[float | None, str]] = {
        "cost_usd": (cost, "llm.usage.cost_usd"),
        "requests": (req, "llm.usage.requests"),
        "input_tokens": (tin, "llm.usage.input_tokens"),
        "output_tokens": (tout, "llm.usage.output_tokens"),
        "cost_per_request_usd": (cost / req if cost is not None and req else None,
                                 "llm.usage.cost_usd and a non-zero llm.usage.requests"),
        "cost_per_success_usd": (cost / succ if cost is not None and succ else None,
                                 "llm.usage.cost_usd and a non-zero llm.usage.successes"),
        "tokens_per_request": ((tin + tout) / req if tin is not None and tout is not None
                               and req else None,
                               "llm.usage input/output tokens and requests"),
        "error_rate": (1.0 - succ / req if succ is not None and req else None,
                       "llm.usage.successes and a non-zero llm.usage.requests"),
    }
    value, need_text = table[name]
    return value, (None if value is not None else f"needs {need_text}")


# ---------------------------------------------------------------- per-request data


@dataclass(frozen=True)
class Sample:
    """Per-request data behind one budget quantity of one bundle.

    ``kind`` "quantile": ``x`` are latencies (``ids`` their request ids); "ratio": the quantity
    is Σnum/Σden; "proportion": ``num`` are 0/1 failures (den all ones); "total": Σnum, a sum
    that carries no sampling interval.
    """

    kind: str
    source: str
    x: np.ndarray | None = None
    ids: np.ndarray | None = None
    num: np.ndarray | None = None
    den: np.ndarray | None = None
    dropped: int = 0  # requests llm.usage counts and the traces lack, included as failed


@dataclass(frozen=True)
class Measured:
    value: float
    ci: tuple[float, float] | None
    method: str
    n: int | None
    source: str
    notes: tuple[str, ...] = ()
    untrusted: bool = False  # a tail quantile without enough data beyond it


class _Sources:
    """Per-side lazy access to traces (read once per bundle)."""

    def __init__(self, ctx: Evidence) -> None:
        self.ctx = ctx
        self._traces: dict[str, Traces | None] = {}

    def bundle(self, which: str) -> Bundle:
        b = self.ctx.bundle if which == "candidate" else self.ctx.baseline
        assert b is not None
        return b

    def traces(self, which: str) -> Traces | None:
        if which not in self._traces:
            self._traces[which] = with_dropped(self.bundle(which).run,
                                               read_traces(self.bundle(which)))
        return self._traces[which]


# Traces.missing key under which with_dropped records how many requests it added.
DROPPED = "dropped requests"


def with_dropped(run: Run, traces: Traces | None) -> Traces | None:
    """The traces, plus a failed request for each one llm.usage counts and no trace records.

    A run that keeps only the traces of requests that went well would show a lower error rate
    and a better cost per success: the requests it dropped count as failures (errored, not
    successful, no cost recorded). A latency quantile cannot be computed without them, so the
    latency field is reported missing and a latency budget cannot pass.
    """
    usage = run.llm.usage if run.llm is not None else None
    if traces is None or usage is None or usage.requests is None or usage.requests <= traces.n:
        return traces
    extra = usage.requests - traces.n
    fields = {k: np.concatenate([v, np.zeros(extra)]) for k, v in traces.fields.items()
              if k != "latency_ms"}
    missing = {**traces.missing, DROPPED: str(extra)}
    if "latency_ms" in traces.fields:
        missing["latency_ms"] = (f"llm.usage counts {usage.requests:,} requests, the traces "
                                 f"{traces.n:,}: {extra:,} dropped requests")
    ids = np.concatenate([traces.ids, np.asarray([f"dropped-{i}" for i in range(extra)])])
    return dataclasses.replace(
        traces, ids=ids, fields=fields, missing=missing,
        success=np.concatenate([traces.success, np.zeros(extra, dtype=bool)]),
        errors=np.concatenate([traces.errors, np.ones(extra, dtype=bool)]))


def _latency_metric(run: Run) -> str | None:
    """A samples metric of latency_ms (the one named latency_ms first)."""
    names = sorted(run.metrics, key=lambda n: (n != "latency_ms", n))
    for name in names:
        spec = run.metrics[name]
        if spec.kind == "samples" and (spec.field or name) == "latency_ms":
            return name
    return None


def _sample(src: _Sources, which: str, name: str) -> Sample | str:
    """Per-request data for a derived budget quantity, or why the run cannot give it."""
    traces = src.traces(which)
    if name in QUANTILES:
        return _latency_sample(src, which, traces)
    if traces is None:
        return "no llm.traces"
    lack = traces.need(*_TRACE_FIELDS[name])
    if lack is not None:
        return f"traces: needs {lack}"
    return _trace_sample(traces, name)


def _latency_sample(src: _Sources, which: str, traces: Traces | None) -> Sample | str:
    """Latencies from the traces, else from a samples metric of latency_ms."""
    why: list[str] = []
    if traces is not None and DROPPED in traces.missing:
        # Not even from a latency metric of the same requests: the dropped ones are missing.
        return f"the latency of {traces.missing[DROPPED]} dropped requests is unknown"
    if traces is not None:
        lack = traces.need("latency_ms")
        if lack is None:
            return Sample("quantile", ", ".join(traces.files), x=traces.fields["latency_ms"],
                          ids=traces.ids)
        why.append(f"needs {lack}")
    metric = _latency_metric(src.bundle(which).run)
    if metric is not None:
        loaded = src.ctx.metric(which, metric)
        return Sample("quantile", loaded.file or metric, x=loaded.values, ids=loaded.ids)
    why.append("no llm.traces and no samples metric of latency_ms" if traces is None
               else "no samples metric of latency_ms")
    return "; ".join(why)


# The trace fields every request must carry for each non-latency quantity.
_TRACE_FIELDS: dict[str, tuple[str, ...]] = {
    "cost_per_request_usd": ("cost_usd",),
    "cost_per_success_usd": ("cost_usd",),
    "tokens_per_request": ("input_tokens", "output_tokens"),
    "error_rate": ("error",),
    "requests": (),
    "cost_usd": ("cost_usd",),
    "input_tokens": ("input_tokens",),
    "output_tokens": ("output_tokens",),
}


def _trace_sample(traces: Traces, name: str) -> Sample:
    """A non-latency quantity from traces that carry every field it needs."""
    shown = ", ".join(traces.files)
    dropped = int(traces.missing.get(DROPPED, "0"))
    ones = np.ones(traces.n)
    f = traces.fields
    if name == "error_rate":
        return Sample("proportion", shown, num=traces.errors.astype(np.float64), den=ones,
                      dropped=dropped)
    if name == "requests":
        return Sample("total", shown, num=ones)
    if name == "cost_per_request_usd":
        return Sample("ratio", shown, num=f["cost_usd"], den=ones)
    if name == "cost_per_success_usd":
        return Sample("ratio", shown, num=f["cost_usd"], den=traces.success.astype(np.float64),
                      dropped=dropped)
    if name == "tokens_per_request":
        return Sample("ratio", shown, num=f["input_tokens"] + f["output_tokens"], den=ones)
    return Sample("total", shown, num=f[name])


def _measure(src: _Sources, which: str, name: str, confidence: float,
             resamples: int, seed: int) -> Measured | str:
    """The budget quantity of one bundle with its interval, or why it cannot be computed."""
    sample = _sample(src, which, name)
    if isinstance(sample, str):
        return _from_usage(src.bundle(which).run, name, sample)
    if sample.kind == "quantile":
        return _quantile_measure(sample, name, confidence, resamples, seed)
    assert sample.num is not None
    n = int(sample.num.size)
    if sample.kind == "total":
        return Measured(float(np.sum(sample.num)), None, "sum over requests", n, sample.source)
    if sample.kind == "proportion":
        return _proportion_measure(sample, confidence)
    return _ratio_measure(sample, name, confidence)


def _from_usage(run: Run, name: str, no_sample: str) -> Measured | str:
    """The llm.usage total when the run has no per-request data (never for a quantile)."""
    if name in QUANTILES:
        return no_sample
    value, missing = derived_value(run, name)
    if value is None:
        return f"{no_sample}; usage: {missing}"
    return Measured(value, None, "llm.usage totals", None, "llm.usage",
                    notes=("from llm.usage totals: no per-request data, so no interval",))


def _quantile_measure(sample: Sample, name: str, confidence: float, resamples: int,
                      seed: int) -> Measured:
    # lazy: scipy.special (stats.quantile) stays off checks without a percentile budget
    from gatekeeper.stats.quantile import quantile_with_interval, tail_note

    assert sample.x is not None
    q = QUANTILES[name]
    try:
        est, ci = quantile_with_interval(sample.x, q, confidence, resamples, seed)
    except ValueError as exc:
        raise BundleError(f"{name}: {exc}", Location(sample.source)) from exc
    guard = tail_note(sample.x.size, q)
    return Measured(est, ci, "harrell-davis-percentile-bootstrap", int(sample.x.size),
                    sample.source, notes=(guard,) if guard else (), untrusted=bool(guard))


def _proportion_measure(sample: Sample, confidence: float) -> Measured:
    # lazy: scipy.special (stats.proportion) stays off checks without an error_rate budget
    from gatekeeper.stats.proportion import wilson_interval

    assert sample.num is not None
    n = int(sample.num.size)
    k = int(np.sum(sample.num))
    notes: tuple[str, ...] = (f"{k:,} of {n:,} requests recorded an error",)
    if sample.dropped:
        notes = (*notes, _dropped_note(sample.dropped))
    return Measured(k / n, wilson_interval(k, n, confidence), "wilson", n, sample.source,
                    notes=notes)


def _dropped_note(count: int) -> str:
    return (f"{count:,} requests counted by llm.usage have no trace: each counts as a failed "
            "request")


def _ratio_measure(sample: Sample, name: str, confidence: float) -> Measured | str:
    # lazy: scipy.special (stats.ratio) stays off checks without a per-request budget
    from gatekeeper.stats.ratio import ratio_of_means

    assert sample.num is not None and sample.den is not None
    n = int(sample.num.size)
    if n < 2:
        den = float(np.sum(sample.den))
        value = float(np.sum(sample.num)) / den if den else math.inf
        return Measured(value, None, "ratio of sums", n, sample.source,
                        notes=("one request: no interval",))
    try:
        est, ci, _se = ratio_of_means(sample.num, sample.den, confidence)
    except ValueError as exc:
        return f"{name} is undefined: {exc}"
    notes = _success_notes(sample) if name == "cost_per_success_usd" else ()
    return Measured(est, ci, "delta-method ratio of means", n, sample.source, notes=notes)


def _success_notes(sample: Sample) -> tuple[str, ...]:
    """What a cost per success stands on: the total cost and how many requests succeeded."""
    assert sample.num is not None and sample.den is not None
    n = int(sample.num.size)
    succ = int(np.sum(sample.den))
    notes: tuple[str, ...] = (f"total cost {fmt(float(np.sum(sample.num)))} USD over "
                              f"{succ:,} successful of {n:,} requests",)
    if sample.dropped:
        notes = (*notes, _dropped_note(sample.dropped))
    if succ == 0:
        notes = (*notes, "no request succeeded: the cost per success is infinite")
    return notes


# ---------------------------------------------------------------- checks


def _ci_text(ci: tuple[float, float] | None, confidence: float) -> str:
    if ci is None or not all(math.isfinite(v) for v in ci):
        return ""
    return f", {round(confidence * 100)}% CI [{fmt(ci[0])}, {fmt(ci[1])}]"


def _recorded_ci(ci: tuple[float, float] | None) -> tuple[float, float] | None:
    """The interval as the check records it: only when both ends are finite."""
    if ci is None or not all(math.isfinite(v) for v in ci):
        return None
    return (clean(ci[0]) or 0.0, clean(ci[1]) or 0.0)


def _reading(m: Measured, confidence: float) -> dict[str, Any]:
    """The check fields that record one measurement (value, interval, method, n)."""
    ci = _recorded_ci(m.ci)
    return {"observed": clean(m.value) if math.isfinite(m.value) else str(m.value), "ci": ci,
            "confidence": confidence if ci is not None else None, "method": m.method,
            "n": (m.n, 0) if m.n is not None else None}


def _limit(budget: Budget) -> float | None:
    return budget.max if budget.max is not None else budget.min


def _breaches(budget: Budget, value: float) -> list[str]:
    problems = []
    if budget.max is not None and value > budget.max:
        problems.append(f"over the budget of {fmt(budget.max)}")
    if budget.min is not None and value < budget.min:
        problems.append(f"under the minimum of {fmt(budget.min)}")
    return problems


def _bounds_text(budget: Budget) -> str:
    """'<= 2 and >= 1': the limits the value is within."""
    bounds = [f"<= {fmt(budget.max)}" if budget.max is not None else "",
              f">= {fmt(budget.min)}" if budget.min is not None else ""]
    return " and ".join(b for b in bounds if b)


def _straddle_notes(budget: Budget, m: Measured) -> list[str]:
    if m.ci is None:
        return []
    ci = m.ci
    return [f"the interval straddles the limit {fmt(bound)}: the point estimate decides"
            for bound in (budget.max, budget.min)
            if bound is not None and ci[0] <= bound <= ci[1]]


def _absolute_status(budget: Budget, m: Measured, head: str) -> tuple[Status, str]:
    """The point estimate against the limits; a tail quantile on too little data warns."""
    problems = _breaches(budget, m.value)
    if problems:
        return budget.on_exceed, f"{head}: {' and '.join(problems)}"
    if m.untrusted:
        return "warn", (f"{head}: within {_bounds_text(budget)}, but too few requests lie "
                        "beyond the quantile to trust it")
    return "pass", f"{head}: within {_bounds_text(budget)}"


def _absolute(budget: Budget, m: Measured, confidence: float, src: Source | None
              ) -> Check:
    n_txt = f", n = {m.n:,}" if m.n is not None else ""
    head = f"{budget.name} = {fmt(m.value)}{_ci_text(m.ci, confidence)} by {m.method}{n_txt}"
    status, text = _absolute_status(budget, m, head)
    return check(ids.budget(budget.name), status, text, threshold=_limit(budget),
                 notes=[*m.notes, *_straddle_notes(budget, m)], source=src,
                 **_reading(m, confidence))


def _compare(name: str, cand: Sample, base: Sample, confidence: float,
             resamples: int, seed: int) -> Comparison:
    """A stats Comparison of candidate vs baseline on the log-ratio scale."""
    # lazy: scipy.special (stats.quantile, stats.ratio) stays off checks whose budgets are not
    # compared with a baseline
    from gatekeeper.stats import quantile, ratio

    hyp = Hypothesis(confidence=confidence, higher_is_better=False)
    if cand.kind == "quantile":
        assert cand.x is not None and base.x is not None
        c, b, paired = _maybe_paired(cand, base)
        return quantile.compare_quantile(c, b, QUANTILES[name], hyp, paired=paired,
                                         resamples=min(resamples, MAX_QUANTILE_RESAMPLES),
                                         seed=seed)
    assert cand.num is not None and base.num is not None
    cden = cand.den if cand.den is not None else np.ones(cand.num.size)
    bden = base.den if base.den is not None else np.ones(base.num.size)
    return ratio.compare_ratio(cand.num, cden, base.num, bden, hyp, resamples=resamples,
                               seed=seed)


def _maybe_paired(cand: Sample, base: Sample) -> tuple[np.ndarray, np.ndarray, bool]:
    """Requests resampled in pairs when both runs served exactly the same request ids."""
    assert cand.x is not None and base.x is not None
    ci, bi = cand.ids, base.ids
    if ci is None or bi is None or ci.size != bi.size or np.unique(ci).size != ci.size:
        return cand.x, base.x, False
    oc, ob = np.argsort(ci, kind="stable"), np.argsort(bi, kind="stable")
    if not np.array_equal(ci[oc], bi[ob]):
        return cand.x, base.x, False
    return cand.x[oc], base.x[ob], True


def _claimed(ctx: Evidence, which: str, name: str) -> float | None:
    """The mean of a run metric that restates a reserved quantity (None: no such claim).

    A ``samples`` metric is per-request data, not a claimed figure, so it is not one.
    """
    bundle = ctx.bundle if which == "candidate" else ctx.baseline
    assert bundle is not None
    spec = bundle.run.metrics.get(name)
    if spec is None or spec.kind == "samples":
        return None
    return point_estimate(ctx.metric(which, name).values)[0]


def _disagreement(name: str, claimed: float, measured: float,
                  ci: tuple[float, float] | None, source: str) -> str | None:
    """Why a claimed run metric contradicts the measured value, or None when they agree."""
    if math.isclose(claimed, measured, rel_tol=AGREE_REL, abs_tol=1e-12):
        return None
    if ci is not None and all(math.isfinite(v) for v in ci) and ci[0] <= claimed <= ci[1]:
        return None
    inside = (f", outside its interval [{fmt(ci[0])}, {fmt(ci[1])}]"
              if ci is not None and all(math.isfinite(v) for v in ci) else "")
    return (f"the run reports {name} = {fmt(claimed)} as a metric, but measured from {source} "
            f"it is {fmt(measured)}{inside}: the reported figure contradicts the run's own data "
            "(the budget is measured from that data; remove the metric or fix it)")


def _conflict_check(budget: Budget, claimed: float, m: Measured, text: str, cid: CheckKey,
                    confidence: float, src: Source | None) -> Check:
    return check(cid, "block", text, threshold=_limit(budget),
                 notes=[*m.notes, f"reported by the run: {fmt(claimed)}"], source=src,
                 **_reading(m, confidence))


def _run_metric_sample(ctx: Evidence, which: str, name: str) -> Sample | str:
    bundle = ctx.bundle if which == "candidate" else ctx.baseline
    assert bundle is not None
    if name not in bundle.run.metrics:
        return f"metric {name!r} is not in the {which} bundle"
    loaded = ctx.metric(which, name)
    return Sample("ratio", loaded.file or name, num=loaded.values,
                  den=np.ones(loaded.values.size))


@dataclass(frozen=True)
class _RatioLimit:
    """A vs_baseline budget's ``max_ratio``, as shown and on the log scale it is decided on."""

    max_ratio: float

    @property
    def text(self) -> str:
        return f"×{self.max_ratio:g}"

    @property
    def log(self) -> float:
        return math.log(self.max_ratio)


@dataclass(frozen=True)
class _Pair:
    """Both sides' per-request data for a ratio, and whether the candidate's is only its own
    run metric standing in for missing evidence (then nothing contradicts it)."""

    candidate: Sample
    baseline: Sample
    candidate_stands_in: bool


def _side(ctx: Evidence, src: _Sources, which: str, name: str) -> tuple[Sample | str, bool]:
    """One side's data for a ratio, and whether the run's own metric stands in for it."""
    if name not in RESERVED:
        return _run_metric_sample(ctx, which, name), False
    got = _sample(src, which, name)
    if isinstance(got, str) and _usage_missing(src, which, name) \
            and name in src.bundle(which).run.metrics:
        # No per-request evidence and no usage total: the run's own metric stands in.
        return _run_metric_sample(ctx, which, name), True
    return got, False


def _pair(ctx: Evidence, src: _Sources, budget: Budget, limit: _RatioLimit, cid: CheckKey,
          where: Source | None) -> _Pair | Check:
    """Both sides' data, or the check saying which side cannot be compared and why."""
    sides: dict[str, tuple[Sample, bool]] = {}
    for which in ("candidate", "baseline"):
        got, stands_in = _side(ctx, src, which, budget.name)
        if isinstance(got, str) or got.kind == "total":
            why = got if isinstance(got, str) else "a total has no per-request interval"
            return check(cid, budget.on_exceed,
                         f"{budget.name} of the {which} cannot be compared with a ratio "
                         f"interval: {why}", threshold=clean(limit.log), source=where)
        sides[which] = (got, stands_in)
    (cand, cand_stands_in), (base, _) = sides["candidate"], sides["baseline"]
    return _Pair(cand, base, cand_stands_in)


def _ratio_comparison(ctx: Evidence, i: int, budget: Budget, pair: _Pair) -> Comparison:
    """candidate ÷ baseline with its interval; a rule the data cannot serve is an input error."""
    assert budget.vs_baseline is not None
    stats_cfg = ctx.policy.policy.stats
    try:
        return _compare(budget.name, pair.candidate, pair.baseline,
                        budget.vs_baseline.confidence, stats_cfg.resamples, stats_cfg.seed)
    except ValueError as exc:
        raise InputError(f"budget {budget.name!r}: {exc}",
                         ctx.policy.location("budgets", i, "vs_baseline")) from exc


def _usable(comp: Comparison) -> bool:
    # A degenerate comparison's interval is not usable: it is neither shown nor recorded.
    lo, hi = comp.ci
    return not comp.degenerate and all(math.isfinite(v) for v in (lo, hi, comp.delta))


def _ratio_head(name: str, comp: Comparison, confidence: float, limit: _RatioLimit) -> str:
    lo, hi = comp.ci
    interval = (f", ratio ×{math.exp(comp.delta):.3f}, {round(confidence * 100)}% CI "
                f"×[{math.exp(lo):.3f}, {math.exp(hi):.3f}]" if _usable(comp) else "")
    return (f"{name}: candidate {fmt(comp.candidate)} vs baseline {fmt(comp.baseline)}"
            + interval
            + f" by {comp.method} (n = {comp.n[0]:,} vs {comp.n[1]:,}); limit {limit.text}")


def _ratio_status(comp: Comparison, limit: _RatioLimit, on_exceed: Status,
                  conflict: str | None) -> tuple[Status, str]:
    """The interval of the log ratio against the limit: the status and the verdict's words."""
    if conflict is not None:
        return "block", f"; {conflict}"
    if not _usable(comp):
        return "warn", ": cannot tell (no usable interval)"
    lo, hi = comp.ci
    if lo > limit.log:
        return on_exceed, f": the whole interval is above {limit.text}"
    if hi < limit.log:
        return "pass", f": the whole interval is below {limit.text}"
    return "warn", f": the interval straddles {limit.text}"


def _ratio_check(cid: CheckKey, budget: Budget, limit: _RatioLimit, comp: Comparison,
                 conflict: str | None, where: Source | None) -> Check:
    vs = budget.vs_baseline
    assert vs is not None
    status, verdict = _ratio_status(comp, limit, budget.on_exceed, conflict)
    usable = _usable(comp)
    lo, hi = comp.ci
    return check(
        cid, status, _ratio_head(budget.name, comp, vs.confidence, limit) + verdict,
        observed=clean(comp.candidate), baseline=clean(comp.baseline),
        delta=clean(comp.delta) if usable else None,
        ci=(clean(lo) or 0.0, clean(hi) or 0.0) if usable else None,
        confidence=vs.confidence, threshold=clean(limit.log), method=comp.method,
        reason=comp.reason, n=comp.n, scale="log_ratio", notes=[
            *comp.notes, "Δ, interval and threshold are log ratios (candidate ÷ baseline)"],
        source=where)


def _vs_baseline(ctx: Evidence, src: _Sources, i: int, budget: Budget) -> Check:
    vs = budget.vs_baseline
    assert vs is not None
    cid = ids.budget(budget.name, vs_baseline=True)
    where = source_of(ctx.policy.location("budgets", i, "vs_baseline"))
    if ctx.baseline is None:
        status: Status = ("block" if ctx.policy.policy.baseline is None
                          else ctx.policy.policy.baseline.on_missing)
        return check(cid, status, "no baseline to compare with (see baseline:resolve)",
                     source=where)
    limit = _RatioLimit(vs.max_ratio)
    pair = _pair(ctx, src, budget, limit, cid, where)
    if isinstance(pair, Check):
        return pair
    comp = _ratio_comparison(ctx, i, budget, pair)
    conflict = (_vs_conflict(ctx, src, budget, vs.confidence)
                if budget.name in RESERVED and not pair.candidate_stands_in else None)
    return _ratio_check(cid, budget, limit, comp, conflict, where)


def _usage_missing(src: _Sources, which: str, name: str) -> bool:
    return name in QUANTILES or derived_value(src.bundle(which).run, name)[0] is None


def _vs_conflict(ctx: Evidence, src: _Sources, budget: Budget, confidence: float
                 ) -> str | None:
    """A candidate metric restating the quantity its traces measure, and contradicting them.

    Reported here only when the budget has no absolute limit (the absolute check says it
    otherwise), so each contradiction blocks once.
    """
    if budget.max is not None or budget.min is not None:
        return None
    claimed = _claimed(ctx, "candidate", budget.name)
    if claimed is None:
        return None
    stats_cfg = ctx.policy.policy.stats
    m = _measure(src, "candidate", budget.name, confidence,
                 min(stats_cfg.resamples, MAX_QUANTILE_RESAMPLES), stats_cfg.seed)
    if isinstance(m, str):
        return None
    return _disagreement(budget.name, claimed, m.value, m.ci, m.source)


def _by_run_metric(ctx: Evidence, budget: Budget, src: Source | None,
                   why: str | None = None) -> Check:
    """The budget names a metric of the run: its mean against the limit."""
    value, se = point_estimate(ctx.metric("candidate", budget.name).values)
    notes = [f"standard error {fmt(se)}"] if se is not None else []
    # Statistics with candidate examples unpaired: the mean of all of them is the worst the
    # unpaired ones allow on the side the budget limits (as floors and ceilings judge it).
    found = unpaired_mean_bounds(ctx.bundle.run.metrics[budget.name], value)
    if found is not None:
        low, high, unpaired, _ = found
        value = high if budget.max is not None and high > budget.max else (
            low if budget.min is not None and low < budget.min else value)
        notes.append(f"from sufficient statistics with {unpaired:,} candidate example(s) "
                     f"unpaired: the mean of all of them lies in [{fmt(low)}, {fmt(high)}]")
    if why is not None:
        notes.append(f"taken from the run's own metric {budget.name}: {why}")
    m = Measured(value, None, "mean of the metric", None, budget.name, notes=tuple(notes))
    return _absolute(budget, m, CONFIDENCE, src)


def _absolute_reserved(ctx: Evidence, src: _Sources, budget: Budget, confidence: float,
                       where: Source | None) -> Check:
    """An absolute limit on a reserved quantity: measured from per-request data when the run
    has any, the run's own metric only when it has none."""
    name = budget.name
    stats_cfg = ctx.policy.policy.stats
    resamples = min(stats_cfg.resamples, MAX_QUANTILE_RESAMPLES)
    measured = _measure(src, "candidate", name, confidence, resamples, stats_cfg.seed)
    has_metric = name in ctx.bundle.run.metrics
    if isinstance(measured, str):
        if has_metric:
            return _by_run_metric(ctx, budget, where, why=measured)
        return check(ids.budget(name), budget.on_exceed,
                     f"{name} cannot be computed: {measured}", source=where)
    claimed = _claimed(ctx, "candidate", name) if has_metric else None
    if claimed is not None:
        text = _disagreement(name, claimed, measured.value, measured.ci, measured.source)
        if text is not None:
            return _conflict_check(budget, claimed, measured, f"{name}: {text}",
                                   ids.budget(name), confidence, where)
        measured = Measured(measured.value, measured.ci, measured.method, measured.n,
                            measured.source, notes=(*measured.notes, (
                                f"the run also reports {name} = {fmt(claimed)} as a metric; "
                                f"{measured.source} does not contradict it (within 1% or "
                                "inside the measured interval), and the measurement decides")),
                            untrusted=measured.untrusted)
    return _absolute(budget, measured, confidence, where)


def run(ctx: Evidence) -> list[Check]:
    out: list[Check] = []
    src = _Sources(ctx)
    for i, budget in enumerate(ctx.policy.policy.budgets):
        where = source_of(ctx.policy.location("budgets", i))
        name = budget.name
        if name not in ctx.bundle.run.metrics and name not in RESERVED:
            raise UnsupportedRuleError(
                f"unknown budget {name!r}: name a metric of the run or one of "
                f"{', '.join(RESERVED)}", ctx.policy.location("budgets", i, "name"))
        if budget.max is not None or budget.min is not None:
            confidence = budget.vs_baseline.confidence if budget.vs_baseline else CONFIDENCE
            if name in RESERVED:
                out.append(_absolute_reserved(ctx, src, budget, confidence, where))
            else:
                out.append(_by_run_metric(ctx, budget, where))
        if budget.vs_baseline is not None:
            out.append(_vs_baseline(ctx, src, i, budget))
    return out
