"""`gatekeeper --help` lists the commands from cli.SUMMARIES without importing them: the
summaries must be what each command module registers."""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys

import pytest

from gatekeeper import __version__, cli
from gatekeeper.cli import COMMANDS, SUMMARIES, build_parser, main
from tests.conftest import ROOT


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


def _argparse_help(columns: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", columns)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--help"])
    assert info.value.code == 0
    return out.getvalue()


def _fast_help(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    return out.getvalue()


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--debug", "--help"]])
def test_help_constant_is_what_argparse_prints(argv: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The constant printed without argparse cannot go stale: a new command, a changed summary
    # or a Python whose argparse renders differently fails here (scripts/render_help.py).
    slow = _argparse_help(str(cli.HELP_COLUMNS), monkeypatch)
    assert cli.help_is_constant()
    assert slow == cli.HELP, "cli.HELP is stale: run python scripts/render_help.py"
    assert _fast_help(argv) == slow


def test_help_at_another_width_is_argparse_own(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = _argparse_help("120", monkeypatch)
    assert not cli.help_is_constant()
    assert slow != cli.HELP  # wrapped differently: the constant would be wrong here
    assert _fast_help(["--help"]) == slow


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-5", "80", "100", "30"])
def test_terminal_columns_is_shutils(columns: str | None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli.terminal_columns() == shutil.get_terminal_size().columns


def test_render_help_script_finds_the_constant_current() -> None:
    proc = subprocess.run([sys.executable, "scripts/render_help.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(subs[0].choices)


def test_a_command_that_runs_builds_only_its_own_parser() -> None:
    # Nothing prints the other commands when one runs: no parser is built for them.
    assert _subcommands(build_parser(only="check", listed=False)) == ["check"]
    assert _subcommands(build_parser(only="check")) == list(COMMANDS.names())


def test_help_before_a_command_still_lists_every_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = _fast_help(["--help", "check"])
    for name in COMMANDS.names():
        assert f"    {name} " in shown
    assert "(see: gatekeeper sql --help)" in shown


def test_an_unknown_option_after_a_command_is_still_refused_by_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "bundle", "--no-such-flag"])
    assert info.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
