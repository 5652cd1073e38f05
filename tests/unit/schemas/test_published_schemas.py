"""The JSON Schemas published at the repository's ``schemas/`` (for editors' ``$schema=``
links) are the ones shipped in the wheel (regenerate both: ``python -m gatekeeper.schemas``)."""

from __future__ import annotations

import pytest

from gatekeeper.schemas import HERE, SCHEMAS
from tests.conftest import ROOT

PUBLISHED = ROOT / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_published_schema_in_sync(name: str) -> None:
    filename = SCHEMAS[name][2]
    assert (PUBLISHED / filename).read_text() == (HERE / filename).read_text(), (
        "run: python -m gatekeeper.schemas")


def test_nothing_else_is_published() -> None:
    assert sorted(p.name for p in PUBLISHED.iterdir()) == sorted(v[2] for v in SCHEMAS.values())


def test_docs_show_the_editor_schema_line() -> None:
    line = "# yaml-language-server: $schema="
    for doc in ("README.md", "docs/policy.md"):
        text = (ROOT / doc).read_text()
        assert line in text and "schemas/policy.schema.json" in text, doc
