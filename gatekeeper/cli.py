"""Command line entry point: parse, dispatch, map errors to exit codes. No decisions here.

Each subcommand lives in ``gatekeeper/commands/<name>.py`` and exposes ``register(subparsers)``
(which sets ``run`` as the parser default); adding a command is one module and one entry in
``COMMANDS``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence

from gatekeeper import __version__
from gatekeeper.plugins import TYPE_CHECKING, LazyTable

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

VERSION = f"gatekeeper {__version__}"

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# Imported lazily by name so `gatekeeper check` never pays for the registry/GitHub/importer code.
# The order is the order of `gatekeeper --help`.
COMMANDS: LazyTable[Register] = LazyTable("command", {
    "check": "gatekeeper.commands.check:register",
    "compare": "gatekeeper.commands.compare:register",
    "schema": "gatekeeper.commands.schema:register",
    "policy": "gatekeeper.commands.policy:register",
    "test": "gatekeeper.commands.test:register",
    "registry": "gatekeeper.commands.registry:register",
    "import": "gatekeeper.commands.importer:register",
    "protect": "gatekeeper.commands.protect:register",
    "relay": "gatekeeper.commands.relay:register",
    "serve": "gatekeeper.commands.serve:register",
    "capture": "gatekeeper.commands.capture:register",
    "replay": "gatekeeper.commands.replay:register",
    "sql": "gatekeeper.commands.sql:register",
})

# Each command's one-line help, so `gatekeeper --help` lists them without importing a command
# module (tests/unit/test_cli_help.py holds this to what each module registers). A command
# missing here is loaded to list it.
SUMMARIES: dict[str, str] = {
    "check": "gate a run bundle against a policy",
    "compare": "compare two bundles metric by metric (no registry)",
    "schema": "print the JSON Schema of a format",
    "policy": "validate, show or diff policies",
    "test": "run policy unit tests (tests/*.yaml case files)",
    "registry": "list, promote, archive and search versions",
    "import": "turn lm-eval, promptfoo, Inspect or MLflow output into a run bundle",
    "protect": "require gatekeeper's check on release branches (creates/updates a ruleset)",
    "relay": "post the comment stored by a fork PR's run (workflow_run relay; never a check)",
    "serve": "run the GitHub App's webhook service (gunicorn)",
    "sql": "print the SQL computing a comparison's sufficient statistics",
    "capture": "record the environment, or run a command into a bundle",
    "replay": "re-run a bundle's command and compare the results",
}


def _command_for(argv: Sequence[str]) -> str | None:
    for token in argv:
        if not token.startswith("-"):
            return token
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    # lazy: `--version` prints without argparse
    import argparse

    parser = argparse.ArgumentParser(
        prog="gatekeeper",
        description="Policy-as-code promotion gate for ML and LLM models.",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback for errors (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS.names():
        if only is None and name in SUMMARIES:
            # No command will run (`--help`, `--version`, a missing or unknown command): list
            # it by its summary without importing its module.
            sub.add_parser(name, help=SUMMARIES[name])
            continue
        if only is not None and name != only:
            # Keep `--help` complete while loading only the module that will run.
            sub.add_parser(name, help=f"(see: gatekeeper {name} --help)")
            continue
        COMMANDS.load(name)(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, not only before the subcommand.
    debug = "--debug" in args_list
    args_list = [a for a in args_list if a != "--debug"]
    if args_list[:1] == ["--version"]:
        # What argparse's version action prints, without building every parser and its
        # formatter (shutil, textwrap) first: the one path a CI log runs before anything else.
        print(VERSION)
        return 0
    command = _command_for(args_list)
    parser = build_parser(only=command if command in COMMANDS else None)
    args = parser.parse_args(args_list)
    args.debug = debug
    with warnings.catch_warnings():  # restores the process's handler when the command ends
        if not debug:
            warnings.showwarning = show_warning
        return _run(args)


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    """A library's warning as one line on stderr: Python's default prints the warning's
    source line too, and names a file inside the library that the user cannot act on."""
    # lazy: safe_text (re) is not needed to print --version
    from gatekeeper.safe_text import one_line

    print(f"gatekeeper: warning: {category.__name__}: {one_line(str(message))}",
          file=file or sys.stderr)


def _run(args: argparse.Namespace) -> int:
    # lazy: the error tree (dataclasses, inspect) is not needed to print --version or --help
    from gatekeeper.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, GatekeeperError
    from gatekeeper.safe_text import one_line

    try:
        code: int = args.run(args)
        return code
    except GatekeeperError as exc:
        if args.debug:
            raise
        print(f"gatekeeper: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gatekeeper: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: never a traceback for users
        if args.debug:
            raise
        print(
            f"gatekeeper: unexpected error: {type(exc).__name__}: {one_line(exc)} "
            "(rerun with --debug for a traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def main_entry() -> None:
    sys.exit(main())
