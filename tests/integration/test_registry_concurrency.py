"""Racing promotions into one file registry: none lost, none written twice; and a writer that
never gets the lock gives up with ConcurrencyError."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.errors import ConcurrencyError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.registry.file import LOCK_NAME, FileRegistry
from gatekeeper.registry.interface import Approval

WRITERS = 8


def _promote(root: str, bundle: str, start: Any) -> str:  # start: a Manager Event proxy
    loaded = load_bundle(Path(bundle))
    registry = FileRegistry(Path(root))
    start.wait(timeout=60)  # everyone leaves the gate together
    version = registry.promote(
        Path(bundle), model="race", alias="production",
        approval=Approval(approved_by=f"pid-{os.getpid()}", approved_at="2026-11-20T10:00:00Z"),
        verdict="pass", bundle_sha256=loaded.sha256(), run_id=loaded.run.run_id,
    )
    return version.version


def test_eight_processes_promote_at_once(
    tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    root = tmp_path / "registry"
    bundles = [bundle_writer(tmp_path / f"b{i}", f"run-{i}", model="race")
               for i in range(WRITERS)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(WRITERS) as pool:
            pending = [pool.apply_async(_promote, (str(root), str(b), start)) for b in bundles]
            start.set()
            numbers = [p.get(timeout=120) for p in pending]

    assert sorted(numbers, key=int) == [str(i) for i in range(1, WRITERS + 1)]
    registry = FileRegistry(root)
    versions = registry.list_versions("race")
    assert [v.version for v in versions] == [str(i) for i in range(1, WRITERS + 1)]
    assert sorted(v.run_id or "" for v in versions) == sorted(f"run-{i}" for i in range(WRITERS))
    assert len({v.bundle_sha256 for v in versions}) == WRITERS
    for v in versions:  # each version folder holds the bundle its entry names
        assert load_bundle(registry.bundle_path(v, tmp_path)).run.run_id == v.run_id
    history = registry.alias_history("race", "production")
    assert len(history) == WRITERS
    assert [e.until is None for e in history].count(True) == 1
    model_dir = root / "race"
    assert sorted(p.name for p in model_dir.iterdir()) == ["index.json", "versions"]


def test_exhausted_retries_raise_concurrency_error(
    tmp_path: Path, bundle_writer: Callable[..., Path]
) -> None:
    root = tmp_path / "registry"
    bundle = bundle_writer(tmp_path / "b", "run-x", model="busy")
    (root / "busy").mkdir(parents=True)
    (root / "busy" / LOCK_NAME).write_text("pid 4242 on ci-runner since 2026-11-20T10:00:00Z")
    sleeps: list[float] = []
    registry = FileRegistry(root, max_attempts=5, sleep=sleeps.append)
    loaded = load_bundle(bundle)
    with pytest.raises(ConcurrencyError) as info:
        registry.promote(bundle, model="busy", alias="production",
                         approval=Approval("alice", "2026-11-20T10:00:00Z"), verdict="pass",
                         bundle_sha256=loaded.sha256(), run_id="run-x")
    message = str(info.value)
    assert "all 5 attempts" in message and "pid 4242 on ci-runner" in message
    assert str(root / "busy" / LOCK_NAME) in message
    assert len(sleeps) == 4
    # Nothing half-written: no index, no version folder, no staging leftovers.
    assert sorted(p.name for p in (root / "busy").iterdir()) == [LOCK_NAME]
