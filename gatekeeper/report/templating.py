"""The sandboxed jinja2 environments for the Markdown and HTML reports.

Both environments escape every ``{{ value }}`` by default: the HTML one with full HTML escaping,
the Markdown one with :func:`gatekeeper.report.escape.md` (through ``finalize``, with
autoescape on so that blocks, macros and ``super()`` pass through as already-safe ``Markup``).
Trusted fragments built by gatekeeper itself (code spans, links, the forest plot) are ``Markup``.

Templates are looked up in the user's ``--template-dir`` first, then in the built-in folder;
the built-in ones are also reachable as ``gatekeeper/<name>`` so a user template can
``{% extends "gatekeeper/report.md.j2" %}`` and override single blocks.

This module imports jinja2; only the Markdown, HTML and model-card reporters import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from gatekeeper.report import escape, formatting, view

BUILTIN = Path(__file__).resolve().parent / "templates"
Flavour = Literal["markdown", "html"]


def _md_finalize(value: Any) -> Any:
    if hasattr(value, "__html__"):
        return value
    if value is None:
        return Markup("")
    return Markup(escape.md(value))


def _html_finalize(value: Any) -> Any:
    if hasattr(value, "__html__"):
        return value
    if value is None:
        return ""
    return escape.clean_text(value, None)  # autoescape HTML-escapes the result


def _md_filter(value: Any, limit: int = escape.DEFAULT_LIMIT) -> Markup:
    return Markup(escape.md(value, limit))


def _code_filter(value: Any, table: bool = True, limit: int = 200) -> Markup:
    return Markup(escape.md_code(value, table=table, limit=limit))


def _md_link(text: Any, url: str | None, code: bool = True, table: bool = True) -> Markup:
    """A link whose target gatekeeper built (commit URLs, details URLs) — never a bundle URL."""
    label = escape.md_code(text, table=table) if code else escape.md(text)
    if not url or not url.startswith(("https://", "http://")):
        return Markup(label)
    target = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return Markup(f"[{label}]({target})")


def make_env(flavour: Flavour, template_dir: Path | None = None) -> SandboxedEnvironment:
    builtin = FileSystemLoader(str(BUILTIN))
    loaders: list[Any] = []
    if template_dir is not None:
        loaders.append(FileSystemLoader(str(template_dir)))
    loaders += [PrefixLoader({"gatekeeper": builtin}), builtin]
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        finalize=_md_finalize if flavour == "markdown" else _html_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({
        "md": _md_filter,
        "code": _code_filter,
        "num": formatting.num,
        "signed": formatting.signed,
        "short_sha": formatting.short_sha,
        "outcome": formatting.outcome_text,
        "clean": escape.clean_text,
    })
    env.globals.update({"md_link": _md_link, "icon": view.ICON})
    return env


def render(flavour: Flavour, name: str, template_dir: Path | None, **data: Any) -> str:
    env = make_env(flavour, template_dir)
    return env.get_template(name).render(**data)
