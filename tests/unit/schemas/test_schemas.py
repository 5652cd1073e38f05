"""The JSON Schemas shipped in the wheel match the models (regenerate:
``python -m gatekeeper.schemas``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from gatekeeper.schemas import HERE, SCHEMAS, schema_text
from tests.conftest import Result


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_shipped_schema_in_sync(name: str) -> None:
    shipped = (HERE / SCHEMAS[name][2]).read_text()
    assert shipped == schema_text(name), "run: python -m gatekeeper.schemas"


def test_schema_command_prints_json_schema(cli: Callable[..., Result]) -> None:
    res = cli("schema", "policy")
    assert res.code == 0
    data = json.loads(res.out)
    assert "apiVersion" in data["properties"]


def test_demo_bundle_validates_against_shipped_schema() -> None:
    import jsonschema
    import yaml

    from tests.conftest import EXAMPLES

    schema = json.loads((HERE / "run.schema.json").read_text())
    for name in ("pass", "warn", "block"):
        doc = yaml.safe_load((EXAMPLES / "bundles" / name / "run.yaml").read_text())
        doc["created_at"] = str(doc["created_at"])  # YAML timestamps are datetimes
        jsonschema.validate(doc, schema)
