"""The limits: one module, one environment variable each, documented in docs/formats.md."""

from __future__ import annotations

import re

import pytest

from gatekeeper.errors import InputError, Location
from gatekeeper.inputs import limits
from tests.conftest import ROOT

TABLE_ROW = re.compile(r"^\| `(GATEKEEPER_MAX_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \|$", re.M)


def _shown(limit: limits.Limit) -> str:
    """A default as the docs write it: 4 GiB, 16 MiB, 250,000."""
    if limit.unit in ("bytes", "characters"):
        for size, name in ((limits.GIB, "GiB"), (limits.MIB, "MiB"), (limits.KIB, "KiB")):
            if limit.default % size == 0:
                return f"{limit.default // size} {name}"
    return f"{limit.default:,}"


def test_the_docs_table_lists_every_limit_with_its_default_and_meaning() -> None:
    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    rows = {env: (default.strip(), what.strip()) for env, default, what in
            TABLE_ROW.findall(text)}
    assert set(rows) == {limit.env for limit in limits.ALL}
    for limit in limits.ALL:
        default, what = rows[limit.env]
        assert default == _shown(limit), limit.env
        assert what.startswith(limit.what.split(" (")[0][:40]), limit.env


def test_every_variable_is_named_once() -> None:
    assert len({limit.env for limit in limits.ALL}) == len(limits.ALL)


def test_a_limit_reads_its_variable() -> None:
    depth = limits.DEPTH
    assert depth.value({}) == 64
    assert depth.value({"GATEKEEPER_MAX_DEPTH": " 12 "}) == 12
    assert depth.value({"GATEKEEPER_MAX_DEPTH": "1_000"}) == 1000
    assert depth.value({"GATEKEEPER_MAX_DEPTH": ""}) == 64


@pytest.mark.parametrize("raw", ["0", "-3", "many", "1.5", "9" * 40])
def test_a_bad_setting_is_an_input_error_naming_the_variable(raw: str) -> None:
    with pytest.raises(InputError, match="GATEKEEPER_MAX_ROWS must be a whole number of rows"):
        limits.ROWS.value({"GATEKEEPER_MAX_ROWS": raw})


def test_the_refusal_names_the_limit_and_the_variable() -> None:
    err = limits.NODES.refuse("the document expands to 300,000 values", Location("run.yaml"),
                              environ={})
    assert str(err) == ("run.yaml: the document expands to 300,000 values, over the limit of "
                        "250,000 nodes (GATEKEEPER_MAX_NODES)")
    limits.NODES.check(250_000, "x", Location(), environ={})
    with pytest.raises(InputError, match="GATEKEEPER_MAX_NODES"):
        limits.NODES.check(250_001, "x", Location(), environ={})
