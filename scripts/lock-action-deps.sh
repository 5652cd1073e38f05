#!/usr/bin/env bash
# Regenerates requirements/action.lock, the hash-pinned environment the GitHub Action installs
# (pip install --require-hashes --no-deps -r requirements/action.lock).
#
# The lock is universal: one file covers every Python the action's python-version input may
# name (>= 3.10, the project's requires-python) and every runner OS, with a hash for each wheel
# and sdist of each pinned version. Its inputs are pyproject.toml's [project].dependencies and
# requirements/action.in (the build backend). Review the diff like code before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION="0.13.9"  # the resolver is pinned too, so two runs on one day give the same file
tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT
python3 -m venv "$tool/venv"
"$tool/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"

"$tool/venv/bin/uv" pip compile pyproject.toml requirements/action.in \
  --universal --python-version 3.10 --generate-hashes \
  --custom-compile-command "bash scripts/lock-action-deps.sh" \
  --output-file requirements/action.lock "$@"
