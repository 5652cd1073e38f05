"""Files and workflow commands of the GitHub Actions runner: step outputs, the job summary,
annotations and masks. Functions return command strings; the CLI prints them.

The outputs and summary files are appended to, each block in one write that is cut back if it
fails part way (``gatekeeper.inputs.atomic.append_block``): the runner never reads half a
heredoc. A failure is a ``GitHubError`` naming the file, which publishing reports as a warning.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import GitHubError
from gatekeeper.inputs.atomic import OutputError, append_block, file_size

SUMMARY_LIMIT = 1024 * 1024  # bytes per step, enforced by the runner
SUMMARY_NOTE = (
    "\n\n> **Summary truncated**: GitHub keeps at most 1 MiB of job summary per step. "
    "The full report is in the uploaded artifact.\n"
)
ANNOTATION_LEVELS = frozenset({"error", "warning", "notice"})
_OUTPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MAX_DELIMITER_TRIES = 100


def _random_delimiter() -> str:
    return f"ghadelimiter_{secrets.token_hex(16)}"


def write_outputs(
    path: Path,
    mapping: Mapping[str, str],
    *,
    delimiter_factory: Callable[[], str] = _random_delimiter,
) -> None:
    """Append ``name<<DELIM`` heredocs to the ``$GITHUB_OUTPUT`` file.

    A fixed delimiter would let a value that contains it inject further outputs, so each value
    gets a fresh random one that is checked not to occur in it.
    """
    chunks: list[str] = []
    for name, value in mapping.items():
        if not _OUTPUT_NAME_RE.fullmatch(name):
            raise GitHubError(f"invalid step output name {name!r}")
        text = str(value)
        for _ in range(_MAX_DELIMITER_TRIES):
            delimiter = delimiter_factory()
            if delimiter not in text and delimiter not in name:
                break
        else:
            raise GitHubError(f"could not find a heredoc delimiter for output {name!r}")
        chunks.append(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")
    try:
        append_block(path, "".join(chunks))
    except OutputError as exc:
        raise GitHubError(f"step outputs ($GITHUB_OUTPUT): {exc}") from exc


def append_summary(path: Path, markdown: str, *, limit: int = SUMMARY_LIMIT) -> bool:
    """Append ``markdown`` to the job summary file, keeping the file within ``limit`` bytes.

    Returns True when the markdown had to be truncated.
    """
    try:
        existing = file_size(path)
    except OutputError as exc:
        raise GitHubError(f"job summary ($GITHUB_STEP_SUMMARY): {exc}") from exc
    data = markdown.encode("utf-8")
    if not data.endswith(b"\n"):
        data += b"\n"
    truncated = existing + len(data) > limit
    if truncated:
        note = SUMMARY_NOTE.encode("utf-8")
        room = max(0, limit - existing - len(note))
        # errors="ignore" drops a multi-byte character split by the cut.
        data = data[:room].decode("utf-8", errors="ignore").encode("utf-8") + note
        if existing + len(data) > limit:
            data = b""
    try:
        append_block(path, data)
    except OutputError as exc:
        raise GitHubError(f"job summary ($GITHUB_STEP_SUMMARY): {exc}") from exc
    return truncated


@dataclass(frozen=True)
class Annotation:
    """One workflow annotation (also used for check-run annotations)."""

    level: str
    message: str
    file: str | None = None
    line: int | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        if self.level not in ANNOTATION_LEVELS:
            raise ValueError(f"annotation level must be one of {sorted(ANNOTATION_LEVELS)}")
        if self.line is not None and self.line < 1:
            raise ValueError("annotation line must be >= 1")


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_annotation(annotation: Annotation) -> str:
    """``::error file=...,line=...,title=...::message`` with the runner's escaping."""
    props: list[str] = []
    if annotation.file is not None:
        props.append(f"file={escape_property(annotation.file)}")
    if annotation.line is not None:
        props.append(f"line={annotation.line}")
    if annotation.title is not None:
        props.append(f"title={escape_property(annotation.title)}")
    head = f"::{annotation.level}"
    if props:
        head += " " + ",".join(props)
    return f"{head}::{escape_data(annotation.message)}"


def add_mask(value: str) -> str:
    """The command that makes the runner hide ``value`` in every later log line."""
    return f"::add-mask::{escape_data(value)}"
