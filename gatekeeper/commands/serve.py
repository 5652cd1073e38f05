"""`gatekeeper serve`: the GitHub App's webhook service under gunicorn (docs/app.md).

Every setting is an environment variable with a flag of the same meaning; the flags are turned
into the variables, checked once here (a bad setting is exit 2 before anything listens), and
gunicorn's workers read them in ``gatekeeper.app.wsgi:create_app()``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any

from gatekeeper.errors import InputError

# flag → environment variable
SETTINGS = (
    ("app_id", "GATEKEEPER_APP_ID", "the App's id (a number)"),
    ("private_key_file", "GATEKEEPER_APP_PRIVATE_KEY_FILE", "the App's private key (PEM file)"),
    ("webhook_secret", "GATEKEEPER_WEBHOOK_SECRET",
     "the webhook secret (prefer the variable: a flag shows in the process list)"),
    ("policy", "GATEKEEPER_POLICY", "policy path in the repository, read at the PR's base "
                                    "commit (default: policies/default.yaml)"),
    ("artifact", "GATEKEEPER_ARTIFACT", "name of the bundle artifact (default: "
                                        "gatekeeper-bundle)"),
    ("workflow", "GATEKEEPER_WORKFLOW", "file name of the evidence workflow (default: "
                                        "evidence.yml)"),
    ("api_url", "GITHUB_API_URL", "GitHub's REST API (default: https://api.github.com; "
                                  "GHES: https://HOST/api/v3)"),
)
# A webhook is answered in milliseconds (the work is queued), so a request that takes 30 s is
# a stuck client; evaluations run on each worker's own threads, outside this timeout.
TIMEOUT = 30


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the GitHub App's webhook service (gunicorn)",
                       description="Serve /webhook, /healthz and /readyz with gunicorn. "
                                   "Each setting is also read from the variable named.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1; "
                                                       "0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    p.add_argument("--workers", type=int, default=2,
                   help="gunicorn worker processes (default: 2)")
    p.add_argument("--threads", type=int, default=4,
                   help="request threads per worker (default: 4)")
    for dest, env, text in SETTINGS:
        p.add_argument("--" + dest.replace("_", "-"), dest=dest, default=None,
                       help=f"{text}; ${env}")
    p.set_defaults(run=run)


def gunicorn_argv(args: argparse.Namespace) -> list[str]:
    return [sys.executable, "-m", "gunicorn",
            "--bind", f"{args.host}:{args.port}",
            "--workers", str(args.workers),
            "--worker-class", "gthread", "--threads", str(args.threads),
            "--timeout", str(TIMEOUT), "--graceful-timeout", str(TIMEOUT),
            "--keep-alive", "5",
            # gunicorn >= 25.1 opens a control socket in $HOME by default: replicas on one host
            # would share it, and the container's user has no home to write to
            "--no-control-socket",
            "gatekeeper.app.wsgi:create_app()"]


# The `app` extra's modules: without them gunicorn's workers would each die on an import error.
APP_EXTRA = ("gunicorn", "jwt", "cryptography")


def _require_the_app_extra() -> None:
    missing = [name for name in APP_EXTRA if not _importable(name)]
    if missing:
        raise InputError(f"gatekeeper serve needs the `app` extra (gunicorn, PyJWT, "
                         f"cryptography; missing: {', '.join(missing)}): "
                         "pip install 'gatekeeper-gate[app]'")


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a module that refuses itself
        return False


def run(args: argparse.Namespace) -> int:
    # lazy: the App (PyJWT, the gate) stays off `gatekeeper --help`, which imports every command
    from gatekeeper.app.config import AppConfig

    environ = dict(os.environ)
    for dest, env, _text in SETTINGS:
        value = getattr(args, dest)
        if value is not None:
            environ[env] = str(value)
    config = AppConfig.from_environ(environ)  # exit 2 now, not in every worker
    _require_the_app_extra()
    print(f"gatekeeper: serving App {config.app_id} on http://{args.host}:{args.port}/webhook "
          f"(workflow {config.workflow}, artifact {config.artifact}, policy {config.policy})",
          file=sys.stderr, flush=True)
    argv = gunicorn_argv(args)
    os.execve(argv[0], argv, environ)  # gunicorn takes over this process (and its signals)
    return 0  # pragma: no cover - execve does not return
