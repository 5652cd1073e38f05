#!/usr/bin/env bash
# Wall time of the GitHub Action's install step on this machine, cold and warm.
#
#     bash bench/action_setup.sh [--runs N]
#
# Runs the step's own script, taken from action.yml ("Install gatekeeper into its own venv"),
# so the figures follow any change to it: a fresh venv, the dependencies from
# requirements/action.lock with --require-hashes, then gatekeeper from this folder with
# --no-deps. "cold" starts with no cached wheels and an empty pip cache (a runner's first run
# for a lock: the step downloads the lock's wheels); "warm" has the wheels the cold run
# downloaded, as actions/cache restores them on later runs. Each run gets a new venv. The machine's own pip configuration (local indexes, find-links) is set
# aside so that pip reads from the package index as a runner does.
#
# Needs: python3 with pip >= 22.3 (the action's `pip --python`), PyYAML in the python that
# runs this script (the project's venv has it), and the package index.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

runs=1
if [ "${1:-}" = "--runs" ]; then runs="$2"; fi
setup_python="${SETUP_PYTHON:-$(command -v python3)}"  # what actions/setup-python provides

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python - "$root/action.yml" > "$work/install.sh" <<'EOF'
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    steps = yaml.safe_load(f)["runs"]["steps"]
[step] = [s for s in steps if s.get("name") == "Install gatekeeper into its own venv"]
print(step["run"])
EOF

# A runner's environment, not this machine's pip set-up.
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_NO_INDEX
export PIP_DISABLE_PIP_VERSION_CHECK=1
export GATEKEEPER_PYTHON="$setup_python"
export GITHUB_ACTION_PATH="$root"

now() { date +%s.%N; }

# run_step LABEL WHEELS NOTE: one install into a fresh RUNNER_TEMP, timed. WHEELS is the wheel
# folder actions/cache would restore, or "" for a cache miss; the step's wheels are kept in
# $work/wheels for the next run.
run_step() {
  local label="$1" wheels="$2" note="$3" temp g0 g1 hit=false
  temp="$(mktemp -d "$work/runner-temp.XXXX")"
  if [ -n "$wheels" ]; then cp -r "$wheels" "$temp/gatekeeper-wheels"; hit=true; fi
  # bash's `time`: wall, then user and system CPU of the step and its children. On a busy
  # machine the wall time grows while the CPU time stays put, so both are shown.
  local TIMEFORMAT="%R %U %S" times
  if ! times=$( { time RUNNER_TEMP="$temp" GITHUB_PATH="$temp/github_path" WHEELS_CACHED="$hit" \
      PIP_CACHE_DIR="$(mktemp -d "$work/pip-cache.XXXX")" \
      bash -e "$work/install.sh" > "$work/step.log" 2>&1 ; } 2>&1 ); then
    cat "$work/step.log" >&2
    echo "the install step failed" >&2
    exit 1
  fi
  echo "$times" | awk -v l="$label" -v n="$note" \
    '{ printf "%s: %.2f s wall, %.2f s CPU  (%s)\n", l, $1, $2 + $3, n }'
  # Untimed: the step left a working, complete environment.
  "$temp/gatekeeper-bin/gatekeeper" --version > /dev/null
  "$setup_python" -m pip --python "$temp/gatekeeper-venv/bin/python" check > /dev/null
  # Informative: the first gate run in a fresh venv also compiles the modules it imports.
  g0="$(now)"
  "$temp/gatekeeper-bin/gatekeeper" check examples/bundles/pass \
    --policy policies/default.yaml --as-of 2026-11-26 > /dev/null
  g1="$(now)"
  awk -v a="$g0" -v b="$g1" 'BEGIN { printf "      then the first gate run: %.2f s\n", b - a }'
  rm -rf "$work/wheels"
  mv "$temp/gatekeeper-wheels" "$work/wheels"
  rm -rf "$temp"
}

echo "setup python: $("$setup_python" --version) ($setup_python), pip $("$setup_python" -m pip --version | cut -d' ' -f2)"
if [ -r /proc/loadavg ]; then echo "load average before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"; fi
echo "lock: requirements/action.lock, $(grep -c '^[A-Za-z0-9]' requirements/action.lock) pins"
# floor: what any installer must do on a warm run, unpack the cached wheels into a folder
# (Python's zipfile, one process), measured on the wheels the last cold run downloaded.
floor() {
  local dest t0 t1
  dest="$(mktemp -d "$work/floor.XXXX")"
  t0="$(now)"
  "$setup_python" - "$work/wheels" "$dest" <<'PY'
import sys
import zipfile
from pathlib import Path

for wheel in sorted(Path(sys.argv[1]).glob("*.whl")):
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(sys.argv[2])
PY
  t1="$(now)"
  rm -rf "$dest"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

for i in $(seq "$runs"); do
  run_step cold "" "no cached wheels, empty pip cache: downloads the lock's wheels"
  warm_line="$(run_step warm "$work/wheels" "the wheels the cold run downloaded, as actions/cache restores them")"
  echo "$warm_line"
  warm_s="$(echo "$warm_line" | head -1 | awk '{ print $2 }')"
  floor_s="$(floor)"
  awk -v w="$warm_s" -v f="$floor_s" 'BEGIN {
    printf "floor (unpack the cached wheels, zipfile): %.2f s wall; warm / floor = %.2fx; ", f, w / f
    printf "warm target 5 s: %s\n", (w <= 5 ? "met" : "not met") }'
  if [ "$runs" -gt 1 ]; then echo "-- run $i of $runs"; fi
done
