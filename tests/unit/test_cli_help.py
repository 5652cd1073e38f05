"""`gatekeeper --help` lists the commands from cli.SUMMARIES without importing them: the
summaries must be what each command module registers."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from gatekeeper import __version__
from gatekeeper.cli import COMMANDS, SUMMARIES, build_parser, main


def test_summaries_are_what_each_command_registers() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for name in COMMANDS.names():
        COMMANDS.load(name)(sub)
    registered = {action.dest: action.help for action in sub._choices_actions}
    assert registered == SUMMARIES


def test_version_fast_path_prints_what_argparse_prints() -> None:
    fast = io.StringIO()
    with contextlib.redirect_stdout(fast):
        assert main(["--version"]) == 0
    slow = io.StringIO()
    with contextlib.redirect_stdout(slow), pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--version"])
    assert info.value.code == 0
    assert fast.getvalue() == slow.getvalue() == f"gatekeeper {__version__}\n"
