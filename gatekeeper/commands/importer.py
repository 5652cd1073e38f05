"""``gatekeeper import TOOL SOURCE --out BUNDLE``: an eval tool's own output → a run bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

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
    parser.add_argument("source", type=Path, help="the tool's output file or folder")
    parser.add_argument("--out", type=Path, required=True,
                        help="bundle folder to write; with several Inspect logs, DIR/{model} "
                        "writes one bundle per model")
    parser.add_argument("--model-name", help="model name for the bundle (default: as recorded)")
    parser.add_argument("--run-id", help="run id (default: derived from a sha256 of the inputs)")
    parser.add_argument("--provider", help="promptfoo: the provider label (or id) to import")
    parser.add_argument("--task", action="append", default=[],
                        help="lm-eval: a task or group to import (repeatable; default: all)")
    parser.add_argument("--model", dest="select_model",
                        help="Inspect eval-set: the model whose log to import")
    parser.add_argument("--force", action="store_true", help="replace an existing bundle")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = ImportOptions(
        model_name=args.model_name,
        run_id=args.run_id,
        provider=args.provider,
        tasks=tuple(args.task),
        model=args.select_model,
        force=args.force,
    )
    importer = get_importer(args.tool)
    drafts = importer.read(args.source, options)
    written = write_drafts(importer.name, drafts, args.out, options)
    for draft in drafts:
        for note in draft.notes:
            print(f"gatekeeper: note: {draft.label}: {note}", file=sys.stderr)
    for path in written:
        print(path)
    return 0
