"""Folders someone else may have prepared are read without following symlinks (--template-dir),
and outputs replace a symlink planted in the output folder instead of writing through it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AS_OF, Result

CHECK = ("check", "examples/bundles/warn", "--policy", "policies/default.yaml", "--as-of", AS_OF)
SECRET = "RUNNER-SECRET-0123"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    path = folder / "report.md.j2"
    path.write_text(f"{SECRET}\n", encoding="utf-8")
    return path


def test_a_symlinked_template_is_refused(cli: Callable[..., Result], tmp_path: Path,
                                         secret: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.md.j2").symlink_to(secret)
    res = cli(*CHECK, "--format", "markdown", "--template-dir", str(templates))
    assert res.code == 2, res.err
    assert f"{templates}/report.md.j2 is a symlink; gatekeeper does not follow symlinks" in res.err
    assert SECRET not in res.out + res.err


def test_a_template_included_through_a_symlinked_folder_is_refused(
        cli: Callable[..., Result], tmp_path: Path, secret: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text('{% include "parts/report.md.j2" %}\n',
                                            encoding="utf-8")
    (templates / "parts").symlink_to(secret.parent)
    res = cli(*CHECK, "--format", "markdown", "--template-dir", str(templates))
    assert res.code == 2, res.err
    assert f"{templates}/parts is a symlink" in res.err
    assert SECRET not in res.out + res.err


def test_templates_in_a_real_folder_still_work(cli: Callable[..., Result], tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "parts").mkdir(parents=True)
    (templates / "parts" / "head.j2").write_text("custom head\n", encoding="utf-8")
    (templates / "report.md.j2").write_text(
        '{% include "parts/head.j2" %}{% extends "gatekeeper/report.md.j2" %}\n',
        encoding="utf-8")
    res = cli(*CHECK, "--format", "markdown", "--template-dir", str(templates))
    assert res.code == 0, res.err
    assert "custom head" in res.out


def test_the_template_folder_itself_may_be_a_symlink(cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "report.md.j2").write_text("mine: {{ v.verdict.verdict }}\n", encoding="utf-8")
    (tmp_path / "link").symlink_to(real)
    res = cli(*CHECK, "--format", "markdown", "--template-dir", str(tmp_path / "link"))
    assert res.code == 0, res.err
    assert res.out.startswith("mine: warn")


def test_a_template_outside_the_folder_by_dots_is_not_found(
        cli: Callable[..., Result], tmp_path: Path, secret: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text('{% include "../elsewhere/report.md.j2" %}\n',
                                            encoding="utf-8")
    res = cli(*CHECK, "--format", "markdown", "--template-dir", str(templates))
    assert res.code == 2, res.err
    assert "TemplateNotFound" in res.err and SECRET not in res.out


def test_outputs_replace_a_planted_symlink(cli: Callable[..., Result], tmp_path: Path,
                                           secret: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "verdict.json").symlink_to(secret)
    res = cli(*CHECK, "--output-dir", str(out))
    assert res.code == 0, res.err
    assert secret.read_text(encoding="utf-8") == f"{SECRET}\n"
    assert not (out / "verdict.json").is_symlink()
    assert '"verdict": "warn"' in (out / "verdict.json").read_text(encoding="utf-8")
