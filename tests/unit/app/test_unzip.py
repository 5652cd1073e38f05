"""The artifact's zip is written by the pull request's code: every way out is refused."""

from __future__ import annotations

import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from gatekeeper.app.unzip import UnsafeArtifactError, safe_extract


def make_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]],
             method: int = zipfile.ZIP_DEFLATED) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", method) as zf:
        warnings.simplefilter("ignore")  # a duplicate name is one of the hostile cases
        for name, data in entries:
            zf.writestr(name, data)
    return path


def link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_a_bundle_unpacks_at_the_root(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("run.yaml", b"a: 1\n"), ("scores/x.csv", b"id\n")])
    dest = tmp_path / "out"
    dest.mkdir()
    assert safe_extract(archive, dest) == 2
    assert (dest / "run.yaml").read_bytes() == b"a: 1\n"
    assert (dest / "scores" / "x.csv").is_file()


REFUSED = {
    "parent": ([("../x", b"1")], "leave the bundle"),
    "deep parent": ([("a/../../x", b"1")], "leave the bundle"),
    "absolute": ([("/etc/x", b"1")], "leave the bundle"),
    "backslash": ([("..\\x", b"1")], "leave the bundle"),
    "drive": ([("C:/x", b"1")], "leave the bundle"),
    "symlink": ([(link("run.yaml"), b"/etc/passwd")], "symbolic link"),
    "symlink folder": ([(link("scores"), b"/tmp"), ("scores/x", b"1")], "symbolic link"),
    "twice": ([("run.yaml", b"1"), ("run.yaml", b"2")], "twice"),
    "bomb": ([("z.csv", b"0" * 5_000_000)], "zip bomb"),
}


@pytest.mark.parametrize("entries, why", REFUSED.values(), ids=REFUSED.keys())
def test_refused(tmp_path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]],
                 why: str) -> None:
    archive = make_zip(tmp_path / "a.zip", entries)
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeArtifactError, match=why):
        safe_extract(archive, dest)
    assert not (tmp_path / "x").exists()
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_limits_come_from_the_environment(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [(f"f{i}", b"x") for i in range(5)])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeArtifactError, match="GATEKEEPER_MAX_ARCHIVE_ENTRIES"):
        safe_extract(archive, dest, {"GATEKEEPER_MAX_ARCHIVE_ENTRIES": "4"})
    with pytest.raises(UnsafeArtifactError, match="GATEKEEPER_MAX_UNPACKED_BYTES"):
        safe_extract(archive, dest, {"GATEKEEPER_MAX_UNPACKED_BYTES": "4"})
    stored = make_zip(tmp_path / "s.zip", [("a", b"0" * 1000)], zipfile.ZIP_STORED)
    assert safe_extract(stored, dest, {"GATEKEEPER_MAX_COMPRESSION_RATIO": "1"}) == 1


def test_an_entry_that_lies_about_its_size_is_cut_off(tmp_path: Path) -> None:
    """The central directory claims 10 bytes; the data inflates to a megabyte."""
    archive = make_zip(tmp_path / "a.zip", [("big", b"0" * 1_000_000)])
    raw = bytearray(archive.read_bytes())
    size = (1_000_000).to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    raw = raw.replace(size, fake)  # local header and central directory both lie
    archive.write_bytes(bytes(raw))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeArtifactError):
        safe_extract(archive, dest)
    assert not (dest / "big").exists() or (dest / "big").stat().st_size <= 10


def test_not_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "out").mkdir()
    with pytest.raises(UnsafeArtifactError, match="not a valid zip"):
        safe_extract(archive, tmp_path / "out")
