"""JSON Schemas generated from the pydantic models and shipped in the wheel.

``python -m gatekeeper.schemas`` regenerates the files; a test fails when they drift.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from gatekeeper.models.policy import Policy
from gatekeeper.models.run import Run
from gatekeeper.models.verdict import Verdict

SCHEMAS: dict[str, tuple[type[BaseModel], str, str]] = {
    "run": (Run, "gatekeeper.run/v1", "run.schema.json"),
    "policy": (Policy, "gatekeeper/v1", "policy.schema.json"),
    "verdict": (Verdict, "gatekeeper.verdict/v1", "verdict.schema.json"),
}
HERE = Path(__file__).parent


def schema_text(name: str) -> str:
    model, version, _ = SCHEMAS[name]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"https://gatekeeper.dev/schemas/{SCHEMAS[name][2]}",
              "title": f"{model.__name__} ({version})", **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


# The same files at a stable path of the repository, for editors' `$schema=` links; only in a
# checkout (a wheel has no such folder).
PUBLISHED = HERE.parent.parent / "schemas"


def write_all() -> None:
    targets = [HERE, PUBLISHED] if PUBLISHED.is_dir() else [HERE]
    for name, (_, _, filename) in SCHEMAS.items():
        for folder in targets:
            (folder / filename).write_text(schema_text(name), encoding="utf-8")


if __name__ == "__main__":
    write_all()
