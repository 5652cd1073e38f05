"""The unified text diff of a policy file between the base and the PR, shown in reports."""

from __future__ import annotations

import difflib


def unified_diff(base_text: str | None, head_text: str | None, path: str) -> str:
    """A unified diff from the base version to the PR's version ("" when they are the same)."""
    lines = difflib.unified_diff(
        (base_text or "").splitlines(keepends=True),
        (head_text or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if base_text is not None else "/dev/null",
        tofile=f"b/{path}" if head_text is not None else "/dev/null",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
