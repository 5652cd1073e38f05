"""Series files: one value per step, steps that only increase, finite values — and the
reductions a policy gates on (final, best)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gatekeeper.errors import BundleError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import load_metric
from gatekeeper.inputs.series import best, final, reduce


def bundle_with(tmp: Path, csv_text: str, **spec: Any) -> Path:
    root = tmp / "bundle"
    (root / "curves").mkdir(parents=True)
    (root / "curves" / "loss.csv").write_text(csv_text)
    run = {"schema": "gatekeeper.run/v1", "run_id": "r", "model": "m",
           "metrics": {"loss": {"series": "curves/loss.csv", **spec}}}
    (root / "run.yaml").write_text(yaml.safe_dump(run))
    return root


def load(tmp: Path, csv_text: str, **spec: Any) -> Any:
    return load_metric(load_bundle(bundle_with(tmp, csv_text, **spec)), "loss")


def refusal(tmp: Path, csv_text: str, **spec: Any) -> str:
    with pytest.raises(BundleError) as info:
        load(tmp, csv_text, **spec)
    return str(info.value)


def test_a_series_loads_its_steps_and_values(tmp_path: Path) -> None:
    got = load(tmp_path, "step,value\n0,0.9\n10,0.5\n20,0.4\n")
    assert got.kind == "series"
    assert got.steps is not None and got.steps.tolist() == [0.0, 10.0, 20.0]
    assert got.values.tolist() == [0.9, 0.5, 0.4]
    assert got.file == f"{tmp_path / 'bundle'}/curves/loss.csv"


def test_an_importers_step_timestamp_value_file_loads(tmp_path: Path) -> None:
    got = load(tmp_path, "step,timestamp,value\n0,1700000000000,0.9\n1,1700000001000,0.5\n",
               id_column="step", score_column="value")
    assert got.steps.tolist() == [0.0, 1.0] and got.values.tolist() == [0.9, 0.5]


def test_an_empty_series_is_refused(tmp_path: Path) -> None:
    msg = refusal(tmp_path, "step,value\n")
    assert msg == (f"{tmp_path / 'bundle'}/curves/loss.csv:1, field 'value': the series has "
                   "no points (a header and no rows)")


def test_a_nan_at_the_end_is_refused_naming_the_line(tmp_path: Path) -> None:
    """A PR author who wants a pass: a NaN final value compares false with every bound."""
    msg = refusal(tmp_path, "step,value\n0,0.9\n1,0.5\n2,nan\n")
    assert msg.endswith("curves/loss.csv:4, field 'value': value 'nan' is not a finite number")


@pytest.mark.parametrize("text", ["inf", "-inf", "1e400"])
def test_an_infinite_value_is_refused(tmp_path: Path, text: str) -> None:
    msg = refusal(tmp_path, f"step,value\n0,0.9\n1,{text}\n")
    assert msg.endswith(f"curves/loss.csv:3, field 'value': value {text!r} is not a finite "
                        "number")


def test_a_huge_value_is_refused(tmp_path: Path) -> None:
    msg = refusal(tmp_path, "step,value\n0,0.9\n1,1e60\n")
    assert "loss.csv:3, field 'value': value 1e+60 is beyond ±1e+50" in msg


def test_a_non_finite_step_is_refused(tmp_path: Path) -> None:
    msg = refusal(tmp_path, "step,value\n0,0.9\nnan,0.5\n")
    assert msg.endswith("loss.csv:3, field 'step': step 'nan' is not a finite number")


def test_a_cherry_picked_last_row_is_refused(tmp_path: Path) -> None:
    """Steps out of order so the last row (the good one) is not the last step."""
    msg = refusal(tmp_path, "step,value\n0,0.9\n20,0.8\n10,0.3\n")
    assert msg.endswith("loss.csv:4, field 'step': step 10 comes after step 20 (line 3): steps "
                        "must increase row by row, so the final value is the last row's")


def test_a_duplicate_step_is_refused(tmp_path: Path) -> None:
    """Two values for the last step: the reader would have to pick one."""
    msg = refusal(tmp_path, "step,value\n0,0.9\n10,0.8\n10,0.3\n")
    assert msg.endswith("loss.csv:4, field 'step': duplicate step 10 (first on line 3): a "
                        "series has one value per step")


def test_a_header_naming_the_value_column_twice_is_refused(tmp_path: Path) -> None:
    """Which column is the curve? A reader taking the first and a reviewer the second disagree."""
    msg = refusal(tmp_path, "step,value,value\n0,0.9,0.1\n")
    assert msg.endswith("loss.csv:1, field 'value': the header names the column 'value' "
                        "twice: which one is the series?")


@pytest.mark.parametrize(("text", "why"), [
    ("epoch,value\n0,1\n", "a series file has a header with 'step' and 'value'"),
    ("step,value\n0,1,2\n", "row has 3 fields, the header has 2"),
    ("step,value\n0,abc\n", "value 'abc' is not a number"),
])
def test_malformed_rows_are_refused(tmp_path: Path, text: str, why: str) -> None:
    assert why in refusal(tmp_path, text)


def test_final_is_the_last_step_and_best_follows_the_direction() -> None:
    steps = np.asarray([0.0, 10.0, 20.0, 30.0])
    values = np.asarray([0.9, 0.3, 0.3, 0.5])
    assert final(steps, values).step == 30.0 and final(steps, values).value == 0.5
    low = best(steps, values, higher_is_better=False)
    assert (low.step, low.value) == (10.0, 0.3)  # the earliest step of a tie
    high = best(steps, values, higher_is_better=True)
    assert (high.step, high.value) == (0.0, 0.9)
    assert reduce(steps, values, "best", False) == low
    assert reduce(steps, values, "final", False) == final(steps, values)


def test_a_value_outside_the_declared_range_is_refused(tmp_path: Path) -> None:
    msg = refusal(tmp_path, "step,value\n0,0.5\n1,1.5\n", range=[0, 1])
    assert msg.endswith("loss.csv: score 1.5 (row 2 of the scores) lies outside the metric's "
                        "range [0, 1]")
