"""``gatekeeper protect``: require gatekeeper's check on release branches (a repository ruleset)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gatekeeper.errors import GitHubError
from gatekeeper.github.runner import add_mask
from gatekeeper.github.settings import GitHubSettings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "protect",
        help="require gatekeeper's check on release branches (creates/updates a ruleset)",
        description=(
            "Create or update a repository ruleset that requires the gate's check on the "
            "branches matching --branch. Needs a token with repository administration rights "
            "(GATEKEEPER_GITHUB_TOKEN or GITHUB_TOKEN); without them it prints the settings "
            "for an admin."
        ),
    )
    parser.add_argument("--branch", required=True, help="branch pattern, e.g. 'release/*'")
    parser.add_argument(
        "--check-name", default="gatekeeper", help="the check's name (default: gatekeeper)"
    )
    parser.add_argument("--repo", help="owner/name (default: $GITHUB_REPOSITORY)")
    parser.add_argument(
        "--app-id", type=int, default=None,
        help="require the check from this GitHub App (the ruleset's integration_id), so a "
             "workflow posting a check of the same name does not satisfy it (docs/app.md)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # lazy: requests (the GitHub REST client) stays off `gatekeeper --help` and `--version`,
    # which import every command module to list it
    from gatekeeper.github.client import GitHubClient
    from gatekeeper.github.protect import ensure_release_ruleset

    settings = GitHubSettings.from_environ(os.environ)
    token = settings.require_token()
    repo = args.repo or settings.require_repository()
    if repo.count("/") != 1:
        raise GitHubError(f"--repo must look like 'owner/name', got {repo!r}")
    if settings.on_runner:
        print(add_mask(token))
    client = GitHubClient(settings.api_url, token)
    result = ensure_release_ruleset(client, repo, args.branch, args.check_name,
                                    args.app_id)
    if result.settings_text is not None:
        print(f"gatekeeper: warning: {result.message}", file=sys.stderr)
        print(result.settings_text)
    else:
        print(result.message)
    return 0
