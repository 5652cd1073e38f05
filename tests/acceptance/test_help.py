"""Every subcommand's --help renders (argparse formats help text with %, so a stray % crashes)."""

from __future__ import annotations

import pytest

from gatekeeper.cli import COMMANDS
from tests.conftest import run_subprocess


@pytest.mark.parametrize("command", list(COMMANDS.names()))
def test_help_of_every_command(command: str) -> None:
    res = run_subprocess(command, "--help")
    assert res.code == 0, res.err
    assert "Traceback" not in res.err
    assert f"gatekeeper {command}" in res.out


def test_top_level_help() -> None:
    res = run_subprocess("--help")
    assert res.code == 0
    for name in COMMANDS.names():
        assert name in res.out


@pytest.mark.parametrize("sub", ["list", "show", "promote", "archive", "history", "search",
                                 "set-alias", "rollback-target"])
def test_help_of_registry_subcommands(sub: str) -> None:
    res = run_subprocess("registry", sub, "--help")
    assert res.code == 0 and "Traceback" not in res.err
