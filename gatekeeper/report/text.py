"""Plain text for terminals: the verdict first, then failing checks, then the rest."""

from __future__ import annotations

from gatekeeper.models.verdict import Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.safe_text import one_line

MARK = {"pass": "PASS ", "warn": "WARN ", "block": "BLOCK"}


def render(verdict: Verdict, context: ReportContext) -> str:
    lines = [
        f"gatekeeper: {verdict.verdict.upper()} (exit {verdict.exit_code}) — policy "
        f"{verdict.policy.name}@{verdict.policy.version}, run {verdict.candidate.run_id} "
        f"({verdict.candidate.model})",
    ]
    if verdict.baseline is not None:
        b = verdict.baseline
        lines.append(f"baseline: {b.model} v{b.version}"
                     + (f" ({b.alias})" if b.alias else "") + f" from {b.registry}")
    if verdict.rollback_target is not None:
        rt = verdict.rollback_target
        lines.append(f"rollback target: {rt.model} v{rt.version}" if rt.version
                     else f"rollback target: none ({rt.reason})")
    c = verdict.counts
    waived = f", {c.waived} waived" if c.waived else ""
    lines.append(f"checks: {c.passed} pass, {c.warn} warn, {c.block} block{waived}")
    order = {"block": 0, "warn": 1, "pass": 2}
    for chk in sorted(verdict.checks, key=lambda x: order[x.status]):
        lines.append(f"  {MARK[chk.status]} {chk.id}: {chk.message}")
        for note in chk.notes:
            lines.append(f"         note: {note}")
    # Every line is built without line breaks, so escaping each keeps the report line-aligned.
    return "\n".join(one_line(line) for line in lines) + "\n"
