"""A small GitHub REST client: auth headers, timeouts, retries with backoff, rate limits,
pagination through the Link header. Works against GHES (``<host>/api/v3``) as well.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from gatekeeper import __version__
from gatekeeper.errors import GitHubError

API_VERSION = "2022-11-28"
PER_PAGE = 100
# Waiting longer than this inside a CI step costs more than a missing comment is worth.
MAX_RATE_LIMIT_WAIT = 60.0
MAX_BACKOFF = 30.0
MAX_PAGES = 1000


class GitHubAPIError(GitHubError):
    """GitHub answered with an error status (after retries, where retrying made sense)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubClient:
    """REST client. ``sleep`` and ``clock`` are injectable so tests never really wait."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        session: requests.Session | None = None,
        *,
        timeout: float = 10,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._max_wait = max_rate_limit_wait
        origin = urlsplit(self.api_url)
        self._origin = (origin.scheme, origin.netloc)

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r})"

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"gatekeeper/{__version__}",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def redact(self, text: str) -> str:
        """``text`` with the token replaced: used on everything that ends up in a message."""
        return text.replace(self._token, "***") if self._token else text

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            # Never send the token to a host a Link header (or anything else) pointed at.
            if (parts.scheme, parts.netloc) != self._origin:
                raise GitHubError(f"refusing to follow a URL outside {self.api_url}: {path}")
            return path
        if not path.startswith("/"):
            raise ValueError(f"API path must start with '/': {path!r}")
        return self.api_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """Send one request, retrying what is worth retrying; raise GitHubAPIError on >= 400."""
        url = self._url(path)
        label = f"{method} {urlsplit(url).path}"
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=self._headers(),
                    timeout=self._timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise GitHubError(
                        self.redact(
                            f"{label}: no answer from {self.api_url} after {attempt} attempts "
                            f"({type(exc).__name__})"
                        )
                    ) from None
                self._sleep(self._backoff(attempt))
                continue

            wait = self._rate_limit_wait(response)
            if wait is not None:
                if wait > self._max_wait:
                    raise GitHubAPIError(
                        self.redact(
                            f"{label}: rate limited by GitHub, which asks to wait {wait:.0f} s "
                            f"(more than the {self._max_wait:.0f} s gatekeeper waits); "
                            f"{_github_message(response)}"
                        ),
                        response.status_code,
                    )
                if last:
                    raise self._error(label, response, f" after {attempt} attempts")
                self._sleep(wait)
                continue
            if response.status_code >= 500 or response.status_code == 429:
                if last:
                    raise self._error(label, response, f" after {attempt} attempts")
                self._sleep(self._backoff(attempt))
                continue
            if response.status_code >= 400:
                raise self._error(label, response, "")
            return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return _json(self.request("GET", path, params=params), path)

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield items over all pages (``per_page=100``), following ``Link: rel="next"``.

        ``key`` names the list inside an object answer (e.g. ``check_runs``).
        """
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        url = path
        for _ in range(MAX_PAGES):
            response = self.request("GET", url, params=query)
            data = _json(response, path)
            items = data.get(key) if key is not None and isinstance(data, dict) else data
            if not isinstance(items, list):
                raise GitHubError(f"GET {path}: expected a list in the answer")
            yield from (item for item in items if isinstance(item, dict))
            next_link = response.links.get("next", {}).get("url")
            if not next_link:
                return
            # The next link already carries the query (per_page, page, ...).
            url, query = next_link, None
        raise GitHubError(f"GET {path}: more than {MAX_PAGES} pages; giving up")

    def _backoff(self, attempt: int) -> float:
        return float(min(2 ** (attempt - 1), MAX_BACKOFF))

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds GitHub asks us to wait, or None when this is not a rate-limit answer."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return None
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset")
            try:
                return max(0.0, float(reset) - self._clock()) + 1.0 if reset else None
            except ValueError:
                return None
        return None

    def _error(self, label: str, response: requests.Response, suffix: str) -> GitHubAPIError:
        return GitHubAPIError(
            self.redact(
                f"{label}: HTTP {response.status_code}{suffix}: {_github_message(response)}"
            ),
            response.status_code,
        )


def _github_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:300]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return str(data)[:300]


def _json(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(f"{path}: GitHub answered with something that is not JSON") from None
