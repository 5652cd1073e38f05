"""The dataset–model–prompt triple and one change at a time (checks/llm.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.checks import llm
from gatekeeper.checks.evidence import Evidence
from gatekeeper.inputs.bundle import Bundle, load_bundle
from gatekeeper.models.run import Run
from gatekeeper.models.verdict import Check
from gatekeeper.policy.loader import load_policy

SHA = {k: (k * 64)[:64] for k in "abcdef"}


def make_run(**llm_fields: Any) -> dict[str, Any]:
    section = {"dataset": {"name": "qa", "version": "3", "sha256": SHA["a"]},
               "model": {"provider": "openai", "name": "gpt-4o", "revision": "2024-08-06"},
               "prompts": [{"id": "summarize", "version": 6, "sha256": SHA["b"]}]}
    section.update(llm_fields)
    section = {k: v for k, v in section.items() if v is not None}
    return {"schema": "gatekeeper.run/v1", "run_id": "r", "model": "m", "llm": section}


def write(tmp: Path, name: str, run: dict[str, Any]) -> Bundle:
    (tmp / name).mkdir()
    (tmp / name / "run.yaml").write_text(yaml.safe_dump(run))
    return load_bundle(tmp / name)


def checks(tmp: Path, cand: dict[str, Any], base: dict[str, Any] | None,
           rule: str = "llm: {one_change_at_a_time: true}\n") -> dict[str, Check]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "policy.yaml"
    path.write_text("apiVersion: gatekeeper/v1\nkind: Policy\nmetadata: {name: t, version: 1}\n"
                    "baseline: {alias: production}\n" + rule)
    ctx = Evidence(policy=load_policy(path), bundle=write(tmp, "c", cand), as_of=date(2026, 1, 1),
                  baseline=write(tmp, "b", base) if base is not None else None)
    return {c.id: c for c in llm.run(ctx)}


def test_prompt_only_change_is_reported_and_attributable(tmp_path: Path) -> None:
    cand = make_run(prompts=[{"id": "summarize", "version": 7, "sha256": SHA["c"]}])
    got = checks(tmp_path, cand, make_run())
    assert got["llm:triple"].status == "pass"
    assert got["llm:triple"].message == "changed: prompt summarize v6→v7; unchanged: dataset, model"
    assert got["llm:one_change_at_a_time"].status == "pass"
    assert "only the prompt changed" in got["llm:one_change_at_a_time"].message


def test_two_changes_violate_one_change_at_a_time(tmp_path: Path) -> None:
    cand = make_run(dataset={"name": "qa", "version": "4", "sha256": SHA["d"]},
                    prompts=[{"id": "summarize", "version": 7, "sha256": SHA["c"]}])
    got = checks(tmp_path, cand, make_run())
    c = got["llm:one_change_at_a_time"]
    assert c.status == "block"
    assert "cannot attribute the difference: dataset and prompt both changed" in c.message
    assert got["llm:triple"].status == "pass"  # the listing itself is information


def test_on_violation_warn_and_no_rule(tmp_path: Path) -> None:
    cand = make_run(model={"provider": "openai", "name": "gpt-4o-mini"},
                    prompts=[{"id": "summarize", "version": 7}])
    warn = checks(tmp_path / "warn", cand, make_run(),
                  "llm: {one_change_at_a_time: true, on_violation: warn}\n")
    assert warn["llm:one_change_at_a_time"].status == "warn"
    free = checks(tmp_path / "free", cand, make_run(), "")
    assert set(free) == {"llm:triple"}
    assert "model openai/gpt-4o→openai/gpt-4o-mini" in free["llm:triple"].message


def test_same_version_other_text_is_a_change(tmp_path: Path) -> None:
    cand = make_run(prompts=[{"id": "summarize", "version": 6, "sha256": SHA["e"]}])
    got = checks(tmp_path, cand, make_run())
    assert "prompt summarize v6 text changed (sha256 bbbbbbbbbbbb→eeeeeeeeeeee)" in \
        got["llm:triple"].message


def test_model_revision_change(tmp_path: Path) -> None:
    cand = make_run(model={"provider": "openai", "name": "gpt-4o", "revision": "2024-11-20"})
    msg = checks(tmp_path, cand, make_run())["llm:triple"].message
    assert msg.startswith("changed: model gpt-4o revision 2024-08-06→2024-11-20")


def test_nothing_changed(tmp_path: Path) -> None:
    got = checks(tmp_path, make_run(), make_run())
    assert got["llm:triple"].message == "nothing changed; unchanged: dataset, model, prompt"
    assert got["llm:one_change_at_a_time"].status == "pass"


def test_unrecorded_part_cannot_confirm_a_single_change(tmp_path: Path) -> None:
    cand = make_run(dataset=None, prompts=[{"id": "summarize", "version": 7}])
    got = checks(tmp_path, cand, make_run())
    assert "unknown: llm.dataset not recorded by the candidate" in got["llm:triple"].message
    c = got["llm:one_change_at_a_time"]
    assert c.status == "warn" and "cannot confirm a single change: dataset" in c.message


def test_without_baseline_it_warns_that_it_cannot_tell(tmp_path: Path) -> None:
    got = checks(tmp_path, make_run(), None)
    c = got["llm:one_change_at_a_time"]
    assert c.status == "warn" and "cannot tell" in c.message


@pytest.mark.parametrize(("old", "new", "expect"), [
    ([{"id": "a", "version": 1}], [{"id": "a", "version": 1}, {"id": "b", "version": 2}],
     "prompt b added (v2)"),
    ([{"id": "a", "version": 1}, {"id": "b", "version": 2}], [{"id": "a", "version": 1}],
     "prompt b removed"),
])
def test_prompts_added_and_removed(old: list[dict[str, Any]], new: list[dict[str, Any]],
                                   expect: str) -> None:
    changes = llm.triple_changes(Run.model_validate(make_run(prompts=old)),
                                 Run.model_validate(make_run(prompts=new)))
    assert changes[2].state == "changed" and changes[2].detail == expect


def test_a_dataset_named_alike_but_unidentified_is_unknown(tmp_path: Path) -> None:
    """Same name, no version or sha256 on either side: the eval set may have changed."""
    bare = {"name": "qa"}
    base = make_run(dataset=bare)
    cand = make_run(dataset=bare, model={"provider": "openai", "name": "gpt-4o-mini"})
    got = checks(tmp_path, cand, base)
    assert got["llm:one_change_at_a_time"].status == "warn"
    assert "cannot confirm a single change: dataset is not identified by both runs" in \
        got["llm:one_change_at_a_time"].message
    assert "unknown: dataset qa: no version or sha256 recorded by both runs" in \
        got["llm:triple"].message
    # One side's version alone identifies nothing either; a sha256 on both sides does.
    one_sided = make_run(dataset={"name": "qa", "version": "3"})
    states = [c.state for c in llm.triple_changes(Run.model_validate(base),
                                                  Run.model_validate(one_sided))]
    assert states[0] == "unknown"
    hashed = make_run(dataset={"name": "qa", "sha256": SHA["a"]})
    states = [c.state for c in llm.triple_changes(Run.model_validate(hashed),
                                                  Run.model_validate(hashed))]
    assert states == ["unchanged", "unchanged", "unchanged"]


def test_a_prompt_always_records_its_version(tmp_path: Path) -> None:
    """A prompt's version is its identity; the run schema does not let a run leave it out."""
    with pytest.raises(Exception, match=r"llm.prompts\[0\].version': required field"):
        checks(tmp_path, make_run(prompts=[{"id": "summarize"}]), make_run())


def test_inspect_eval_set_imports_do_not_call_the_dataset_unchanged(tmp_path: Path) -> None:
    """Inspect records the dataset's name only: two models of one eval set cannot prove the
    rows were the same."""
    from gatekeeper.importers import ImportOptions, get_importer
    from tests.conftest import ROOT

    source = ROOT / "tests" / "fixtures" / "real" / "inspect_ai" / "pr2488-set"
    runs = {}
    for model in ("gpt-5", "claude-sonnet-4-20250514"):
        out = get_importer("inspect").import_(source, tmp_path / model,
                                              options=ImportOptions(model=model))
        runs[model] = load_bundle(out).run
    changes = llm.triple_changes(runs["gpt-5"], runs["claude-sonnet-4-20250514"])
    assert [(c.part, c.state) for c in changes] == [
        ("dataset", "unknown"), ("model", "changed"), ("prompt", "unknown")]
    assert changes[0].detail == "dataset popularity: no version or sha256 recorded by both runs"
