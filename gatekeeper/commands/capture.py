"""``gatekeeper capture env`` prints the captured envelope; ``gatekeeper capture --out BUNDLE --
CMD ...`` runs a command and makes a bundle of what it wrote, with the envelope and the command
line recorded (for ``gatekeeper replay``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gatekeeper.errors import InputError, Location


def command_after_dashes(parser: argparse.ArgumentParser) -> None:
    """Everything after ``--`` is the command to run, as ``args.command_argv``.

    argparse alone cannot do this: a ``nargs="*"`` positional is filled (empty) with the first
    positional it meets, so ``BUNDLE --policy P -- CMD`` would leave CMD unrecognised.
    """
    parse = parser.parse_known_args

    def parse_known_args(args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        given = list(sys.argv[1:] if args is None else args)
        head, tail = given, []
        if "--" in given:
            cut = given.index("--")
            head, tail = given[:cut], given[cut + 1:]
        ns, extras = parse(head, namespace)
        ns.command_argv = tail
        return ns, extras

    setattr(parser, "parse_known_args", parse_known_args)  # noqa: B010


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "capture", help="record the environment, or run a command into a bundle",
        usage="gatekeeper capture env [--allow-env NAME]\n"
              "       gatekeeper capture --out BUNDLE [--model M] [--seeds S] -- CMD ...",
        description="`gatekeeper capture env` prints the environment and code facts as YAML "
                    "(the `environment` and `code` keys of run.yaml). `gatekeeper capture --out "
                    "BUNDLE -- CMD ...` runs CMD with $GATEKEEPER_BUNDLE_DIR set; what it writes "
                    "there (a bundle from gatekeeper.Run, or a metrics.json) becomes BUNDLE, "
                    "with the envelope and the command recorded.")
    p.add_argument("what", nargs="?", choices=["env"], help="print the environment as YAML")
    p.add_argument("--out", type=Path, metavar="BUNDLE", help="the bundle to write")
    p.add_argument("--model", help="the model name (for a command that writes metrics.json)")
    p.add_argument("--seeds", help="comma-separated seeds to hand the command "
                                   "($GATEKEEPER_SEEDS)")
    p.add_argument("--allow-env", action="append", default=[], metavar="NAME",
                   help="record this environment variable (repeatable; none are by default)")
    p.set_defaults(run=run)
    command_after_dashes(p)


def _seeds(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise InputError("seeds are whole numbers, comma-separated",
                         Location(field="--seeds")) from exc


def _print_env(args: argparse.Namespace) -> int:
    # lazy: the capture code and YAML stay off `gatekeeper --help`
    import yaml

    # lazy: capture runs git and reads /proc: only for `capture env`
    from gatekeeper.capture import capture_envelope

    envelope = capture_envelope(Path.cwd(), os.environ, args.allow_env)
    sys.stdout.write(yaml.safe_dump(envelope.as_dict(), sort_keys=True, allow_unicode=True,
                                    default_flow_style=False, width=100))
    return 0


def _run_into_bundle(args: argparse.Namespace) -> int:
    # lazy: the capture code, the writer and pydantic stay off `gatekeeper --help`
    from gatekeeper.api.secrets import refuse_credentials
    from gatekeeper.capture import capture_envelope
    from gatekeeper.capture.command import holds_bundle, run_command, wrap_folder
    from gatekeeper.inputs.atomic import stage_folder

    cmd = list(args.command_argv)
    refuse_credentials(cmd, "command")
    seeds = _seeds(args.seeds)
    out: Path = args.out
    envelope = capture_envelope(Path.cwd(), os.environ, args.allow_env).as_dict()
    staging = stage_folder(out, what=f"the bundle to {out}")
    try:
        folder = staging / "out"
        code = run_command(cmd, folder, os.environ, seeds)
        if not holds_bundle(folder) and args.model is None:
            raise InputError("the command wrote no bundle: give --model to wrap its "
                             "metrics.json (or a failed run)", Location(field="--model"))
        run: dict[str, Any] = {"model": args.model, "command": cmd, **envelope,
                               "status": "complete" if code == 0 else "failed"}
        if code != 0:
            run["failure"] = f"the command exited {code}"
        written = wrap_folder(folder if folder.exists() else None, out, run, seeds)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wrote {written}" + ("" if code == 0 else f" (status: failed; the command exited "
                                                     f"{code})"))
    return 0 if code == 0 else 1


def run(args: argparse.Namespace) -> int:
    if args.out is None:
        if args.what != "env" or args.command_argv:
            raise InputError("give `env`, or --out BUNDLE -- CMD ...", Location(field="capture"))
        return _print_env(args)
    if args.what is not None:
        raise InputError("`env` prints the environment; --out runs a command: give one",
                         Location(field="capture"))
    if not args.command_argv:
        raise InputError("no command: give it after `--`", Location(field="capture"))
    return _run_into_bundle(args)
