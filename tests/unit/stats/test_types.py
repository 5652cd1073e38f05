"""``Comparison.degenerate_result``: one way to build a comparison that gives no verdict.

The call-site cases pin every field of what each method returns on degenerate input, written
out the long way (a plain ``Comparison(...)``), and compare reprs so that -0.0 against 0.0,
inf and the float/numpy type of each number count as differences too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from gatekeeper.stats.binary import compare_paired_binary
from gatekeeper.stats.bootstrap import compare_paired_bootstrap
from gatekeeper.stats.continuous import compare_paired_mean, compare_replicates
from gatekeeper.stats.proportion import compare_proportion_to_limit
from gatekeeper.stats.quantile import compare_quantile, harrell_davis
from gatekeeper.stats.ratio import compare_ratio
from gatekeeper.stats.select import MetricData, compare
from gatekeeper.stats.types import Comparison, Hypothesis

H = Hypothesis(confidence=0.9, margin=0.01, higher_is_better=False)
A = np.array


def test_defaults_to_the_difference_and_a_zero_width_interval() -> None:
    got = Comparison.degenerate_result(
        "m", "why", candidate=0.75, baseline=0.25, n=(4, 4), confidence=0.9, notes=("x",)
    )
    assert got == Comparison(
        method="m", reason="why", candidate=0.75, baseline=0.25, delta=0.5, ci=(0.5, 0.5),
        confidence=0.9, n=(4, 4), notes=("x",), degenerate=True,
    )
    assert got.mde is None and got.se is None and got.p_value is None
    assert got.scale == "difference" and got.unmatched is None


def test_explicit_delta_and_interval_win() -> None:
    got = Comparison.degenerate_result(
        "m", "why", candidate=math.inf, baseline=2.0, delta=0.0, ci=(-1.0, 1.0), n=(2, 2),
        confidence=0.95, notes=(), p_value=1.0, se=0.0, scale="log_ratio",
        unmatched=(1, 0), unmatched_examples=(("a",), ()),
    )
    assert (got.delta, got.ci, got.p_value, got.se, got.scale) == (0.0, (-1.0, 1.0), 1.0, 0.0,
                                                                     "log_ratio")
    assert (got.unmatched, got.unmatched_examples) == ((1, 0), (("a",), ()))
    assert got.degenerate


def test_zero_width_interval_follows_an_explicit_delta() -> None:
    got = Comparison.degenerate_result(
        "m", "why", candidate=3.0, baseline=2.0, delta=0.25, n=(1, 1), confidence=0.95, notes=()
    )
    assert got.ci == (0.25, 0.25)


def test_negative_zero_delta_is_kept() -> None:
    got = Comparison.degenerate_result(
        "m", "why", candidate=0.0, baseline=0.0, delta=-0.0, ci=(-0.0, 1.0), n=(0, 0),
        confidence=0.95, notes=(),
    )
    assert math.copysign(1.0, got.delta) == -1.0
    assert repr(got.ci) == "(-0.0, 1.0)"


def _plain(**fields: object) -> Comparison:
    base: dict[str, object] = {"confidence": H.confidence, "degenerate": True}
    return Comparison(**{**base, **fields})  # type: ignore[arg-type]


_TANGO = ("binary scores paired by id: Tango score interval; Wald is too liberal with few "
          "discordant pairs")
_WILSON = ("a proportion against a fixed limit: Wilson score interval, which keeps its coverage "
           "near 0 and 1 where Wald collapses")
_PAIRED_T = "Per-example scores paired by id: t interval on the mean difference, n-1 df."
_RATIO = "ratio of means compared on the log scale"
_HD = math.log(harrell_davis(A([4.0] * 30), 0.5)) - math.log(harrell_davis(A([8.0] * 30), 0.5))

CASES: dict[str, tuple[Callable[[], Comparison], Comparison]] = {
    "binary, no pairs": (
        lambda: compare_paired_binary(A([]), A([]), H),
        _plain(method="tango", reason=_TANGO, candidate=0.0, baseline=0.0, delta=0.0,
               ci=(-1.0, 1.0), n=(0, 0), p_value=1.0,
               notes=("no paired examples: nothing to compare",)),
    ),
    "bootstrap, no spread": (
        lambda: compare_paired_bootstrap(A([1.0, 1, 1]), A([0.0, 0, 0]), H, statistic="mean",
                                         resamples=200),
        _plain(method="paired-bootstrap-mean",
               reason="difference of means, resampled: paired bootstrap over examples (200 "
               "resamples, percentile interval; Berg-Kirkpatrick et al. 2012).",
               candidate=1.0, baseline=0.0, delta=1.0, ci=(1.0, 1.0), n=(3, 3), se=0.0,
               notes=("every resample gives the same Δ over 3 examples: no variance "
                      "information",)),
    ),
    "paired mean, one example": (
        lambda: compare_paired_mean(A([0.75]), A([0.25]), H),
        _plain(method="paired-t", reason=_PAIRED_T, candidate=0.75, baseline=0.25, delta=0.5,
               ci=(0.5, 0.5), n=(1, 1), se=0.0,
               notes=("only 1 paired example(s): no variance information",)),
    ),
    "replicates, no variance": (
        lambda: compare_replicates(A([0.5, 0.5]), A([0.25, 0.25]), H, [1, 2], [3, 4]),
        _plain(method="welch-t",
               reason="Seeds not matched across models: Welch t with Welch-Satterthwaite df.",
               candidate=0.5, baseline=0.25, delta=0.25, ci=(0.25, 0.25), n=(2, 2), se=0.0,
               notes=("seed sets differ between candidate and baseline: unpaired Welch t",
                      "no variance information")),
    ),
    "single values": (
        lambda: compare(MetricData("value", A([0.5])), MetricData("value", A([0.125])), H),
        _plain(method="none",
               reason="Each run reports a single value, so no interval can be formed.",
               candidate=0.5, baseline=0.125, delta=0.375, ci=(0.375, 0.375), n=(1, 1),
               notes=("single values carry no uncertainty",)),
    ),
    "no shared ids": (
        lambda: compare(MetricData("per_example", A([0.5, 1.0]), ids=A(["a", "b"])),
                        MetricData("per_example", A([0.25]), ids=A(["c"])), H),
        _plain(method="none", reason="The two runs share no example ids.", candidate=0.75,
               baseline=0.25, delta=0.0, ci=(0.0, 0.0), n=(0, 0),
               notes=("2 example id(s) only in the candidate, left out of the comparison "
                      "(e.g. a, b)",
                      "1 example id(s) only in the baseline, left out of the comparison "
                      "(e.g. c)",
                      "no example ids in common: nothing to compare"),
               unmatched=(2, 1), unmatched_examples=(("a", "b"), ("c",))),
    ),
    "requested bootstrap, no spread": (
        lambda: compare(MetricData("per_example", A([0.75, 0.5, 1.0]), ids=A(["a", "b", "c"])),
                        MetricData("per_example", A([0.25, 0.0, 0.5]), ids=A(["a", "b", "c"])),
                        H, method="bootstrap", resamples=200),
        _plain(method="bootstrap",
               reason="Percentile bootstrap of the mean difference over examples (requested).",
               candidate=0.75, baseline=0.25, delta=0.5, ci=(0.5, 0.5), n=(3, 3), se=0.0,
               notes=("bootstrap distribution has no spread: no variance information",),
               unmatched=(0, 0)),
    ),
    "proportion, no observations, zero limit": (
        lambda: compare_proportion_to_limit(0, 0, 0.0, H.confidence),
        _plain(method="wilson", reason=_WILSON, candidate=0.0, baseline=0.0, delta=-0.0,
               ci=(-0.0, 1.0), n=(0, 0), p_value=1.0,
               notes=("no observations: the proportion is unknown",)),
    ),
    "proportion, no observations": (
        lambda: compare_proportion_to_limit(0, 0, 0.25, H.confidence),
        _plain(method="wilson", reason=_WILSON, candidate=0.0, baseline=0.25, delta=-0.25,
               ci=(-0.25, 0.75), n=(0, 0), p_value=1.0,
               notes=("no observations: the proportion is unknown",)),
    ),
    "ratio, no variation": (
        lambda: compare_ratio(A([2.0, 2, 2]), A([1.0, 1, 1]), A([4.0, 4]), A([1.0, 1]), H),
        _plain(method="delta-method-log-ratio", reason=_RATIO, candidate=2.0, baseline=4.0,
               delta=math.log(2.0) - math.log(4.0),
               ci=(math.log(2.0) - math.log(4.0), math.log(2.0) - math.log(4.0)), n=(3, 2),
               se=0.0, scale="log_ratio",
               notes=("the per-request contributions do not vary: no variance information",)),
    ),
    "ratio, undefined": (
        lambda: compare_ratio(A([1.0, 1]), A([0.0, 0]), A([0.0, 0]), A([0.0, 0]), H),
        _plain(method="delta-method-log-ratio", reason=_RATIO, candidate=math.inf,
               baseline=math.inf, delta=0.0, ci=(0.0, 0.0), n=(2, 2), se=0.0, scale="log_ratio",
               notes=("a ratio is zero or undefined (no cost or no successes): the log ratio "
                      "cannot be compared",)),
    ),
    "quantile, no spread": (
        lambda: compare_quantile(A([4.0] * 30), A([8.0] * 30), 0.5, H, resamples=100),
        _plain(method="harrell-davis-bootstrap",
               reason="latency p50: Harrell-Davis estimates, percentile bootstrap of "
               "log(q_c/q_b) (100 resamples, samples resampled independently; Wilcox qcomhd).",
               candidate=harrell_davis(A([4.0] * 30), 0.5),
               baseline=harrell_davis(A([8.0] * 30), 0.5), delta=_HD, ci=(_HD, _HD),
               n=(30, 30), se=0.0, scale="log_ratio",
               notes=("tail quantile p50 needs n(1−q) >= 20 (have 15)",
                      "every resample gives the same quantile ratio: no variance information")),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_method_builds_the_same_degenerate_comparison(case: str) -> None:
    run, expected = CASES[case]
    got = run()
    assert repr(got) == repr(expected)
