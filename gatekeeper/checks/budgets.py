"""Scalar budgets: cost, tokens, error rate, and any metric of the run by name.

A budget whose quantity the run cannot provide is not a pass: it takes ``on_exceed`` and says
what is missing.
"""

from __future__ import annotations

from gatekeeper.checks.base import check, clean, fmt, source_of
from gatekeeper.checks.context import Context
from gatekeeper.checks.thresholds import point_estimate
from gatekeeper.errors import UnsupportedRuleError
from gatekeeper.models.run import Run
from gatekeeper.models.verdict import Check

DERIVED = ("cost_usd", "cost_per_request_usd", "cost_per_success_usd", "tokens_per_request",
           "input_tokens", "output_tokens", "requests", "error_rate")
TRACE_BUDGETS = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")


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


def run(ctx: Context) -> list[Check]:
    out: list[Check] = []
    run_ = ctx.bundle.run
    for i, budget in enumerate(ctx.policy.policy.budgets):
        src = source_of(ctx.policy.location("budgets", i))
        if budget.vs_baseline is not None:
            raise UnsupportedRuleError(
                f"budget {budget.name!r}: vs_baseline budgets are not supported yet",
                ctx.policy.location("budgets", i, "vs_baseline"),
            )
        if budget.name in run_.metrics:
            value, se = point_estimate(ctx.metric("candidate", budget.name).values)
            missing: str | None = None
        elif budget.name in DERIVED:
            value, missing = derived_value(run_, budget.name)
            se = None
        elif budget.name in TRACE_BUDGETS:
            raise UnsupportedRuleError(
                f"budget {budget.name!r} from request traces is not supported yet; give it as "
                "a metric of the run", ctx.policy.location("budgets", i, "name"))
        else:
            raise UnsupportedRuleError(
                f"unknown budget {budget.name!r}: name a metric of the run or one of "
                f"{', '.join(DERIVED + TRACE_BUDGETS)}", ctx.policy.location("budgets", i, "name"))
        cid = f"budget:{budget.name}"
        if value is None:
            out.append(check(cid, budget.on_exceed,
                             f"{budget.name} cannot be computed: {missing}", source=src))
            continue
        problems = []
        if budget.max is not None and value > budget.max:
            problems.append(f"over the budget of {fmt(budget.max)}")
        if budget.min is not None and value < budget.min:
            problems.append(f"under the minimum of {fmt(budget.min)}")
        limit = budget.max if budget.max is not None else budget.min
        if problems:
            out.append(check(cid, budget.on_exceed,
                             f"{budget.name} = {fmt(value)} is {' and '.join(problems)}",
                             observed=clean(value), threshold=limit, source=src))
        else:
            bounds = []
            if budget.max is not None:
                bounds.append(f"<= {fmt(budget.max)}")
            if budget.min is not None:
                bounds.append(f">= {fmt(budget.min)}")
            se_txt = f" ± {fmt(se)} SE" if se is not None else ""
            out.append(check(cid, "pass",
                             f"{budget.name} = {fmt(value)}{se_txt} within {' and '.join(bounds)}",
                             observed=clean(value), threshold=limit, source=src))
    return out
