"""Text from bundles and tools printed on one line.

Messages quote names and values from files gatekeeper does not control. In a terminal a control
character can rewrite the screen, and in GitHub Actions a line that starts with "::" is a
workflow command, so everything printed keeps control characters visible as escapes.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def one_line(text: object) -> str:
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))
