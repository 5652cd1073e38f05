"""The leaderboard step's reading of the ledger and the registry: the window, the dedup of
re-runs, and the sweep size from the registry's versions sharing a parent run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.leaderboard.identity import EvalSet
from gatekeeper.leaderboard.step import _in_window, _usage, sweep_size
from gatekeeper.registry.file import FileRegistry
from gatekeeper.registry.interface import Approval, LedgerRecord
from tests.integration.conftest import write_bundle

E = EvalSet("e" * 64, ("d" * 64,), ("eval",))


def _rec(bundle: str, when: str, eval_set: str = "e" * 64, **extra: object) -> LedgerRecord:
    return LedgerRecord(**{"eval_set": eval_set, "data": ("d" * 64,), "role": "public",
                           "model": "m", "run_id": "r", "bundle_sha256": bundle,
                           "verdict": "pass", "recorded_at": when, **extra})  # type: ignore[arg-type]


def test_the_window_counts_from_the_as_of_day_back() -> None:
    as_of = date(2026, 11, 26)
    assert _in_window(_rec("a", "2026-11-26T23:59:59Z"), as_of, 1)
    assert not _in_window(_rec("a", "2026-11-25T23:59:59Z"), as_of, 1)
    assert _in_window(_rec("a", "2020-01-01T00:00:00Z"), as_of, None)
    assert _in_window(_rec("a", "garbled"), as_of, 1)  # never a way out of the budget


def test_usage_counts_distinct_other_bundles_on_the_same_set() -> None:
    records = [_rec("a", "2026-11-20T00:00:00Z"), _rec("a", "2026-11-21T00:00:00Z"),
               _rec("b", "2026-11-22T00:00:00Z"), _rec("self", "2026-11-23T00:00:00Z"),
               _rec("c", "2026-11-23T00:00:00Z", eval_set="f" * 64, data=("c" * 64,))]
    usage = _usage("public", E, records, "self", date(2026, 11, 26), None)
    assert usage is not None and usage.earlier == 2
    assert _usage("public", None, records, "self", date(2026, 11, 26), None) is None


def test_usage_counts_a_set_that_shares_a_file_with_a_spent_one() -> None:
    """A dummy file added beside the spent one makes a new set sha256, not a fresh count."""
    grown = EvalSet("f" * 64, ("c" * 64, "d" * 64), ("eval", "extra"))
    records = [_rec("a", "2026-11-20T00:00:00Z"),
               _rec("b", "2026-11-21T00:00:00Z", eval_set="0" * 64, data=("1" * 64,))]
    usage = _usage("public", grown, records, "self", date(2026, 11, 26), None)
    assert usage is not None and usage.earlier == 1


def test_the_sweep_size_counts_the_registrys_versions_of_the_same_parent(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "registry")
    for i in range(3):
        b = write_bundle(tmp_path / f"t{i}", f"trial-{i}", model="m", parent="sweep-9")
        registry.promote(b, model="m", alias=None, approval=Approval("al", "2026-11-20T00:00Z"),
                         verdict="pass", bundle_sha256=load_bundle(b).sha256(),
                         run_id=f"trial-{i}")
    other = write_bundle(tmp_path / "o", "other", model="m", parent="sweep-1")
    registry.promote(other, model="m", alias=None, approval=Approval("al", "2026-11-20T00:00Z"),
                     verdict="pass", bundle_sha256=load_bundle(other).sha256(), run_id="other")
    winner = load_bundle(write_bundle(tmp_path / "w", "winner", model="m", parent="sweep-9"))
    size = sweep_size(winner, [], registry, None)
    assert (size.k, size.claimed, size.recorded) == (4, 1, 4)
    ledger = [_rec("x", "2026-11-20T00:00:00Z", run_id=f"l{i}", parent_run_id="sweep-9")
              for i in range(6)]
    assert sweep_size(winner, ledger, registry, E).k == 10
    # Records on another eval set are another sweep's business.
    assert sweep_size(winner, ledger, registry, EvalSet("0" * 64, (), ())).k == 4
    lone = load_bundle(write_bundle(tmp_path / "lone", "lone", model="m"))
    assert sweep_size(lone, ledger, registry, E).k == 1
