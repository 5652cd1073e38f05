"""The sandboxed jinja2 environments for the Markdown and HTML reports.

Both environments escape every ``{{ value }}`` by default: the HTML one with full HTML escaping,
the Markdown one with :func:`gatekeeper.report.escape.md` (through ``finalize``, with
autoescape on so that blocks, macros and ``super()`` pass through as already-safe ``Markup``).
Trusted fragments built by gatekeeper itself (code spans, links, the forest plot) are ``Markup``.

Templates are looked up in the user's ``--template-dir`` first, then in the built-in folder;
the built-in ones are also reachable as ``gatekeeper/<name>`` so a user template can
``{% extends "gatekeeper/report.md.j2" %}`` and override single blocks. A user template is read
without following symlinks (a symlinked file or sub-folder of ``--template-dir`` is refused, exit
2), so a template folder prepared by someone else cannot pull in a file from elsewhere on the
machine; an error in a user template is an input error naming it, not a crash.

This module imports jinja2; only the Markdown, HTML and model-card reporters import it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
)
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from gatekeeper.errors import InputError
from gatekeeper.inputs.nofollow import read_below
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
    return Markup(f"[{label}]({escape.link_url(url)})")


class UserTemplateLoader(BaseLoader):
    """Templates from ``--template-dir``, opened without following symlinks."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        parts = split_template_path(template)  # refuses "..": TemplateNotFound
        path = self.root.joinpath(*parts)
        try:
            data = read_below(self.root, parts)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise TemplateNotFound(template) from None
        except OSError as exc:
            raise InputError(f"--template-dir: cannot read {path}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"--template-dir: {path} is not UTF-8 text") from None
        # A new environment renders each report: what it cached cannot be stale.
        return text, str(path), lambda: True


def make_env(flavour: Flavour, template_dir: Path | None = None) -> SandboxedEnvironment:
    builtin = FileSystemLoader(str(BUILTIN))
    loaders: list[Any] = []
    if template_dir is not None:
        loaders.append(UserTemplateLoader(template_dir))
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
        "step": formatting.step,
        "short_sha": formatting.short_sha,
        "outcome": formatting.outcome_text,
        "clean": escape.clean_text,
    })
    env.globals.update({"md_link": _md_link, "icon": view.ICON})
    return env


def render(flavour: Flavour, name: str, template_dir: Path | None, **data: Any) -> str:
    env = make_env(flavour, template_dir)
    if template_dir is None:
        return env.get_template(name).render(**data)
    try:
        return env.get_template(name).render(**data)
    except TemplateError as exc:
        # With user templates in play, a broken one is a bad input (exit 2), named.
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None)
        at = f"{where}:{line}" if line else where
        raise InputError(f"--template-dir: template {at}: {type(exc).__name__}: "
                         f"{escape.clean_text(exc.message or exc, 300)}") from None
