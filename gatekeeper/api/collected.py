"""What a run logged, kept in memory until the bundle is written, and its rendering as a
writer ``Draft`` (run.yaml content plus the files it names)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper.errors import InputError, Location
from gatekeeper.importers.sources import format_score
from gatekeeper.importers.writer import Draft, jsonl, score_csv, slug

# Past this many examples scores go to a compressed .npz rather than a CSV.
CSV_MAX_ROWS = 100_000
TRACE_FILE = "traces/requests.jsonl"


@dataclass
class Scores:
    ids: list[Any]
    scores: list[float]
    clusters: list[str] | None = None


@dataclass
class Collected:
    values: dict[str, float] = field(default_factory=dict)
    seeded: dict[str, dict[int, float]] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # unit, range per metric
    scores: dict[str, Scores] = field(default_factory=dict)
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    artifacts: dict[str, tuple[Path, str]] = field(default_factory=dict)
    traces: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def names(self) -> set[str]:
        return {*self.values, *self.seeded, *self.scores, *self.series}


def _npz(sc: Scores) -> bytes:
    # lazy: numpy only for eval sets past CSV_MAX_ROWS, never at `import gatekeeper`
    import numpy as np

    buf = io.BytesIO()
    arrays: dict[str, Any] = {"ids": np.asarray([str(i) for i in sc.ids]),
                              "scores": np.asarray(sc.scores, dtype=np.float64)}
    if sc.clusters is not None:
        arrays["clusters"] = np.asarray(sc.clusters)
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _series_csv(points: list[tuple[float, float]]) -> bytes:
    lines = ["step,value"] + [f"{format_score(s)},{format_score(v)}" for s, v in points]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _replicates(name: str, by_seed: dict[int, float], seeds: list[int], strict: bool
                ) -> list[float]:
    missing = [s for s in seeds if s not in by_seed]
    extra = sorted(set(by_seed) - set(seeds))
    if strict and (missing or extra):
        what = (f"no value for seed(s) {', '.join(map(str, missing))}" if missing else
                f"value(s) for seed(s) {', '.join(map(str, extra))} the run does not list")
        raise InputError(f"{what}: log one value per seed of the run",
                         Location(field=f"metrics.{name}"))
    return [by_seed[s] for s in seeds if s in by_seed]


def metric_files(c: Collected, seeds: list[int], strict: bool
                 ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """run.yaml's ``metrics`` and the score and curve files it names."""
    metrics: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, value in c.values.items():
        metrics[name] = {"value": value}
    for name, by_seed in c.seeded.items():
        reps = _replicates(name, by_seed, seeds, strict)
        if reps:
            metrics[name] = {"replicates": reps}
    for name, sc in c.scores.items():
        if len(sc.ids) > CSV_MAX_ROWS:
            rel = f"scores/{slug(name)}.npz"
            files[rel] = _npz(sc)
        else:
            rel = f"scores/{slug(name)}.csv"
            files[rel] = score_csv(zip([str(i) for i in sc.ids], sc.scores, strict=True),
                                   sc.clusters)
        metrics[name] = {"per_example": rel}
        if sc.clusters is not None and rel.endswith(".csv"):
            metrics[name]["cluster_column"] = "cluster"
    for name, points in c.series.items():
        rel = f"curves/{slug(name)}.csv"
        # One point per step, the latest logged (as the MLflow importer keeps it): the gate
        # reads a curve as one value per increasing step.
        files[rel] = _series_csv(sorted(dict(points).items()))
        metrics[name] = {"series": rel}
    for name, extra in c.specs.items():
        if name in metrics:
            metrics[name].update(extra)
    return metrics, files


def build_draft(c: Collected, run: dict[str, Any], seeds: list[int], strict: bool) -> Draft:
    metrics, files = metric_files(c, seeds, strict)
    doc = dict(run)
    if metrics:
        doc["metrics"] = metrics
    if c.data:
        doc["data"] = [c.data[k] for k in sorted(c.data)]
    if c.traces:
        files[TRACE_FILE] = jsonl(c.traces)
        doc.setdefault("llm", {})["traces"] = [TRACE_FILE]
    draft = Draft(run=doc, label=str(run.get("model", "")), inputs=[], files=files)
    for rel, (source, kind) in c.artifacts.items():
        draft.copies[rel] = source
        draft.copy_kinds[rel] = kind
    return draft
