"""``gatekeeper replay BUNDLE [--policy P] [--record] [-- CMD ...]``: re-run the recorded command
with the recorded seeds into a fresh folder and say whether the run is repeatable, reproducible
within the policy's ``reproducibility.replay_tolerance``, or not reproducible (exit 0, 0, 1)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gatekeeper.commands.capture import command_after_dashes
from gatekeeper.errors import InputError, Location


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay", help="re-run a bundle's command and compare the results",
        usage="gatekeeper replay BUNDLE [--policy P] [--record] [--keep DIR] [-- CMD ...]",
        description="Re-run the command a bundle records (or CMD after `--`) with its seeds, "
                    "$GATEKEEPER_BUNDLE_DIR set to a fresh folder, and compare the new bundle "
                    "with BUNDLE: the envelope field by field, each metric against the policy's "
                    "reproducibility.replay_tolerance (0 without a policy). Prints `replay: "
                    "repeatable`, `replay: reproducible within tolerance` (exit 0) or `replay: "
                    "not reproducible` (exit 1), then the reasons.")
    p.add_argument("bundle", type=Path)
    p.add_argument("--policy", type=Path, help="the policy whose replay_tolerance applies")
    p.add_argument("--branch", help="the target branch for the policy's branch overrides")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the replay's bundle here")
    p.add_argument("--record", action="store_true",
                   help="write the result into BUNDLE's run file (a policy can require it)")
    p.set_defaults(run=run)
    command_after_dashes(p)


def _tolerance(args: argparse.Namespace) -> Any:
    if args.policy is None:
        return lambda _name: 0.0
    # lazy: the policy loader (pydantic) stays off `gatekeeper --help`
    from gatekeeper.policy.loader import load_policy

    rule = load_policy(args.policy, target_branch=args.branch).policy.reproducibility
    if rule is None:
        return lambda _name: 0.0
    return rule.tolerance


def _wrapping(model: str, cmd: list[str]) -> dict[str, Any]:
    """run.yaml for a command that left a metrics.json, as `gatekeeper capture` writes it
    (the envelope read now, so that it compares with the original's)."""
    # lazy: capture runs git and reads /proc: only for a replay
    from gatekeeper.capture import capture_envelope

    envelope = capture_envelope(Path.cwd(), os.environ).as_dict()
    return {"model": model, "command": cmd, **envelope, "status": "complete"}


def run(args: argparse.Namespace) -> int:
    # lazy: bundles, numpy and the capture code stay off `gatekeeper --help`
    from gatekeeper.capture.command import holds_bundle, run_command, wrap_folder
    from gatekeeper.inputs.bundle import load_bundle
    from gatekeeper.replay.compare import compare, failed_replay
    from gatekeeper.replay.record import record_replay

    original = load_bundle(args.bundle)
    cmd = list(args.command_argv) or list(original.run.command or [])
    if not cmd:
        raise InputError("the bundle records no command: give one after `--`",
                         Location(original.run_file_display, "command"))
    tolerance = _tolerance(args)
    seeds = original.run.seeds
    work = Path(tempfile.mkdtemp(prefix="gatekeeper-replay-"))
    try:
        code = run_command(cmd, work / "out", os.environ, seeds, stdout=sys.stderr)
        if code != 0:
            report = failed_replay(f"the command exited {code}")
        elif not holds_bundle(work / "out") and not (work / "out" / "metrics.json").is_file():
            report = failed_replay("the command wrote no bundle into $GATEKEEPER_BUNDLE_DIR")
        else:
            target = args.keep or work / "bundle"
            wrap_folder(work / "out", target, _wrapping(original.run.model, cmd), seeds)
            replayed = load_bundle(target)
            report = compare(original, replayed, tolerance)
            if args.record:
                record_replay(original, report, replayed.run.run_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(report.render())
    return report.exit_code
