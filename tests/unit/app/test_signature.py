"""X-Hub-Signature-256, and the forgeries that must not pass."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gatekeeper.app.signature import sign, verify

SECRET = b"s3cret"
BODY = b'{"action":"completed"}'


def test_githubs_own_example() -> None:
    """docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody",
    payload "Hello, World!"."""
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(b"It's a Secret to Everybody", b"Hello, World!") == expected
    assert verify(b"It's a Secret to Everybody", b"Hello, World!", expected)


FORGED = {
    "missing": None,
    "empty": "",
    "another body": sign(SECRET, BODY + b" "),
    "another secret": sign(b"guess", BODY),
    "sha1 header form": "sha1=" + hmac.new(SECRET, BODY, hashlib.sha1).hexdigest(),
    "no prefix": sign(SECRET, BODY)[len("sha256="):],
    "upper case": sign(SECRET, BODY).upper(),
    "truncated": sign(SECRET, BODY)[:-2],
}


@pytest.mark.parametrize("header", FORGED.values(), ids=FORGED.keys())
def test_forgeries_fail(header: str | None) -> None:
    assert not verify(SECRET, BODY, header)


def test_no_secret_verifies_nothing() -> None:
    assert not verify(b"", BODY, sign(b"", BODY))
