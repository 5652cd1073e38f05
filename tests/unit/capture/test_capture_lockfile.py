"""Each lockfile kind is found and hashed; without one, the installed distributions are."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import pytest

from gatekeeper.capture.lockfile import distributions_sha256, find_lockfile


@pytest.mark.parametrize(("name", "kind"), [
    ("uv.lock", "uv"), ("poetry.lock", "poetry"), ("Pipfile.lock", "pipfile"),
    ("pdm.lock", "pdm"), ("conda-lock.yml", "conda"), ("environment.yml", "conda"),
    ("environment.yaml", "conda"), ("requirements.txt", "requirements"),
    ("requirements-gpu.txt", "requirements"),
])
def test_each_lockfile_kind_is_found_with_its_sha256(tmp_path: Path, name: str,
                                                     kind: str) -> None:
    content = f"# {name}\npackage==1.0\n".encode()
    (tmp_path / name).write_bytes(content)
    lock = find_lockfile(tmp_path)
    assert lock == {"path": name, "sha256": hashlib.sha256(content).hexdigest(), "kind": kind}


def test_a_real_lockfile_wins_over_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    lock = find_lockfile(tmp_path)
    assert lock is not None and lock["path"] == "uv.lock"


def test_no_lockfile(tmp_path: Path) -> None:
    assert find_lockfile(tmp_path) is None


def test_a_folder_named_like_a_lockfile_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").mkdir()
    assert find_lockfile(tmp_path) is None


def test_the_distributions_hash_is_over_what_importlib_metadata_lists() -> None:
    pairs = sorted({(d.metadata["Name"].lower().replace("_", "-"), d.version)
                    for d in metadata.distributions() if d.metadata and d.metadata["Name"]})
    text = "".join(f"{n}=={v}\n" for n, v in pairs)
    assert distributions_sha256() == hashlib.sha256(text.encode()).hexdigest()
    assert any(n == "pydantic" for n, _ in pairs)
