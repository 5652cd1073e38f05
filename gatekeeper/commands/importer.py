"""``gatekeeper import TOOL SOURCE --out BUNDLE``: an eval tool's own output → a run bundle.

``gatekeeper import mlflow mlflow+http(s)://HOST:PORT --run-id RUN_ID`` reads a run from a
tracking server instead of a FileStore folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gatekeeper.errors import ImporterError
from gatekeeper.importers.interface import IMPORTERS, ImportOptions, get_importer
from gatekeeper.importers.writer import write_drafts


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import",
        help="turn lm-eval, promptfoo, Inspect or MLflow output into a run bundle",
        description="Write a run bundle from an evaluation tool's own output. Per-example "
        "scores keep the tool's example ids; what the tool did not record stays missing.",
    )
    parser.add_argument("tool", choices=sorted(IMPORTERS), help="which tool wrote SOURCE")
    # Text, not Path: Path would fold the '//' of an mlflow+http:// URI.
    parser.add_argument("source", help="the tool's output file or folder; for mlflow also "
                        "mlflow+http(s)://HOST:PORT[/prefix] of a tracking server (with --run-id)")
    parser.add_argument("--out", type=Path, required=True,
                        help="bundle folder to write; with several Inspect logs, DIR/{model} "
                        "writes one bundle per model")
    parser.add_argument("--model-name", help="model name for the bundle (default: as recorded)")
    parser.add_argument("--run-id", help="run id (default: derived from a sha256 of the inputs); "
                        "with an MLflow tracking server, the MLflow run to import (and the "
                        "bundle's run id)")
    parser.add_argument("--provider", help="promptfoo: the provider label (or id) to import")
    parser.add_argument("--task", action="append", default=[],
                        help="lm-eval: a task or group to import (repeatable; default: all)")
    parser.add_argument("--model", dest="select_model",
                        help="Inspect eval-set: the model whose log to import")
    parser.add_argument("--force", action="store_true", help="replace an existing bundle")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except OSError as exc:
        # Reading the source is checked file by file; this is the output side (a read-only or
        # missing folder, a full disk): an input problem of the command line, not a bug.
        where = exc.filename or args.out
        raise ImporterError(f"cannot write the bundle to {args.out}: {exc.strerror} ({where})"
                            ) from exc


def _run(args: argparse.Namespace) -> int:
    # lazy: requests (under mlflow.rest) stays off `gatekeeper --help` and `--version`, which
    # import every command module to list it
    from gatekeeper.mlflow.rest import is_mlflow_uri

    options = ImportOptions(
        model_name=args.model_name,
        run_id=args.run_id,
        provider=args.provider,
        tasks=tuple(args.task),
        model=args.select_model,
        force=args.force,
    )
    if args.tool == "mlflow" and is_mlflow_uri(args.source):
        # lazy: the MLflow server importer stays off imports of local files
        from gatekeeper.importers.mlflow_server import import_server_run

        result = import_server_run(args.source, args.run_id, args.out, options)
        for note in result.notes:
            print(f"gatekeeper: note: {result.label}: {note}", file=sys.stderr)
        print(result.path)
        return 0
    if args.tool == "mlflow" and args.source.startswith(("http://", "https://")):
        # The URI may hold credentials: the message does not repeat it.
        raise ImporterError("name a tracking server as mlflow+http://HOST:PORT or "
                            "mlflow+https://HOST[:PORT]")
    importer = get_importer(args.tool)
    drafts = importer.read(Path(args.source), options)
    written = write_drafts(importer.name, drafts, args.out, options)
    for draft in drafts:
        for note in draft.notes:
            print(f"gatekeeper: note: {draft.label}: {note}", file=sys.stderr)
    for path in written:
        print(path)
    return 0
