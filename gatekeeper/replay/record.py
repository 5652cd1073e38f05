"""``gatekeeper replay --record``: the replay's result written into the original run file."""

from __future__ import annotations

import json

import yaml

from gatekeeper.inputs.atomic import write_atomic
from gatekeeper.inputs.bundle import Bundle
from gatekeeper.models.run import ReplayRecord, content_sha256
from gatekeeper.replay.compare import ReplayReport


def record_replay(original: Bundle, report: ReplayReport, replay_run_id: str) -> ReplayRecord:
    """Add (or replace) the ``replay`` record of ``original``'s run file, atomically."""
    record = ReplayRecord(result=report.result, run_id=replay_run_id,
                          of_sha256=content_sha256(original.run), reasons=report.reasons)
    path = original.run_file
    text = path.read_text(encoding="utf-8")
    as_json = path.suffix == ".json"
    doc = json.loads(text) if as_json else yaml.safe_load(text)
    doc["replay"] = record.model_dump(mode="json", exclude_none=True)
    if as_json:
        out = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        out = yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, default_flow_style=False,
                             width=100)
    write_atomic(path, out)
    return record
