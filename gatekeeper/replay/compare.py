"""The replay's verdict: repeatable (same envelope, same numbers), reproducible within
tolerance, or not reproducible, with the reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gatekeeper.inputs.bundle import Bundle
from gatekeeper.models.run import ReplayResult
from gatekeeper.replay.envelope import FieldDifference, compare_envelopes, nondeterministic_kernels
from gatekeeper.replay.metrics import MetricMove, compare_metric

EXIT_CODES: dict[str, int] = {"repeatable": 0, "reproducible within tolerance": 0,
                              "not reproducible": 1}


@dataclass(frozen=True)
class ReplayReport:
    result: ReplayResult
    moves: list[MetricMove]  # every metric that moved (within tolerance or not)
    differences: list[FieldDifference]
    reasons: list[str]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.result]

    def render(self) -> str:
        lines = [f"replay: {self.result}", *(f"  {r}" for r in self.reasons)]
        return "\n".join(lines) + "\n"


def failed_replay(reason: str) -> ReplayReport:
    return ReplayReport("not reproducible", [], [], [reason])


def _result(moved: list[MetricMove], differences: list[FieldDifference],
            extra: list[str]) -> ReplayResult:
    if any(not m.within for m in moved):
        return "not reproducible"
    if moved or differences or extra:
        return "reproducible within tolerance"
    return "repeatable"


def _reasons(original: Bundle, moved: list[MetricMove], differences: list[FieldDifference],
             extra: list[str]) -> list[str]:
    beyond = any(not m.within for m in moved)
    reasons = [m.describe() + ("" if m.within else " — beyond tolerance") for m in moved]
    reasons += [f"metric {name}: only in the replay" for name in extra]
    reasons += [f"{d.field}: {d.original} -> {d.replay} ({d.reason})" for d in differences]
    if beyond and nondeterministic_kernels(original.run):
        reasons.append("the run allowed nondeterministic kernels (torch deterministic "
                       "algorithms off or cuDNN benchmark on)")
    if beyond and not differences:
        reasons.append("the envelope is the same: the script itself is not deterministic "
                       "(an unseeded random source, or a seed not taken from run.seeds)")
    return reasons


def compare(original: Bundle, replay: Bundle,
            tolerance: Callable[[str], float]) -> ReplayReport:
    moves = [compare_metric(original, replay, name, tolerance(name))
             for name in sorted(original.run.metrics)]
    moved = [m for m in moves if m.changed]
    differences = compare_envelopes(original.run, replay.run)
    extra = sorted(set(replay.run.metrics) - set(original.run.metrics))
    return ReplayReport(_result(moved, differences, extra), moved, differences,
                        _reasons(original, moved, differences, extra))
