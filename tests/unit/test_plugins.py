"""LazyTable: name → "module:attribute", imported only on load; and the three tables built on it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from gatekeeper.cli import COMMANDS
from gatekeeper.errors import ImporterError
from gatekeeper.importers import IMPORTERS, Importer, get_importer
from gatekeeper.plugins import LazyTable, UnknownName
from gatekeeper.report import REPORTERS
from tests.conftest import ROOT

TABLE: LazyTable[object] = LazyTable("codec", {"json": "json:dumps", "base64": "base64:b64encode"})


def test_names_keep_the_order_given_and_the_table_reads_as_a_mapping() -> None:
    assert TABLE.names() == ("json", "base64")
    assert list(TABLE) == ["json", "base64"] and len(TABLE) == 2
    assert sorted(TABLE) == ["base64", "json"]
    assert "json" in TABLE and "yaml" not in TABLE
    assert TABLE["json"] == "json:dumps"
    assert TABLE.get("yaml") is None


def test_load_returns_the_attribute() -> None:
    assert TABLE.load("json") is json.dumps


def test_an_unknown_name_says_which_names_exist() -> None:
    with pytest.raises(UnknownName) as info:
        TABLE.load("yaml")
    assert str(info.value) == "unknown codec 'yaml'; choose one of base64, json"
    with pytest.raises(KeyError):  # still a KeyError, as a mapping's lookups are
        TABLE["yaml"]


def test_get_importer_keeps_its_error_for_an_unknown_tool() -> None:
    with pytest.raises(ImporterError) as info:
        get_importer("nope")
    assert str(info.value) == (
        "unknown tool 'nope'; choose one of inspect, lm-eval, mlflow, promptfoo"
    )


@pytest.mark.parametrize("target", ["json", "json:", ":dumps", ""])
def test_a_target_must_name_module_and_attribute(target: str) -> None:
    with pytest.raises(ValueError, match="is not 'module:attribute'"):
        LazyTable("codec", {"x": target})


def test_the_table_cannot_change() -> None:
    source = {"json": "json:dumps"}
    table: LazyTable[object] = LazyTable("codec", source)
    source["pickle"] = "pickle:dumps"
    assert table.names() == ("json",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.kind = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        table.targets["pickle"] = "pickle:dumps"  # type: ignore[index]


def test_every_entry_of_the_three_tables_loads() -> None:
    for name in COMMANDS:
        assert callable(COMMANDS.load(name)), name
    for name in REPORTERS:
        assert callable(REPORTERS.load(name)), name
    for name in IMPORTERS:
        cls = IMPORTERS.load(name)
        assert issubclass(cls, Importer) and cls.name == name


_PROBE = """
import json, sys
import gatekeeper.cli, gatekeeper.report, gatekeeper.importers
from gatekeeper.cli import COMMANDS
from gatekeeper.importers import IMPORTERS
from gatekeeper.report import REPORTERS
tables = {"commands": COMMANDS, "reporters": REPORTERS, "importers": IMPORTERS}
modules = {k: [t.partition(":")[0] for t in v.values()] for k, v in tables.items()}
before = {k: [m for m in v if m in sys.modules] for k, v in modules.items()}
tables[sys.argv[1]].load(sys.argv[2])
after = {k: [m for m in v if m in sys.modules] for k, v in modules.items()}
print(json.dumps({"before": before, "after": after}))
"""


@pytest.mark.parametrize(("table", "name", "module"), [
    ("importers", "promptfoo", "gatekeeper.importers.promptfoo"),
    ("reporters", "json", "gatekeeper.report.json_report"),
    ("commands", "schema", "gatekeeper.commands.schema"),
])
def test_nothing_is_imported_until_loaded(table: str, name: str, module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _PROBE, table, name], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["before"] == {"commands": [], "reporters": [], "importers": []}
    # Only the loaded member arrives; its siblings stay out.
    assert seen["after"][table] == [module]
