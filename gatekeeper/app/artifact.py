"""The workflow run's bundle artifact: chosen by name (never by position), downloaded through
the 302 GitHub answers with, within ``GATEKEEPER_MAX_ARTIFACT_BYTES``.

The redirect points at short-lived storage that needs no token, and gets none: the installation
token is sent to the API only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from gatekeeper.app import limits
from gatekeeper.app.unzip import UnsafeArtifactError
from gatekeeper.errors import GitHubError, Location
from gatekeeper.github.client import GitHubClient

CHUNK = 1024 * 1024
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_ATTEMPTS = 3


class NoRedirects(requests.Session):
    """A session that hands a redirect back instead of following it (with the token)."""

    def request(self, method: str | bytes, url: str | bytes,
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def find_artifact(client: GitHubClient, repo: str, run_id: int, name: str) -> dict[str, Any]:
    """The newest unexpired artifact of run ``run_id`` called exactly ``name``."""
    path = f"/repos/{repo}/actions/runs/{run_id}/artifacts"
    found = [a for a in client.paginate(path, {"name": name}, key="artifacts")
             if a.get("name") == name and not a.get("expired")]
    if not found:
        raise GitHubError(f"workflow run {run_id} has no artifact named {name!r} "
                          "(GATEKEEPER_ARTIFACT; did the evidence workflow upload it?)")
    return max(found, key=lambda a: int(a.get("id") or 0))


def download_artifact(redirecting: GitHubClient, repo: str, artifact: Mapping[str, Any],
                      dest: Path, environ: Mapping[str, str] | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> None:
    """Write the artifact's zip to ``dest``. ``redirecting`` is a client whose session does not
    follow redirects (:class:`NoRedirects`)."""
    where = Location(str(artifact.get("name")))
    size = artifact.get("size_in_bytes")
    if isinstance(size, int):
        limits.ARTIFACT_BYTES.check(size, f"the artifact is {size:,} bytes", where,
                                    UnsafeArtifactError, environ)
    path = f"/repos/{repo}/actions/artifacts/{artifact['id']}/zip"
    response = redirecting.request("GET", path)
    location = response.headers.get("Location")
    if response.status_code != 302 or not location:
        raise GitHubError(f"GET {path}: expected a redirect to the zip, got HTTP "
                          f"{response.status_code}")
    if urlsplit(location).scheme not in ("https", "http"):
        raise GitHubError(f"GET {path}: the redirect is not an http(s) URL")
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            _stream(location, dest, limits.ARTIFACT_BYTES.value(environ), where, environ)
            return
        except (requests.ConnectionError, requests.Timeout, _Retry) as exc:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise GitHubError(f"the artifact's zip could not be downloaded after "
                                  f"{attempt} attempts ({exc})") from None
            sleep(float(2 ** (attempt - 1)))


class _Retry(Exception):
    pass


def _stream(url: str, dest: Path, cap: int, where: Location,
            environ: Mapping[str, str] | None) -> None:
    with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retry(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise GitHubError(f"the artifact's zip: HTTP {response.status_code}")
        total = 0
        with open(dest, "wb") as out:
            for chunk in response.iter_content(CHUNK):
                total += len(chunk)
                if total > cap:
                    raise limits.ARTIFACT_BYTES.refuse(
                        f"the artifact's zip is more than {cap:,} bytes", where,
                        UnsafeArtifactError, environ)
                out.write(chunk)
