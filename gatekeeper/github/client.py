"""A small GitHub REST client: auth headers, timeouts, retries with backoff, rate limits,
pagination through the Link header. Works against GHES (``<host>/api/v3``) as well.

Retried: no connection, no answer within the timeout, an answer cut off mid-body, 5xx, 429 and
rate-limit 403s (``retry-after`` in seconds or as an HTTP date, or ``x-ratelimit-reset``).
Every failure is a ``GitHubError`` saying what failed; none is a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
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
# No answer, or half of one: worth another attempt (a short body raises ChunkedEncodingError).
CUT_SHORT = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, *CUT_SHORT)
# Methods whose repetition changes nothing more (gatekeeper's PATCH and PUT set whole values).
REPEATABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


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
        """Send one request, retrying what is worth retrying; raise GitHubAPIError on >= 400.

        A success whose body is not JSON (cut short) is retried for a request that may be sent
        twice; a POST (a comment, a check run) is not repeated: it may already have been applied.
        """
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
            except TRANSPORT_ERRORS as exc:
                if last or (method not in REPEATABLE and isinstance(exc, CUT_SHORT)):
                    raise GitHubError(
                        self.redact(
                            f"{label}: no answer from {self.api_url} after {_times(attempt)} "
                            f"({_transport_failure(exc)})"
                        )
                    ) from None
                self._sleep(self._backoff(attempt))
                continue
            wait = self._retry_wait(method, label, response, attempt, last)
            if wait is None:
                return response
            self._sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _retry_wait(
        self, method: str, label: str, response: requests.Response, attempt: int, last: bool
    ) -> float | None:
        """How long to wait before trying again; None: ``response`` is the answer. Raises when
        the answer is an error, or retrying is pointless or over."""
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
        elif response.status_code >= 500 or response.status_code == 429:
            wait = self._backoff(attempt)
        elif response.status_code >= 400:
            raise self._error(label, response, "")
        elif _body_is_broken(response):
            if last or method not in REPEATABLE:
                raise GitHubError(self.redact(
                    f"{label}: the answer (HTTP {response.status_code}, "
                    f"{len(response.content):,} bytes) is not JSON: cut short "
                    f"(after {_times(attempt)})"))
            return self._backoff(attempt)
        else:
            return None
        if last:
            raise self._error(label, response, f" after {_times(attempt)}")
        return wait

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
            return _seconds_until(retry_after, self._clock())
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


def _seconds_until(retry_after: str, now: float) -> float | None:
    """``retry-after`` as seconds, or as an HTTP date (RFC 9110 allows both)."""
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now) if when.tzinfo is not None else None


def _times(attempt: int) -> str:
    return f"{attempt} attempt{'s' if attempt != 1 else ''}"


def _body_is_broken(response: requests.Response) -> bool:
    """Every successful answer gatekeeper asks for is JSON, except "204 No Content"."""
    if not 200 <= response.status_code < 300 or response.status_code == 204:
        return False
    try:
        response.json()
    except ValueError:
        return True
    return False


def _transport_failure(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return f"timed out: {type(exc).__name__}"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        return f"the connection closed in the middle of the answer: {type(exc).__name__}"
    return type(exc).__name__


def _json(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            f"{path}: GitHub answered HTTP {response.status_code} with "
            f"{len(response.content):,} bytes that are not JSON (cut short, or not the API)"
        ) from None
