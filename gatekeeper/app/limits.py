"""The limits on what the App downloads and unpacks: a workflow run's artifact is written by
the pull request's own code, so its zip is hostile input (a bomb, an escaping or linked entry).
"""

from __future__ import annotations

from gatekeeper.inputs.limits import GIB, MIB, Limit

ARTIFACT_BYTES = Limit(
    "GATEKEEPER_MAX_ARTIFACT_BYTES", 512 * MIB, "bytes",
    "size of the bundle artifact's zip as downloaded by `gatekeeper serve`")
UNPACKED_BYTES = Limit(
    "GATEKEEPER_MAX_UNPACKED_BYTES", 2 * GIB, "bytes",
    "total size of the bundle artifact once unpacked")
ARCHIVE_ENTRIES = Limit(
    "GATEKEEPER_MAX_ARCHIVE_ENTRIES", 100_000, "entries",
    "entries (files and folders) in the bundle artifact's zip")
COMPRESSION_RATIO = Limit(
    "GATEKEEPER_MAX_COMPRESSION_RATIO", 200, "times",
    "how many times larger an entry of the artifact's zip may be unpacked than packed "
    "(a zip bomb is thousands)")
REPO_FILES = Limit(
    "GATEKEEPER_MAX_REPO_FILES", 2_000, "files",
    "files read through the contents API for one evaluation (policy chain and registry entry)")

ALL: tuple[Limit, ...] = (ARTIFACT_BYTES, UNPACKED_BYTES, ARCHIVE_ENTRIES, COMPRESSION_RATIO,
                          REPO_FILES)
