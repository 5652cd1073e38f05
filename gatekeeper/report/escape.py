"""Escaping for strings that come from a bundle, a policy or a pull request.

Markdown is the dangerous one: GitHub renders raw HTML (minus a tag filter), turns ``@name``
into a notification, turns a bare ``https://...`` or ``www.`` into a link (cmark-gfm's autolink
extension), splits table cells on ``|`` even inside code spans, and a stray ``</details>``
closes a collapsed section. Every untrusted string is therefore flattened to one
line, stripped of control and bidi characters, length-capped, and backslash- or
entity-escaped before it reaches a template. Pure functions, no jinja2 import.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

DEFAULT_LIMIT = 1000  # characters per untrusted value; the full text stays in verdict.json

# C0/C1 controls (except tab/newline handled below) and bidi overrides ("Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_NEWLINES = re.compile(r"[\t\r\n\u2028\u2029]+")
# ASCII punctuation that starts Markdown inline syntax or a GitHub extension ($ is math); the
# rest ("#", "-", "+", digits) only means something at the start of a line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
# What cmark-gfm's autolink extension links in plain text: "http://", "https://", "ftp://" and
# "www." (emails are already broken by the mention guard). A backslash before the ":" or the "."
# is a plain CommonMark escape: the text reads the same and no link is made.
_AUTOLINK_SCHEME = re.compile(r"(?i)(https?|ftp):(?=//)")
_AUTOLINK_WWW = re.compile(r"(?i)(www)\.")
ZWJ = "\u200d"


def clean_text(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """One line of printable text, at most ``limit`` characters (an ellipsis marks a cut)."""
    text = _CONTROL.sub("", str(value))
    text = _NEWLINES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def md(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """Escape for Markdown inline text, including inside a table cell.

    ``&``, ``<`` and ``>`` become entities (no raw HTML, nothing can close ``<details>``), the
    rest of the syntax is backslash-escaped, a zero-width joiner after ``@`` keeps GitHub
    from pinging a user or team, and bare URLs stay text (a bundle cannot put a link in a
    comment posted under the repository's bot).
    """
    text = clean_text(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MENTION.sub("@" + ZWJ, text)
    text = _AUTOLINK_SCHEME.sub(r"\1\\:", text)
    text = _AUTOLINK_WWW.sub(r"\1\\.", text)
    # A leading "-", "=", digit-dot or similar only matters at the start of a line; templates
    # never start a line with a value, so no block-level escaping is needed here.
    return text


# In a link destination these could end it, open another construct or be read as an escape.
_URL_UNSAFE = re.compile(r"[()<>\\`|\[\]\"'\s]|[^\x21-\x7e]")


def link_url(value: object) -> str:
    """A link destination (``[text](url)``) for a URL gatekeeper built: the characters that could
    end it or change its meaning percent-encoded, nothing else touched."""
    return _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), clean_text(value, None))


def md_code(value: object, *, table: bool = True, limit: int | None = 200) -> str:
    """An inline code span holding ``value`` literally.

    Inside a GFM table ``|`` must be written ``\\|`` even in code; backticks in the value get a
    longer fence. Mentions and HTML are inert inside code spans.
    """
    text = clean_text(value, limit)
    if table:
        text = text.replace("|", "\\|")
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs) + 1 if runs else 1)
    pad = " " if runs or text.startswith(" ") or text.endswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else "` `"


def code_block_text(value: object, limit: int | None = 200) -> str:
    """Text that may sit inside a fenced code block without closing it."""
    return clean_text(value, limit).replace("`", "'").replace("~~~", "~ ~")


def html_text(value: object, limit: int | None = None) -> str:
    """Full HTML escaping (quotes included, so it is safe in attributes)."""
    return html.escape(clean_text(value, limit), quote=True)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Drop the characters XML 1.0 cannot carry at all; ElementTree escapes the rest."""
    return _XML_ILLEGAL.sub("", str(value))
