"""Authenticating as the App: a short-lived RS256 JWT for the App's own endpoints, and per
installation an access token (cached until shortly before it expires) for everything else.

Shapes GitHub asks for: ``iss`` the App id, ``iat`` 60 s in the past (clock drift), ``exp`` at
most 10 minutes after now. Repository calls never carry the JWT.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
import requests

from gatekeeper.errors import GitHubError
from gatekeeper.github.client import GitHubClient

JWT_BACKDATE = 60
JWT_LIFETIME = 540  # 9 minutes: under GitHub's 10, with room for a slow clock
# A token is replaced this long before it expires, so no request starts with one about to lapse.
TOKEN_MARGIN = 300


def app_jwt(app_id: int, private_key: str, now: float) -> str:
    payload = {"iat": int(now) - JWT_BACKDATE, "exp": int(now) + JWT_LIFETIME, "iss": str(app_id)}
    return jwt.encode(payload, private_key, algorithm="RS256")


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class AppAuth:
    """The App's credentials and its installation-token cache (shared by a process's threads).

    ``client_factory(token, session)`` builds a GitHub client for a token; the clock is injectable.
    """

    def __init__(self, app_id: int, private_key: str,
                 client_factory: Callable[[str, requests.Session | None], GitHubClient],
                 clock: Callable[[], float] = time.time) -> None:
        self.app_id = app_id
        self._key = private_key
        self._client_for = client_factory
        self._clock = clock
        self._tokens: dict[int, _Token] = {}
        self._lock = threading.Lock()
        self._slug: str | None = None

    def __repr__(self) -> str:  # never the key or a token
        return f"AppAuth(app_id={self.app_id})"

    def app_client(self) -> GitHubClient:
        return self._client_for(app_jwt(self.app_id, self._key, self._clock()), None)

    def bot_login(self) -> str:
        """The login the App comments as: ``<slug>[bot]`` (``GET /app``, asked once)."""
        if self._slug is None:
            data = self.app_client().get_json("/app")
            slug = data.get("slug") if isinstance(data, dict) else None
            if not isinstance(slug, str) or not slug:
                raise GitHubError("GET /app: the answer names no slug")
            self._slug = slug
        return f"{self._slug}[bot]"

    def installation_id(self, repo: str, from_payload: int | None) -> int:
        """The payload's ``installation.id``, else ``GET /repos/{repo}/installation``."""
        if from_payload is not None:
            return from_payload
        data = self.app_client().get_json(f"/repos/{repo}/installation")
        found = data.get("id") if isinstance(data, dict) else None
        if not isinstance(found, int):
            raise GitHubError(f"GET /repos/{repo}/installation: the answer has no id")
        return found

    def installation_client(self, installation_id: int,
                            session: requests.Session | None = None) -> GitHubClient:
        return self._client_for(self.installation_token(installation_id), session)

    def installation_token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._tokens.get(installation_id)
        if cached is not None and cached.expires_at - TOKEN_MARGIN > self._clock():
            return cached.value
        path = f"/app/installations/{installation_id}/access_tokens"
        data = self.app_client().request("POST", path).json()
        token, expires = (data.get("token"), data.get("expires_at")) if isinstance(
            data, dict) else (None, None)
        if not isinstance(token, str) or not isinstance(expires, str):
            raise GitHubError(f"POST {path}: the answer has no token or expiry")
        fresh = _Token(token, datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp())
        with self._lock:
            self._tokens[installation_id] = fresh
        return token
