"""One process per seed: each writes a part bundle in ``OUT.parts/seed-K``; ``merge`` joins
them into ``OUT`` (replicates in seed order, one envelope, every declared seed present)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from gatekeeper.errors import InputError, Location
from gatekeeper.importers.writer import Draft, write_bundle
from gatekeeper.inputs.bundle import Bundle, load_bundle

SEEDS_TAG = "gatekeeper.seeds"  # a part's tag: every seed of the whole run
_ENVELOPE = ("model", "params", "code", "environment", "command", "data")


def parts_folder(out: Path) -> Path:
    return out.parent / f"{out.name}.parts"


def part_folder(out: Path, seed: int) -> Path:
    return parts_folder(out) / f"seed-{seed}"


def _load_parts(out: Path) -> list[Bundle]:
    folder = parts_folder(out)
    found = sorted(folder.glob("seed-*")) if folder.is_dir() else []
    if not found:
        raise InputError("no parts to merge: write them with Run(...).seed(k)",
                         Location(str(folder)))
    return [load_bundle(p) for p in found]


def _declared(bundles: list[Bundle]) -> list[int]:
    tags = {b.run.tags.get(SEEDS_TAG, "") for b in bundles}
    if len(tags) != 1:
        raise InputError("the parts declare different seed lists", Location(field="seeds"))
    text = tags.pop()
    return [int(s) for s in text.split(",")] if text else sorted(
        s for b in bundles for s in b.run.seeds or [])


def _same(bundles: list[Bundle], key: str) -> Any:
    docs = [b.run.model_dump(mode="json", by_alias=True, exclude_none=True).get(key)
            for b in bundles]
    for b, doc in zip(bundles[1:], docs[1:], strict=True):
        if doc != docs[0]:
            raise InputError(f"differs between the parts (seed {b.run.seeds} and seed "
                             f"{bundles[0].run.seeds}): one run has one {key}",
                             Location(b.display, key))
    return docs[0]


def _files(bundle: Bundle, rel: str) -> bytes:
    return bundle.resolve(rel).read_bytes()


def _merge_metric(name: str, owners: list[tuple[Bundle, Any]], seeds: list[int],
                  draft: Draft) -> dict[str, Any]:
    specs = [spec for _b, spec in owners]
    if all(s.replicates is not None for s in specs):
        by_seed = {b.run.seeds[0]: s.replicates[0] for b, s in owners if b.run.seeds}
        missing = [s for s in seeds if s not in by_seed]
        if missing:
            raise InputError(f"no part logged seed(s) {', '.join(map(str, missing))}",
                             Location(field=f"metrics.{name}"))
        first = specs[0].model_dump(exclude_none=True)
        first["replicates"] = [by_seed[s] for s in seeds]
        return first
    if len(owners) > 1:
        raise InputError("logged by several parts without a seed: log it from one part, or "
                         "with a value per seed", Location(field=f"metrics.{name}"))
    bundle, spec = owners[0]
    if spec.path:
        draft.files[spec.path] = _files(bundle, spec.path)
    return dict(spec.model_dump(exclude_none=True))


def _check_seeds(out: Path, bundles: list[Bundle], seeds: list[int]) -> None:
    got = sorted(s for b in bundles for s in (b.run.seeds or []))
    if got != sorted(seeds):
        lost = sorted(set(seeds) - set(got))
        raise InputError(f"parts missing for seed(s) {', '.join(map(str, lost))}"
                         if lost else f"the parts' seeds {got} do not match {seeds}",
                         Location(str(parts_folder(out))))


def _part_seed(bundle: Bundle) -> int:
    return bundle.run.seeds[0] if bundle.run.seeds else 0


def _add_traces(bundles: list[Bundle], doc: dict[str, Any], draft: Draft) -> None:
    for b in bundles:
        for i, rel in enumerate(b.run.llm.traces if b.run.llm else []):
            draft.files[f"traces/seed-{_part_seed(b)}-{i}.jsonl"] = _files(b, rel)
    names = sorted(r for r in draft.files if r.startswith("traces/"))
    if names:
        doc["llm"] = {"traces": names}


def _add_artifacts(bundles: list[Bundle], draft: Draft) -> None:
    for b in bundles:
        for art in b.run.artifacts:
            if art.path not in draft.copies:
                draft.copies[art.path] = b.resolve(art.path)
                draft.copy_kinds[art.path] = art.kind or "artifact"


def merge(out: Path) -> Path:
    bundles = _load_parts(out)
    seeds = _declared(bundles)
    _check_seeds(out, bundles, seeds)
    doc: dict[str, Any] = {k: _same(bundles, k) for k in _ENVELOPE}
    tags = dict(bundles[0].run.tags)
    tags.pop(SEEDS_TAG, None)
    failed = [b for b in bundles if b.run.status == "failed"]
    doc.update({"tags": tags, "seeds": seeds, "status": "failed" if failed else "complete"})
    if failed:
        doc["failure"] = (f"the part for seed {_part_seed(failed[0])} failed: "
                          f"{failed[0].run.failure}")
    draft = Draft(run=doc, label=bundles[0].run.model, inputs=[])
    owners: dict[str, list[tuple[Bundle, Any]]] = {}
    for b in bundles:
        for name, spec in b.run.metrics.items():
            owners.setdefault(name, []).append((b, spec))
    doc["metrics"] = {name: _merge_metric(name, owners[name], seeds, draft)
                      for name in sorted(owners)}
    _add_traces(bundles, doc, draft)
    _add_artifacts(bundles, draft)
    digest = hashlib.sha256(json.dumps(sorted(b.run.run_id for b in bundles)).encode())
    return write_bundle(draft, out, run_id=digest.hexdigest()[:32], force=True)
