"""The repository files the gate trusts, read at the base commit's sha through the contents
API: the policy (and every file it ``extends``) and a file registry's entry for the model.

The pull request cannot edit what gates it: the base is named by its sha, so a push to the
base branch during the evaluation changes nothing, and the head commit's copy of the policy is
read only to diff it against the base's (a PR that edits its policy needs a version bump, and an
approver's review for a loosening, as in the Action).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from gatekeeper.app import limits
from gatekeeper.errors import GitHubError, InputError, Location, PolicyError
from gatekeeper.github.client import GitHubAPIError, GitHubClient
from gatekeeper.policy.source import materialize
from gatekeeper.registry.file import model_folder
from gatekeeper.repo.git import repo_path


class RepoReader:
    """Files of ``repo`` at ``sha``, counted against ``GATEKEEPER_MAX_REPO_FILES``."""

    def __init__(self, client: GitHubClient, repo: str, sha: str,
                 environ: Mapping[str, str] | None = None) -> None:
        self.client, self.repo, self.sha = client, repo, sha
        self._environ = environ
        self._count = 0

    def _get(self, rel: str) -> object | None:
        self._count += 1
        limits.REPO_FILES.check(self._count, f"more than {self._count - 1:,} files to read",
                                Location(f"{rel}@{self.sha[:12]}"), environ=self._environ)
        path = f"/repos/{self.repo}/contents/{quote(repo_path(rel), safe='/')}"
        try:
            return self.client.get_json(path, {"ref": self.sha})
        except GitHubAPIError as exc:
            if exc.status == 404:
                return None
            raise

    def read_bytes(self, rel: str) -> bytes | None:
        data = self._get(rel)
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("type") != "file":
            raise GitHubError(f"{rel} at {self.sha[:12]} is not a file")
        if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
            raise GitHubError(f"{rel} at {self.sha[:12]}: no base64 content (over 1 MB?)")
        try:
            return base64.b64decode(data["content"])
        except binascii.Error:
            raise GitHubError(f"{rel} at {self.sha[:12]}: content is not base64") from None

    def read_text(self, rel: str) -> str | None:
        raw = self.read_bytes(rel)
        try:
            return None if raw is None else raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", Location(f"{rel}@{self.sha[:12]}")) from None

    def mirror(self, rel: str, dest: Path) -> None:
        """Copy the folder ``rel`` (recursively) to ``dest``; nothing when it does not exist."""
        listing = self._get(rel)
        if not isinstance(listing, list):
            return
        for item in listing:
            name, kind = item.get("name"), item.get("type")
            if not isinstance(name, str) or name in ("", ".", "..") or "/" in name:
                raise GitHubError(f"{rel} at {self.sha[:12]}: a strange entry {name!r}")
            child = f"{rel}/{name}"
            if kind == "dir":
                self.mirror(child, dest / name)
            elif kind == "file":
                data = self.read_bytes(child)
                if data is not None:
                    dest.mkdir(parents=True, exist_ok=True)
                    (dest / name).write_bytes(data)
            # symlinks and submodules are not part of a registry entry: skipped


def read_policy(reader: RepoReader, policy_rel: str, root: Path) -> Path:
    """The policy and its ``extends`` chain at the base, under ``root`` as in the repository."""
    found = materialize(repo_path(policy_rel), reader.read_text, root)
    if found is None:
        raise PolicyError(f"the base commit {reader.sha[:12]} has no policy at {policy_rel} "
                          "(GATEKEEPER_POLICY)")
    return found


def read_head_policy(reader: RepoReader, policy_rel: str, root: Path) -> Path:
    """The PR head's copy of the policy chain under ``root``, only to diff it against the
    base's: it never gates. A chain the head broke is copied as far as it goes (the gate
    reports the head's version as not loading); a policy the head deleted is simply absent."""
    rel = repo_path(policy_rel)
    with contextlib.suppress(InputError):
        materialize(rel, reader.read_text, root)
    return root.joinpath(*PurePosixPath(rel).parts)


def read_file_registry(reader: RepoReader, registry_rel: str, model: str, root: Path) -> Path:
    """The registry's entry for ``model`` at the base (its index and every version an alias
    names) under ``root``; returns the registry folder there."""
    rel = repo_path(registry_rel)
    registry = root.joinpath(*PurePosixPath(rel).parts)
    folder = f"{rel}/{model_folder(model)}"
    index_text = reader.read_text(f"{folder}/index.json")
    target = registry / model_folder(model)
    target.mkdir(parents=True, exist_ok=True)
    if index_text is None:
        return registry  # no entry: the policy's baseline.on_missing decides
    (target / "index.json").write_text(index_text, encoding="utf-8")
    try:
        aliases = json.loads(index_text).get("aliases") or {}
    except (ValueError, AttributeError):
        return registry  # the registry backend reports a broken index with its location
    for version in sorted({str(v) for v in aliases.values()}):
        reader.mirror(f"{folder}/versions/{version}", target / "versions" / version)
    return registry
