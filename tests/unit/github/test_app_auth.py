"""The App's credentials against the local GitHub: the JWT's shape, the installation token
cache, and the comment clean-up that keeps one comment when two replicas raced."""

from __future__ import annotations

import time
from dataclasses import replace

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_github import TOKEN, AppIdentity, FakeGitHub

from gatekeeper.app import publish
from gatekeeper.app.auth import AppAuth, app_jwt
from gatekeeper.app.publish import upsert_sticky
from gatekeeper.github.client import GitHubClient
from gatekeeper.github.comment import CommentResult
from gatekeeper.report.comment import marker

APP_ID = 31
REPO = "octo-org/octo-repo"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make_auth(github: FakeGitHub, keys: tuple[str, str], clock: Clock) -> AppAuth:
    github.app = AppIdentity(APP_ID, "gk", keys[1])
    github.installations[REPO] = 5

    def client_for(token: str, session: requests.Session | None) -> GitHubClient:
        return GitHubClient(github.api_url, token, session, max_attempts=1)

    return AppAuth(APP_ID, keys[0], client_for, clock)


def test_the_jwt_follows_githubs_rules(keys: tuple[str, str]) -> None:
    now = 1_800_000_000.0
    claims = jwt.decode(app_jwt(APP_ID, keys[0], now), keys[1], algorithms=["RS256"],
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["iss"] == str(APP_ID)
    assert claims["iat"] == now - 60 and 0 < claims["exp"] - now <= 600
    assert jwt.get_unverified_header(app_jwt(APP_ID, keys[0], now))["alg"] == "RS256"


def test_installation_tokens_are_cached_until_near_expiry(
        github: FakeGitHub, keys: tuple[str, str]) -> None:
    clock = Clock()
    auth = make_auth(github, keys, clock)
    assert auth.installation_id(REPO, None) == 5
    assert auth.installation_id(REPO, 9) == 9  # the payload's id: no request
    assert len(github.requests("GET", f"/repos/{REPO}/installation")) == 1
    assert auth.installation_token(5) == TOKEN
    assert auth.installation_token(5) == TOKEN
    tokens = r"/app/installations/5/access_tokens"
    assert len(github.requests("POST", tokens)) == 1
    # within the margin before its expiry, the token is replaced
    auth._tokens[5] = replace(auth._tokens[5], expires_at=clock.now + 200)
    auth.installation_token(5)
    assert len(github.requests("POST", tokens)) == 2
    assert auth.bot_login() == "gk[bot]" and auth.bot_login() == "gk[bot]"
    assert len(github.requests("GET", "/app")) == 1
    assert "BEGIN" not in repr(auth)


def test_two_replicas_that_both_created_a_comment_end_with_one(
        github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replica B posted its comment after replica A looked and found none; A posts too, then
    its clean-up keeps the oldest (B's) with A's report, and deletes A's own."""
    bot = {"login": "gk[bot]", "id": 7, "type": "Bot"}
    github.comment_user = bot
    github.add_comments(2, ["a human's comment"], user={"login": "ann", "id": 1, "type": "User"})
    github.add_comments(2, [f"{marker('default')}\nB's report"], user=bot)
    client = GitHubClient(github.api_url, TOKEN, max_attempts=1)

    def a_posts_blind(client: GitHubClient, repo: str, pr: int, policy_name: str,
                      markdown: str, author: str) -> CommentResult:
        data = client.request("POST", f"/repos/{repo}/issues/{pr}/comments",
                              json={"body": f"{marker(policy_name)}\n{markdown}"}).json()
        return CommentResult("created", data["id"], data["html_url"])

    monkeypatch.setattr(publish, "upsert_comment", a_posts_blind)
    assert upsert_sticky(client, REPO, 2, "default", "A's report", "gk[bot]") == \
        "comment-created"
    mine = [c for c in github.comments[2] if c["user"]["login"] == "gk[bot]"]
    assert len(mine) == 1 and mine[0]["body"].endswith("A's report")
    assert mine[0]["id"] < github.next_id  # the older comment survived
    assert len(github.comments[2]) == 2  # the human's comment untouched
    assert len(github.requests("DELETE")) == 1


def test_one_comment_is_left_alone(github: FakeGitHub) -> None:
    github.comment_user = {"login": "gk[bot]", "id": 7, "type": "Bot"}
    client = GitHubClient(github.api_url, TOKEN, max_attempts=1)
    for _ in range(2):
        upsert_sticky(client, REPO, 2, "default", "report", "gk[bot]")
    assert len(github.comments[2]) == 1 and github.requests("DELETE") == []
