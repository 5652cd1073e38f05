"""Score files: CSV, JSONL, .npz and .npy pairs load to arrays and pair by id."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gatekeeper.errors import BundleError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.inputs.scores import comparable_ids, load_metric
from tests.conftest import AS_OF, EXAMPLES, Result


def _bundle_with(tmp_path: Path, name: str, per_example: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(EXAMPLES / "bundles" / "pass", dest)
    run = dest / "run.yaml"
    run.write_text(run.read_text().replace("per_example: scores/exact_match.csv",
                                           f"per_example: {per_example}"))
    return dest


def _csv_arrays(bundle: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = (bundle / "scores" / "exact_match.csv").read_text().splitlines()[1:]
    ids = np.array([int(r.split(",")[0][3:]) for r in rows])
    scores = np.array([float(r.split(",")[1]) for r in rows])
    return ids, scores


def test_npy_pair_and_npz_load_like_csv(tmp_path: Path) -> None:
    csv_bundle = load_bundle(EXAMPLES / "bundles" / "pass")
    ref = load_metric(csv_bundle, "exact_match")
    b = _bundle_with(tmp_path, "npy", "scores/em.scores.npy")
    ids, scores = _csv_arrays(b)
    np.save(b / "scores" / "em.ids.npy", ids)
    np.save(b / "scores" / "em.scores.npy", scores)
    got = load_metric(load_bundle(b), "exact_match")
    assert got.ids is not None and got.ids.dtype.kind == "i"  # integers stay integers
    np.testing.assert_array_equal(got.values, ref.values)
    z = _bundle_with(tmp_path, "npz", "scores/em.npz")
    np.savez(z / "scores" / "em.npz", ids=ids, scores=scores)
    np.testing.assert_array_equal(load_metric(load_bundle(z), "exact_match").values, ref.values)


def test_npy_pair_without_ids_file_names_it(tmp_path: Path) -> None:
    b = _bundle_with(tmp_path, "npy", "scores/em.scores.npy")
    np.save(b / "scores" / "em.scores.npy", np.ones(3))
    with pytest.raises(BundleError, match=r"em\.ids\.npy not found"):
        load_metric(load_bundle(b), "exact_match")


def test_npy_refuses_pickles_and_duplicates(tmp_path: Path) -> None:
    b = _bundle_with(tmp_path, "npy", "scores/em.scores.npy")
    np.save(b / "scores" / "em.ids.npy", np.array([1, 2, 2]))
    np.save(b / "scores" / "em.scores.npy", np.ones(3))
    with pytest.raises(BundleError, match="duplicate example id 2"):
        load_metric(load_bundle(b), "exact_match")
    np.save(b / "scores" / "em.ids.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BundleError, match=r"unreadable \.npy"):
        load_metric(load_bundle(b), "exact_match")


def test_integer_and_string_ids_pair_as_strings() -> None:
    a, b = comparable_ids(np.array([1, 2]), np.array(["1", "2"]))
    assert a is not None and b is not None and a.dtype.kind == b.dtype.kind == "U"
    a, b = comparable_ids(np.array([1, 2]), np.array([2, 1]))
    assert a is not None and a.dtype.kind == "i"


def test_check_on_npy_candidate_pairs_with_csv_baseline(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    import json

    b = _bundle_with(tmp_path, "npy", "scores/em.scores.npy")
    rows = (b / "scores" / "exact_match.csv").read_text().splitlines()[1:]
    np.save(b / "scores" / "em.ids.npy", np.array([r.split(",")[0] for r in rows]))
    np.save(b / "scores" / "em.scores.npy", np.array([float(r.split(",")[1]) for r in rows]))
    a = json.loads(cli("check", "examples/bundles/pass", "--policy", "policies/default.yaml",
                       "--format", "json", "--as-of", AS_OF).out)
    c = json.loads(cli("check", str(b), "--policy", "policies/default.yaml", "--format", "json",
                       "--as-of", AS_OF).out)
    pick = next(x for x in c["checks"] if x["id"] == "metric:exact_match:vs_baseline")
    ref = next(x for x in a["checks"] if x["id"] == "metric:exact_match:vs_baseline")
    assert pick["ci"] == ref["ci"] and pick["n"] == ref["n"]
