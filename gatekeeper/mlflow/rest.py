"""A small REST client for an MLflow tracking server (``requests`` only; the ``mlflow`` package
is never imported). Shared by the MLflow registry backend and the MLflow run importer, so both
authenticate, retry and download artifacts the same way.

URI: ``mlflow+http://HOST:PORT[/prefix]`` or ``mlflow+https://...``. Auth from the environment:
``MLFLOW_TRACKING_TOKEN`` (Bearer), else ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``
(basic), else ``user:password@`` in the URI. ``uri`` (what messages show) never holds them.

Every request has explicit (connect, read) timeouts; connection errors, timeouts, an answer cut
off mid-body, 429 and 5xx are retried with exponential backoff (``Retry-After``, in seconds or
as an HTTP date, honoured up to 30 s) and then raise ``Unreachable`` naming the URI, the
endpoint and the last failure. A successful API answer that is not a JSON object (an empty body,
one cut short, or not an MLflow server at all) is retried the same way, never taken as a result.
Downloads go to a temporary file that replaces the target only when complete; a download cut off
part way is fetched again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from gatekeeper.errors import RegistryError
from gatekeeper.inputs.atomic import OutputError, atomic_stream

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
RETRY_STATUS = frozenset({429}) | frozenset(range(500, 600))
SCHEMES = ("mlflow+http://", "mlflow+https://")
MAX_RETRY_WAIT = 30.0
# What the transport can do wrong, all worth another attempt: no connection, no answer in time,
# an answer cut off mid-body (requests raises ChunkedEncodingError for a short body too).
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)


class MlflowApiError(RegistryError):
    """The server answered with an MLflow error (``error_code``)."""

    def __init__(self, message: str, error_code: str, status: int) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.error_code == "RESOURCE_DOES_NOT_EXIST" or (
            self.error_code == "INVALID_PARAMETER_VALUE" and "not found" in self.message.lower()
        )


class Unreachable(RegistryError):
    """Transport failures (connection, timeout, 429/5xx) after every retry."""


class DownloadLimitError(RegistryError):
    """Artifacts larger than the caller allows."""


def is_mlflow_uri(text: str) -> bool:
    return text.startswith(SCHEMES)


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative to the listed root, POSIX
    size: int | None  # as the server lists it


class MlflowRestClient:
    def __init__(
        self,
        uri: str,
        *,
        env: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        max_attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        label: str = "MLflow server",
    ) -> None:
        if not is_mlflow_uri(uri):
            raise RegistryError("an MLflow URI starts with mlflow+http:// or mlflow+https://")
        parts = urlsplit(uri[len("mlflow+"):])
        if not parts.hostname:
            raise RegistryError("the MLflow URI names no host")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        try:
            port = parts.port
        except ValueError as exc:
            raise RegistryError(f"the MLflow URI has an invalid port: {exc}") from exc
        if port is not None:
            netloc += f":{port}"
        self.base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.uri = f"mlflow+{self.base}"  # what messages show: never the credentials
        self.label = label
        environ = os.environ if env is None else env
        self._headers: dict[str, str] = {"Accept": "application/json"}
        self._auth: tuple[str, str] | None = None
        token = environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif environ.get("MLFLOW_TRACKING_USERNAME"):
            self._auth = (environ["MLFLOW_TRACKING_USERNAME"],
                          environ.get("MLFLOW_TRACKING_PASSWORD", ""))
        elif parts.username:
            self._auth = (parts.username, parts.password or "")
        self._session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock

    def __repr__(self) -> str:
        return f"MlflowRestClient({self.uri!r})"

    @property
    def where(self) -> str:
        """How messages name the server, e.g. ``MLflow registry mlflow+http://host:5000``."""
        return f"{self.label} {self.uri}"

    # -- transport ---------------------------------------------------------------------
    def request(
        self,
        method: str,
        url_path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        upload: Path | None = None,
        stream: bool = False,
        attempts: int | None = None,
        json_answer: bool = False,
    ) -> requests.Response:
        """One call, retried on transport failures, 429 and 5xx; with ``json_answer`` a success
        whose body is not a JSON object (an empty or cut-off body) is retried as well."""
        tries = attempts or self.max_attempts
        last = ""
        for attempt in range(tries):
            response, last, delay = self._attempt(method, url_path, params, body, upload, stream,
                                                  json_answer)
            if response is not None:
                return response
            if attempt + 1 < tries:
                self.sleep(self._wait(attempt, delay))
        raise Unreachable(
            f"{self.where} unreachable: {method} {url_path}: {last} "
            f"(after {tries} attempt{'s' if tries != 1 else ''})"
        )

    def _attempt(self, method: str, url_path: str, params: Mapping[str, Any] | None, body: Any,
                 upload: Path | None, stream: bool, json_answer: bool,
                 ) -> tuple[requests.Response | None, str, float | None]:
        """The answer worth returning, or None with what failed and the server's wait."""
        try:
            response = self._send(method, url_path, params, body, upload, stream)
        except TRANSPORT_ERRORS as exc:
            return None, self._transport_failure(exc), None
        if response.status_code in RETRY_STATUS:
            response.close()
            return None, f"HTTP {response.status_code}", retry_after(response, self.clock)
        if json_answer and response.ok and not _is_json_object(response):
            # An empty body or a cut-off one (a header block cut short reads as an empty
            # answer): never taken as a result.
            return None, (f"the answer (HTTP {response.status_code}, "
                          f"{len(response.content):,} bytes) is not a JSON object: cut short, "
                          "or not an MLflow server"), None
        return response, "", None

    def _send(self, method: str, url_path: str, params: Mapping[str, Any] | None, body: Any,
              upload: Path | None, stream: bool) -> requests.Response:
        if upload is None:
            return self._session.request(
                method, self.base + url_path, params=params, json=body,
                headers=self._headers, auth=self._auth, timeout=self.timeout, stream=stream,
            )
        with upload.open("rb") as fh:
            return self._session.request(
                method, self.base + url_path, params=params, data=fh,
                headers={**self._headers, "Content-Type": "application/octet-stream"},
                auth=self._auth, timeout=self.timeout,
            )

    def _wait(self, attempt: int, delay: float | None) -> float:
        """The server's ``Retry-After`` if it gave one, else exponential backoff; at most 30 s."""
        wait = self.backoff * (2 ** attempt) if delay is None else delay
        return min(MAX_RETRY_WAIT, wait)

    def _transport_failure(self, exc: Exception) -> str:
        """What went wrong, in words: the exception text repeats URLs and socket details."""
        timed_out = isinstance(exc, requests.Timeout) or any(
            isinstance(arg, ReadTimeoutError) for arg in exc.args)
        if timed_out:
            return f"timed out (connect {self.timeout[0]:g} s, read {self.timeout[1]:g} s)"
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError)):
            return "the connection closed in the middle of the answer"
        return "connection failed (is the server running and reachable?)"

    def api(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        """One call of the tracking API; an MLflow error answer raises ``MlflowApiError``."""
        response = self.request(method, f"{API}/{endpoint}", params=params, body=body,
                                attempts=attempts, json_answer=True)
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = None
        if response.ok and isinstance(payload, dict):
            return payload
        code = payload.get("error_code", "") if isinstance(payload, dict) else ""
        message = payload.get("message", "") if isinstance(payload, dict) else ""
        if not code:
            code = f"HTTP_{response.status_code}"
            message = message or response.reason or "unexpected response"
        message = str(message).splitlines()[0][:300] if message else ""
        raise MlflowApiError(f"{self.where}: {endpoint}: {code}: {message}", code,
                             response.status_code)

    # -- artifacts (through the server's artifact proxy) ---------------------------------
    def proxy_path(self, artifact_uri: str) -> str:
        """The proxy path of a run's ``mlflow-artifacts:/...`` root."""
        parts = urlsplit(artifact_uri)
        if parts.scheme != "mlflow-artifacts":
            raise RegistryError(
                f"{self.where}: run artifacts live at {artifact_uri!r}, not behind the "
                "artifact proxy; start the server with --serve-artifacts"
            )
        return parts.path.strip("/")

    def list_dir(self, remote: str) -> list[dict[str, Any]]:
        response = self.request("GET", ARTIFACTS_API, params={"path": remote}, json_answer=True)
        if not response.ok:
            raise RegistryError(f"{self.where}: cannot list artifacts {remote}: "
                                f"HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise RegistryError(f"{self.where}: listing artifacts {remote}: not JSON") from exc
        files = payload.get("files", []) if isinstance(payload, dict) else None
        if not isinstance(files, list):
            raise RegistryError(f"{self.where}: listing artifacts {remote}: unexpected answer")
        return [f for f in files if isinstance(f, dict)]

    def walk(self, remote: str, *, max_files: int) -> list[RemoteFile]:
        """Every file under ``remote``, sorted by path; more than ``max_files`` is refused."""
        found: list[RemoteFile] = []
        self._walk(remote, "", max_files, found)
        return sorted(found, key=lambda f: f.path)

    def _walk(self, remote: str, prefix: str, max_files: int, found: list[RemoteFile]) -> None:
        for entry in self.list_dir(f"{remote}/{prefix}".rstrip("/")):
            name = PurePosixPath(str(entry.get("path", ""))).name
            if name in {"", ".", ".."}:
                raise RegistryError(f"{self.where}: unsafe artifact name {entry.get('path')!r}")
            rel = f"{prefix}/{name}" if prefix else name
            if entry.get("is_dir"):
                self._walk(remote, rel, max_files, found)
                continue
            if len(found) >= max_files:
                raise RegistryError(f"{self.where}: more than {max_files:,} artifact files "
                                    f"under {remote}")
            raw = entry.get("file_size")
            size = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else None
            found.append(RemoteFile(rel, size))

    def download(self, remote: str, local: Path, *, max_bytes: int | None = None) -> int:
        """Stream one artifact to ``local``; returns its size. ``max_bytes`` is enforced while
        streaming: a listed ``file_size`` is only the server's claim. ``local`` appears only
        complete; a transfer cut off part way is started again (``max_attempts`` in all)."""
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(local.parent, exc) from exc
        url_path = f"{ARTIFACTS_API}/{quote(remote)}"
        last = ""
        for attempt in range(self.max_attempts):
            got = self.request("GET", url_path, stream=True)
            with got:
                if not got.ok:
                    raise RegistryError(f"{self.where}: cannot download {remote}: "
                                        f"HTTP {got.status_code}")
                try:
                    return self._stream_to(got, remote, local, max_bytes)
                except TRANSPORT_ERRORS as exc:
                    last = self._transport_failure(exc)
            if attempt + 1 < self.max_attempts:
                self.sleep(self._wait(attempt, None))
        raise Unreachable(
            f"{self.where} unreachable: downloading {remote}: {last} "
            f"(after {self.max_attempts} attempt{'s' if self.max_attempts != 1 else ''})"
        )

    def _stream_to(self, got: requests.Response, remote: str, local: Path,
                   max_bytes: int | None) -> int:
        written = 0
        with atomic_stream(local) as out:
            for chunk in got.iter_content(1 << 20):
                written += len(chunk)
                if max_bytes is not None and written > max_bytes:
                    raise DownloadLimitError(
                        f"{self.where}: downloading {remote} went over the download limit "
                        f"of {max_bytes:,} bytes")
                out.write(chunk)
        return written

    def download_tree(self, remote: str, local: Path, *, max_files: int,
                      max_bytes: int | None = None) -> list[tuple[str, int]]:
        """Download every file under ``remote`` into ``local``: ``(relative path, size)`` each.

        The listing is checked against ``max_bytes`` before any byte is fetched."""
        files = self.walk(remote, max_files=max_files)
        listed = sum(f.size or 0 for f in files)
        if max_bytes is not None and listed > max_bytes:
            raise DownloadLimitError(
                f"{self.where}: the artifacts under {remote} total {listed:,} bytes; the "
                f"download limit is {max_bytes:,} bytes")
        out: list[tuple[str, int]] = []
        left = max_bytes
        for item in files:
            size = self.download(f"{remote}/{item.path}",
                                 local.joinpath(*PurePosixPath(item.path).parts), max_bytes=left)
            if left is not None:
                left -= size
            out.append((item.path, size))
        return out


def _is_json_object(response: requests.Response) -> bool:
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def retry_after(response: requests.Response,
                clock: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asks to wait: ``Retry-After`` as seconds or as an HTTP date."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, when.timestamp() - clock())
