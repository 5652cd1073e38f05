"""Value types shared by every statistical method. Pure data: no I/O, no numpy state."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Outcome(str, Enum):
    """What an interval says about oriented Δ (higher is better), per STATISTICS.md §1."""

    IMPROVED = "improved"  # L > g
    NON_INFERIOR = "non_inferior"  # L > -m, no improvement required
    NOT_IMPROVED = "not_improved"  # -m < L <= g, improvement required
    WORSE = "worse"  # U < -m
    INCONCLUSIVE = "inconclusive"  # L <= -m <= U
    NO_INFORMATION = "no_information"  # degenerate input (zero variance, no pairs): never a pass


@dataclass(frozen=True)
class Hypothesis:
    """The question a comparison answers, on the oriented scale.

    ``margin`` (m >= 0) is the non-inferiority margin, ``gain`` (g >= 0) the required
    improvement; both are absolute, in the metric's own units (for log-ratio methods, in log
    units). ``confidence`` is the two-sided level of the reported interval, so the one-sided
    test has alpha = (1 - confidence) / 2.
    """

    confidence: float = 0.95
    margin: float = 0.0
    gain: float = 0.0
    require_improvement: bool = False
    higher_is_better: bool = True

    @property
    def alpha_one_sided(self) -> float:
        return (1.0 - self.confidence) / 2.0

    @property
    def threshold(self) -> float:
        """Oriented Δ under H0: the test rejects 'Δ <= threshold'."""
        return self.gain if self.require_improvement else -self.margin


@dataclass(frozen=True)
class Comparison:
    """One candidate-vs-baseline comparison on the *natural* scale (candidate - baseline).

    ``ci`` is the two-sided interval of Δ at ``confidence``; ``p_value`` is one-sided for the
    hypothesis's oriented H0 (Δ <= threshold); ``mde`` is the oriented effect detectable with
    80% power at this sample size (same units as Δ). ``None`` where a method cannot say.
    """

    method: str
    reason: str
    candidate: float
    baseline: float
    delta: float
    ci: tuple[float, float]
    confidence: float
    n: tuple[int, int]
    p_value: float | None = None
    mde: float | None = None
    se: float | None = None
    scale: str = "difference"  # or "log_ratio" for latency/cost quantiles
    notes: tuple[str, ...] = field(default_factory=tuple)
    # True: no trustworthy verdict (no variance information, differences too skewed for n, or
    # costs too heavy-tailed): the interval is shown, the decision must not pass.
    degenerate: bool = False
    # Per-example comparisons only: how many ids of (candidate, baseline) found no partner on
    # the other side and were left out. None where no pairing by id took place.
    unmatched: tuple[int, int] | None = None
    # A few of those ids from each side, (candidate, baseline), for the report.
    unmatched_examples: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    @classmethod
    def degenerate_result(
        cls,
        method: str,
        reason: str,
        *,
        candidate: float,
        baseline: float,
        n: tuple[int, int],
        confidence: float,
        notes: tuple[str, ...],
        delta: float | None = None,
        ci: tuple[float, float] | None = None,
        p_value: float | None = None,
        se: float | None = None,
        scale: str = "difference",
        unmatched: tuple[int, int] | None = None,
        unmatched_examples: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    ) -> Comparison:
        """A comparison that gives no trustworthy verdict (``degenerate=True``, no ``mde``).

        ``delta`` defaults to ``candidate - baseline`` and ``ci`` to the zero-width interval
        ``(delta, delta)``: with no variance information there is no spread to show. Pass
        ``delta`` where Δ is not that difference (log ratios, a mean of paired differences,
        or 0 where a side is undefined) and ``ci`` where the method still has a range to report.
        """
        d = candidate - baseline if delta is None else delta
        return cls(
            method=method,
            reason=reason,
            candidate=candidate,
            baseline=baseline,
            delta=d,
            ci=(d, d) if ci is None else ci,
            confidence=confidence,
            n=n,
            p_value=p_value,
            mde=None,
            se=se,
            scale=scale,
            notes=notes,
            degenerate=True,
            unmatched=unmatched,
            unmatched_examples=unmatched_examples,
        )
