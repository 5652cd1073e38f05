"""GitHub's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body``; compared in constant time, so a forger
    learns nothing from how long a wrong guess takes."""
    if not secret or not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.encode())
