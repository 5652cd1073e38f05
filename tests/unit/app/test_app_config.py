"""Settings from an environ mapping; `gatekeeper serve` refuses a bad one before listening."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.app.config import AppConfig
from gatekeeper.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
PEM = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    key = tmp_path / "app.pem"
    key.write_text(PEM, encoding="utf-8")
    return {"GATEKEEPER_APP_ID": "12", "GATEKEEPER_APP_PRIVATE_KEY_FILE": str(key),
            "GATEKEEPER_WEBHOOK_SECRET": "hunter2-webhook", **extra}


def test_defaults(tmp_path: Path) -> None:
    config = AppConfig.from_environ(environ(tmp_path))
    assert (config.app_id, config.policy, config.artifact, config.workflow, config.api_url) == (
        12, "policies/default.yaml", "gatekeeper-bundle", "evidence.yml",
        "https://api.github.com")
    assert "hunter2" not in repr(config) and "PRIVATE" not in repr(config)


def test_only_limits_are_kept_from_the_environment(tmp_path: Path) -> None:
    config = AppConfig.from_environ(environ(tmp_path, GATEKEEPER_MAX_ARTIFACT_BYTES="9",
                                            GITHUB_API_URL="https://ghe.example/api/v3/"))
    assert config.environ == {"GATEKEEPER_MAX_ARTIFACT_BYTES": "9"}
    assert config.api_url == "https://ghe.example/api/v3"


@pytest.mark.parametrize("change, message", [
    ({"GATEKEEPER_APP_ID": ""}, "GATEKEEPER_APP_ID is not set"),
    ({"GATEKEEPER_APP_ID": "twelve"}, "GATEKEEPER_APP_ID must be a whole number"),
    ({"GATEKEEPER_WEBHOOK_SECRET": ""}, "GATEKEEPER_WEBHOOK_SECRET is not set"),
    ({"GATEKEEPER_APP_PRIVATE_KEY_FILE": "/nonexistent.pem"}, "cannot read"),
    ({"GATEKEEPER_POLICY": "../outside.yaml"}, "relative to the repository root"),
    ({"GATEKEEPER_QUEUE_SIZE": "0"}, "GATEKEEPER_QUEUE_SIZE"),
])
def test_bad_settings(tmp_path: Path, change: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        AppConfig.from_environ({**environ(tmp_path), **change})


def test_not_a_pem(tmp_path: Path) -> None:
    env = environ(tmp_path)
    Path(env["GATEKEEPER_APP_PRIVATE_KEY_FILE"]).write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a PEM key"):
        AppConfig.from_environ(env)


def test_serve_with_a_bad_setting_exits_2_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in environ(tmp_path).items() if k != "GATEKEEPER_WEBHOOK_SECRET"}
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "serve", "--port", "1", "--app-id", "x"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "GATEKEEPER_APP_ID" in done.stderr
    assert "Traceback" not in done.stderr


# `gatekeeper serve` run where the `app` extra is not installed: a finder refuses gunicorn.
WITHOUT_GUNICORN = """
import sys
from importlib.abc import MetaPathFinder

class NoGunicorn(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "gunicorn" or name.startswith("gunicorn."):
            raise ModuleNotFoundError(name)
        return None

sys.meta_path.insert(0, NoGunicorn())
from gatekeeper.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_serve_without_the_app_extra_says_how_to_install_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_GUNICORN, "serve", "--port", "1"],
        cwd=ROOT, env={**os.environ, **environ(tmp_path)}, capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "missing: gunicorn" in done.stderr
    assert "pip install 'gatekeeper-gate[app]'" in done.stderr
