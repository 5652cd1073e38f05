"""The service's settings, read once from an environ mapping (``gatekeeper serve`` sets the
variables from its flags, so the gunicorn workers read the same)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.errors import InputError
from gatekeeper.repo.git import repo_path

DEFAULT_POLICY = "policies/default.yaml"
DEFAULT_ARTIFACT = "gatekeeper-bundle"
DEFAULT_WORKFLOW = "evidence.yml"
DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class AppConfig:
    app_id: int
    private_key: str = field(repr=False)
    webhook_secret: bytes = field(repr=False)
    policy: str = DEFAULT_POLICY
    artifact: str = DEFAULT_ARTIFACT
    workflow: str = DEFAULT_WORKFLOW
    api_url: str = DEFAULT_API_URL
    check_name: str = "gatekeeper"
    queue_size: int = 64  # deliveries waiting; one more is answered 503
    threads: int = 2  # evaluations at once, per process
    github_attempts: int = 5  # per GitHub request, with backoff 1, 2, 4, ... s
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)  # for the limits

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AppConfig:
        key_file = _required(environ, "GATEKEEPER_APP_PRIVATE_KEY_FILE")
        try:
            key = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"GATEKEEPER_APP_PRIVATE_KEY_FILE {key_file}: cannot read the "
                             f"App's private key ({type(exc).__name__})") from None
        if "PRIVATE KEY" not in key:
            raise InputError(f"GATEKEEPER_APP_PRIVATE_KEY_FILE {key_file}: not a PEM key")
        policy = environ.get("GATEKEEPER_POLICY") or DEFAULT_POLICY
        repo_path(policy)  # relative to the repository root, or an InputError saying so
        return cls(
            app_id=_int(environ, "GATEKEEPER_APP_ID", None),
            private_key=key,
            webhook_secret=_required(environ, "GATEKEEPER_WEBHOOK_SECRET").encode("utf-8"),
            policy=policy,
            artifact=environ.get("GATEKEEPER_ARTIFACT") or DEFAULT_ARTIFACT,
            workflow=environ.get("GATEKEEPER_WORKFLOW") or DEFAULT_WORKFLOW,
            api_url=(environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            check_name=environ.get("GATEKEEPER_CHECK_NAME") or "gatekeeper",
            queue_size=_int(environ, "GATEKEEPER_QUEUE_SIZE", 64),
            threads=_int(environ, "GATEKEEPER_THREADS", 2),
            github_attempts=_int(environ, "GATEKEEPER_GITHUB_ATTEMPTS", 5),
            environ={k: v for k, v in environ.items() if k.startswith("GATEKEEPER_MAX_")},
        )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise InputError(f"{name} is not set (or pass its flag to `gatekeeper serve`)")
    return value


def _int(environ: Mapping[str, str], name: str, default: int | None) -> int:
    raw = environ.get(name)
    if not raw:
        if default is None:
            raise InputError(f"{name} is not set (or pass its flag to `gatekeeper serve`)")
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InputError(f"{name} must be a whole number (at least 1), got {raw[:40]!r}")
    return int(raw)
