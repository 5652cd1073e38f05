"""Hostile review of sufficient statistics (`paired_moments`, `paired_counts`): each test is one
attempt by a pull request's author to get a better verdict from statistics than the same rows
would get, or to crash the gate with odd numbers. The gate must answer as the rows would, or
refuse the statistics with exit 2 and one line naming the field — never a traceback.

The documented limitation (the gate cannot tell that the numbers come from the rows: a smaller
M2 narrows the interval) is not attempted here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.acceptance.test_sql_moments import N, Case, _comparison, _gamma_pair, _refused
from tests.conftest import Result


def _worse_case(tmp_path: Path) -> Case:
    # From rows: worse than the margin, so on_fail (block).
    cand, base = _gamma_pair(2.0, 0.02, 0.05, 3)
    return Case(tmp_path, cand, base)


def test_a_max_abs_score_past_float_squares_is_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # (2 * 1e200) ** 2 raised OverflowError inside the run.yaml validator: exit 3.
    case = _worse_case(tmp_path)
    _refused(case.check(cli, case.moments(cli, max_abs_score=1e200)), "max_abs_score")


def test_an_m2_whose_cube_root_underflows_is_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # (M2/n) ** 1.5 underflows to 0.0 for M2 = 1e-300: the skewness divided by zero (exit 3).
    case = _worse_case(tmp_path)
    _refused(case.check(cli, case.moments(cli, m2_difference=1e-300, m3_difference=1e-300)),
             "m3_difference gives skewness")


def test_an_m2_whose_cube_root_overflows_is_an_input_error_not_a_crash(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    # (M2/n) ** 1.5 raised OverflowError for M2 = 1e300 (allowed by max_abs_score = 1e160).
    case = _worse_case(tmp_path)
    res = case.check(cli, case.moments(cli, m2_difference=1e300, m3_difference=1.0,
                                       max_abs_score=1e160))
    _refused(res, "max_abs_score")
