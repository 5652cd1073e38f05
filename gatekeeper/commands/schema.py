"""`gatekeeper schema run|policy|verdict`: print the JSON Schema of a format."""

from __future__ import annotations

import argparse
import sys

from gatekeeper.schemas import SCHEMAS, schema_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a format")
    p.add_argument("name", choices=sorted(SCHEMAS))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text(args.name))
    return 0
