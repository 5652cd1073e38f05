"""Text from bundles and tools printed on one line.

Messages quote names and values from files gatekeeper does not control. In a terminal a control
character can rewrite the screen, and in GitHub Actions a line that starts with "::" is a
workflow command, so everything printed keeps control characters visible as escapes.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# Credential formats with a fixed, recognisable prefix: a match is (almost) never an accident,
# and a bundle, a report and a PR comment are no place for one. The value is never echoed.
CREDENTIALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GitHub token",
     re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("OpenAI or Anthropic API key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{34,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def one_line(text: object) -> str:
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def credential_kind(text: str) -> str | None:
    """Which credential format ``text`` contains, or None."""
    for kind, pattern in CREDENTIALS:
        if pattern.search(text):
            return kind
    return None
