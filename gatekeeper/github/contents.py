"""A repository file's text at a ref through GitHub's contents API (for shallow checkouts)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from gatekeeper.errors import GitHubError
from gatekeeper.github.client import GitHubAPIError, GitHubClient
from gatekeeper.repo.git import repo_path


def text_at_ref(client: GitHubClient, repo: str, path: str, ref: str) -> str | None:
    """The file at ``path`` on ``ref`` through ``GET /repos/{repo}/contents``; None if absent."""
    rel = repo_path(path)
    try:
        data = client.get_json(f"/repos/{repo}/contents/{quote(rel, safe='/')}", {"ref": ref})
    except GitHubAPIError as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type") != "file":
        raise GitHubError(f"{rel} on {ref} is not a file")
    if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
        raise GitHubError(
            f"{rel} on {ref}: unexpected encoding {data.get('encoding')!r} (file too large?)"
        )
    try:
        return base64.b64decode(data["content"]).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise GitHubError(f"{rel} on {ref}: content is not base64-encoded UTF-8 text") from None
