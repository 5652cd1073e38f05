"""The App's limits: named like the bundle's, documented in docs/app.md, none shadowing one."""

from __future__ import annotations

import re

from gatekeeper.app import limits as app_limits
from gatekeeper.inputs import limits
from tests.conftest import ROOT

ROW = re.compile(r"^\| `(GATEKEEPER_MAX_[A-Z_]+)` \| ([^|]+) \|", re.M)


def shown(limit: limits.Limit) -> str:
    if limit.unit == "bytes":
        for size, name in ((limits.GIB, "GiB"), (limits.MIB, "MiB")):
            if limit.default % size == 0:
                return f"{limit.default // size} {name}"
    return f"{limit.default:,}"


def test_docs_app_lists_every_limit_with_its_default() -> None:
    text = (ROOT / "docs" / "app.md").read_text(encoding="utf-8")
    rows = {env: default.strip() for env, default in ROW.findall(text)}
    assert rows == {limit.env: shown(limit) for limit in app_limits.ALL}


def test_no_app_limit_reuses_a_bundle_limits_variable() -> None:
    assert not {x.env for x in app_limits.ALL} & {x.env for x in limits.ALL}
