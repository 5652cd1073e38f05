"""`gatekeeper compare A B`: the comparison engine on two bundles, no registry, no policy.

A local "did my change help?": every metric the two bundles share is compared with the method
its data calls for (B is the baseline, A the candidate), two-sided, at ``--confidence``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from gatekeeper.errors import InputError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.stats.decision import decide
from gatekeeper.stats.types import Hypothesis, Outcome

LATENCY_QUANTILE = 0.5


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compare", help="compare two bundles metric by metric (no registry)",
                       description="Compare candidate bundle A with baseline bundle B on every "
                                   "metric they share, with confidence intervals.")
    p.add_argument("candidate", type=Path, help="bundle A (the change)")
    p.add_argument("baseline", type=Path, help="bundle B (what it is compared with)")
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--lower-is-better", action="append", default=[], metavar="METRIC",
                   help="metric where lower is better (repeatable); latency samples always are")
    p.add_argument("--seed", type=int, default=0, help="seed for resampling methods")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.set_defaults(run=run)


def _row(name: str, a: Any, b: Any, confidence: float, lower: bool, seed: int) -> dict[str, Any]:
    # lazy: scipy and numpy (the stats methods, checks.vs_baseline) stay off `gatekeeper --help`
    # and `--version`, which import every command module to list it
    from gatekeeper.checks.vs_baseline import metric_data_pair
    from gatekeeper.stats import quantile, select

    hyp = Hypothesis(confidence=confidence, margin=0.0, gain=0.0, require_improvement=True,
                     higher_is_better=not lower)
    try:
        if a.kind == "samples":
            hyp = Hypothesis(confidence=confidence, require_improvement=True,
                             higher_is_better=False)
            comp = quantile.compare_quantile(a.values, b.values, LATENCY_QUANTILE, hyp,
                                             resamples=2000, seed=seed)
        else:
            data_a, data_b = metric_data_pair(a, b)
            comp = select.compare(
                data_a, data_b,
                hyp, seed=seed)
    except ValueError as exc:
        return {"metric": name, "error": str(exc)}
    if a.kind == "per_example" and comp.n[0] == 0:
        return {"metric": name, "error": "no example ids in common: the two bundles were scored "
                                         "on different eval sets"}
    outcome = decide(comp, hyp)
    if outcome == Outcome.NO_INFORMATION:
        verdict = "no information"
    elif outcome == Outcome.IMPROVED:
        verdict = "better"
    elif outcome == Outcome.WORSE or (comp.ci[1] < 0 if not lower else comp.ci[0] > 0):
        verdict = "worse"
    else:
        verdict = "no significant change"
    method = comp.method + (f" p{round(LATENCY_QUANTILE * 100)}" if a.kind == "samples" else "")
    return {"metric": name, "kind": a.kind, "candidate": comp.candidate,
            "baseline": comp.baseline, "delta": comp.delta, "ci": list(comp.ci),
            "scale": comp.scale, "method": method, "n": list(comp.n),
            "p_value": comp.p_value, "mde": comp.mde, "result": verdict,
            "notes": list(comp.notes)}


def run(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise InputError(f"--seed must be a whole number >= 0, got {args.seed}")
    if not 0.5 < args.confidence < 1:
        raise InputError(f"--confidence must be between 0.5 and 1, got {args.confidence}")
    a = load_bundle(args.candidate)
    b = load_bundle(args.baseline)
    shared = sorted(set(a.run.metrics) & set(b.run.metrics))
    if not shared:
        raise InputError(f"the bundles share no metric ({args.candidate}: "
                         f"{', '.join(sorted(a.run.metrics)) or 'none'}; {args.baseline}: "
                         f"{', '.join(sorted(b.run.metrics)) or 'none'})")
    # lazy: numpy (inputs.scores, and checks.judge through checks.evidence) stays off
    # `gatekeeper --help` and `--version`, which import every command module to list it
    from gatekeeper.checks.judge import describe, identity, judge_of
    from gatekeeper.inputs.scores import load_metric

    rows = []
    for name in shared:
        ja, jb = judge_of(a.run, name), judge_of(b.run, name)
        if identity(ja) != identity(jb):
            # Scores from different judges are different measurements: no Δ to report.
            rows.append({"metric": name, "error": f"not comparable: the judge changed from "
                                                   f"{describe(jb)} to {describe(ja)}"})
            continue
        ma, mb = load_metric(a, name), load_metric(b, name)
        if ma.kind != mb.kind or ma.kind == "series":
            rows.append({"metric": name, "error": f"given as {ma.kind} vs {mb.kind}; not "
                                                   "comparable"})
            continue
        rows.append(_row(name, ma, mb, args.confidence, name in args.lower_is_better,
                         args.seed))
    if args.format == "json":
        sys.stdout.write(json.dumps({"candidate": a.run.run_id, "baseline": b.run.run_id,
                                     "confidence": args.confidence, "metrics": rows},
                                    sort_keys=True, indent=2) + "\n")
    else:
        sys.stdout.write(_table(rows, args, a.run.run_id, b.run.run_id))
    return 0


def _table(rows: list[dict[str, Any]], args: argparse.Namespace, a: str, b: str) -> str:
    md = args.format == "markdown"
    level = f"{args.confidence:.0%}"
    head = ["metric", "baseline", "candidate", "Δ", f"{level} CI", "method", "n", "MDE", "result"]
    body = [_cells(r) for r in rows]
    lines = [f"{a} vs {b}", ""]
    lines += _markdown_table(head, body) if md else _text_table(head, body)
    for r in rows:
        if r.get("result") == "no information" and r.get("notes"):
            lines.append(f"{'- ' if md else ''}{r['metric']}: no information — {r['notes'][0]}")
    return "\n".join(lines) + "\n"


def _cells(r: dict[str, Any]) -> list[str]:
    if "error" in r:
        return [r["metric"], "", "", "", "", "", "", "", r["error"]]
    log = r["scale"] == "log_ratio"
    delta = (f"×{math.exp(r['delta']):.3f}" if log else f"{r['delta']:+.4f}")
    ci = (f"[×{math.exp(r['ci'][0]):.3f}, ×{math.exp(r['ci'][1]):.3f}]" if log
          else f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]")
    if r["result"] == "no information":
        ci = "—"  # no usable interval: the reason is printed under the table
    mde = "" if r["mde"] is None else (f"×{math.exp(r['mde']):.3f}" if log
                                       else f"{r['mde']:.4f}")
    return [r["metric"], f"{r['baseline']:.4g}", f"{r['candidate']:.4g}", delta, ci,
            r["method"], f"{r['n'][0]:,}/{r['n'][1]:,}", mde, r["result"]]


def _markdown_table(head: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                    for row in body]


def _text_table(head: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    return lines + ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                    for row in body]
