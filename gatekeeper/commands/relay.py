"""``gatekeeper relay``: post a fork PR's stored comment from a workflow_run job (never a check)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from gatekeeper.github.runner import add_mask
from gatekeeper.github.settings import GitHubSettings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "relay",
        help="post the comment stored by a fork PR's run (workflow_run relay; never a check)",
        description=(
            "Read relay.json and the comment file that `gatekeeper check --github` stored for "
            "a fork pull request, verify them against the triggering workflow_run event, and "
            "post the sticky comment, marked as an unverified fork report, with this repository's "
            "token. No check is posted: a fork's own run cannot vouch for its verdict."
        ),
    )
    parser.add_argument("--dir", required=True, type=Path, help="the downloaded artifact's folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # lazy: requests (the GitHub REST client) stays off `gatekeeper --help` and `--version`,
    # which import every command module to list it
    from gatekeeper.github.client import GitHubClient
    from gatekeeper.github.relay import relay

    settings = GitHubSettings.from_environ(os.environ)
    token = settings.require_token()
    if settings.on_runner:
        print(add_mask(token))
    client = GitHubClient(settings.api_url, token)
    result = relay(settings, client, args.dir)
    for action in result.actions:
        print(f"gatekeeper: {action}")
    if result.comment_url:
        print(f"gatekeeper: comment {result.comment_url}")
    for warning in result.warnings:
        print(f"gatekeeper: warning: {warning}", file=sys.stderr)
    return 0
