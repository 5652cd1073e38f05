"""Inspect AI logs (``.eval`` ZIP or ``.json``) → bundle.

Per-example scores are keyed by the sample id. With several epochs a sample's score is the
mean over its epochs (Inspect's default reducer), so each id appears once and pairs with the
baseline's id; the number of epochs is kept in ``params.epochs``. An eval-set folder holds one
log per model: choose one with ``--model`` or write each to ``--out DIR/{model}``.
A model-graded scorer whose grader model the log records (its ``model`` argument) gives its
metrics that judge.
"""

from __future__ import annotations

import hashlib
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper.errors import ImporterError
from gatekeeper.importers.interface import Draft, Importer, ImportOptions, fail, slug
from gatekeeper.importers.sources import (
    check_size,
    finite_or_none,
    listing,
    load_json,
    mapping,
    parse_json_text,
    plain,
    to_float,
)
from gatekeeper.importers.writer import jsonl, score_csv
from gatekeeper.inputs import limits

TRACES = "traces/requests.jsonl"
HEX_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
_SAMPLE_NAME = re.compile(r"^samples/(.+)_epoch_(\d+)\.json$")
# Inspect's value_to_float: C correct, I incorrect, P partial, N no answer.
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
_WORDS = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
_NOT_LOGS = {"logs.json", "eval-set.json"}


@dataclass
class _Log:
    path: Path
    header: dict[str, Any]
    samples: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (where, sample)

    @property
    def model(self) -> str:
        return str((self.header.get("eval") or {}).get("model") or "")


class InspectImporter(Importer):
    name = "inspect"

    def read(self, source: Path, options: ImportOptions) -> list[Draft]:
        paths = _log_paths(source)
        headers = [(p, _read_header(p)) for p in paths]
        if options.model is not None:
            headers = [(p, h) for p, h in headers if _matches(options.model, h)]
            if not headers:
                models = ", ".join(sorted(_model_of(h) for _p, h in
                                          ((p, _read_header(p)) for p in paths)))
                raise fail(f"no log for model {options.model!r}; available: {models}", source)
        drafts = []
        for path, header in headers:
            log = _Log(path, header, _read_samples(path))
            drafts.append(_draft(log, options))
        return drafts


def _log_paths(source: Path) -> list[Path]:
    if not source.exists():
        raise fail("source not found", source)
    if source.is_file():
        return [source]
    logs = sorted(p for p in source.iterdir()
                  if p.is_file() and p.suffix in (".eval", ".json") and p.name not in _NOT_LOGS)
    if not logs:
        raise fail("no Inspect logs (*.eval or *.json) in this folder", source)
    return logs


def _model_of(header: dict[str, Any]) -> str:
    return str((header.get("eval") or {}).get("model") or "?")


def _matches(wanted: str, header: dict[str, Any]) -> bool:
    model = _model_of(header)
    return wanted in (model, model.split("/", 1)[-1], slug(model))


def _read_header(path: Path) -> dict[str, Any]:
    if path.suffix == ".eval":
        with _open_zip(path) as zf:
            if "header.json" not in zf.namelist():
                raise fail("no header.json in the .eval file: the log is incomplete (was the "
                           "eval interrupted?)", path)
            header = parse_json_text(_member(zf, "header.json", path), path,
                                     field="header.json")
    else:
        header = load_json(path)
    if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
        raise fail("not an Inspect log (no 'eval' header)", path)
    return header


def _open_zip(path: Path) -> zipfile.ZipFile:
    check_size(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise fail(f"not a readable .eval ZIP: {exc}", path) from exc
    # Bound what decompression can produce, whatever the archive claims to hold.
    total = sum(info.file_size for info in zf.infolist())
    most = limits.IMPORT_BYTES.value()
    if total > most:
        zf.close()
        raise fail(f"the archive expands to {total:,} bytes, over the limit of {most:,} bytes "
                   f"({limits.IMPORT_BYTES.env})", path)
    return zf


def _member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """One member's bytes; a damaged archive (bad deflate data, a CRC or size that does not
    match, an encrypted or unknown compression) is an error naming the member."""
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, OSError, zlib.error, EOFError, NotImplementedError,
            RuntimeError, ValueError) as exc:
        raise fail(f"cannot read {name}: {exc}", path, field=name) from exc


def _read_samples(path: Path) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if path.suffix == ".eval":
        with _open_zip(path) as zf:
            names = sorted(n for n in zf.namelist() if _SAMPLE_NAME.match(n))
            if not names and "summaries.json" in zf.namelist():
                summaries = parse_json_text(_member(zf, "summaries.json", path), path,
                                            field="summaries.json")
                if not isinstance(summaries, list):
                    raise fail("summaries.json must be a list", path, field="summaries.json")
                return [(f"summaries.json[{i}]", s) for i, s in enumerate(summaries)]
            for name in names:
                out.append((name, parse_json_text(_member(zf, name, path), path, field=name)))
        return out
    data = load_json(path)
    samples = data.get("samples") if isinstance(data, dict) else None
    if samples is None:
        return []
    if not isinstance(samples, list):
        raise fail("'samples' must be a list", path, field="samples")
    return [(f"samples[{i}]", s) for i, s in enumerate(samples)]


def _score_value(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = to_float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        text = value.strip()
        if text in _LETTERS:
            return _LETTERS[text]
        if text.lower() in _WORDS:
            return _WORDS[text.lower()]
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _draft(log: _Log, options: ImportOptions) -> Draft:
    path = log.path
    scored = _Scored()
    for where, sample in log.samples:
        scored.add(sample, path, where)
    if not scored.per_id:
        raise fail("the log holds no scored samples", path)
    _check_every_sample_scored(log, scored)
    files, metrics = _score_files(scored.per_id)
    _add_reported_values(metrics, log.header)
    _add_judges(metrics, log.header)
    traces = scored.traces
    has_traces = bool(traces)
    if has_traces:
        files[TRACES] = jsonl(t for _k, t in sorted(traces, key=lambda kv: kv[0]))

    model = options.model_name or log.model
    if not model:
        raise fail("the log does not name a model; pass --model-name", path)
    run = _envelope(log, model)
    run["metrics"] = metrics
    if has_traces:
        run["llm"]["traces"] = [TRACES]
        run["llm"]["usage"] = _usage([t for _k, t in traces], log.header)
    epochs = sorted({e for _i, e in scored.seen})
    run["params"]["epochs"] = len(epochs)
    return Draft(run=run, label=log.model or model, inputs=[path], files=files,
                 notes=scored.notes)


@dataclass
class _Scored:
    """What the samples of one log say: per-epoch scores, where each sample was, its trace."""

    # metric -> id -> the scores of its epochs
    per_id: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    seen: dict[tuple[str, int], str] = field(default_factory=dict)  # (id, epoch) -> where
    traces: list[tuple[tuple[int, str, int], dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, sample: Any, path: Path, where: str) -> None:
        if not isinstance(sample, dict):
            raise fail("expected a sample object", path, field=where)
        ident, epoch = _identity(sample, path, where)
        if (ident, epoch) in self.seen:
            raise fail(f"duplicate sample id {ident} epoch {epoch} (also in "
                       f"{self.seen[(ident, epoch)]})", path, field=where)
        self.seen[(ident, epoch)] = where
        scores = sample.get("scores")
        if not scores:
            if sample.get("error"):
                self.notes.append(f"sample {ident} epoch {epoch} errored and has no score; "
                                  "left out")
            else:
                raise fail(f"sample {ident} epoch {epoch}: missing score field 'scores'", path,
                           field=where)
        elif not isinstance(scores, dict):
            raise fail(f"sample {ident}: 'scores' must be a mapping", path, field=where)
        else:
            self._add_scores(scores, path, where, ident, epoch)
        self.traces.append(((*_id_order(ident), epoch), _trace(sample, ident, epoch)))

    def _add_scores(self, scores: dict[Any, Any], path: Path, where: str, ident: str,
                    epoch: int) -> None:
        for scorer, score in scores.items():
            for metric, raw in _score_entries(str(scorer), score, path, where, ident):
                value = _score_value(raw)
                if value is None:
                    raise fail(f"sample {ident} epoch {epoch}: score {metric!r} is "
                               f"{raw!r}, not a number or C/I/P/N", path, field=where)
                self.per_id.setdefault(metric, {}).setdefault(ident, []).append(value)


def _check_every_sample_scored(log: _Log, scored: _Scored) -> None:
    """Every metric scores every sample, except samples that errored."""
    for metric, by_id in scored.per_id.items():
        missing = set(seen_id for seen_id, _ in scored.seen) - set(by_id)
        errored = {str(s.get("id")) for _w, s in log.samples if isinstance(s, dict)
                   and s.get("error")}
        unexplained = sorted(missing - errored)
        if unexplained:
            raise fail(f"sample {unexplained[0]}: missing score field {metric!r}", log.path)


def _score_files(per_id: dict[str, dict[str, list[float]]]) \
        -> tuple[dict[str, bytes], dict[str, Any]]:
    """One score file per metric (the mean over epochs per id), and the metrics naming them."""
    files: dict[str, bytes] = {}
    metrics: dict[str, Any] = {}
    for metric in sorted(per_id):
        rel = f"scores/{slug(metric)}.csv"
        rows = sorted(((i, _epoch_mean(v, metric, i)) for i, v in per_id[metric].items()),
                      key=lambda r: _id_order(r[0]))
        files[rel] = score_csv(rows)
        metrics[metric] = {"per_example": rel}
    return files, metrics


def _epoch_mean(values: list[float], metric: str, ident: str) -> float:
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # epoch scores near 1.8e308 whose sum is past it
        raise ImporterError(f"sample {ident}: the {metric} scores of its epochs sum past the "
                            "largest float") from None


def _add_reported_values(metrics: dict[str, Any], header: dict[str, Any]) -> None:
    """The log's aggregate results, for metrics that have no per-example scores."""
    for score in listing(mapping(header.get("results")).get("scores")):
        if not isinstance(score, dict):
            continue
        for mname, m in mapping(score.get("metrics")).items():
            value = finite_or_none(m.get("value") if isinstance(m, dict) else None)
            if value is not None:
                metrics.setdefault(f"{score.get('name')}/{mname}", {"value": value})


def _add_judges(metrics: dict[str, Any], header: dict[str, Any]) -> None:
    """A model-graded scorer's judge on each of its metrics."""
    for scorer, judge in _graders(header).items():
        for metric, spec in metrics.items():
            if metric == scorer or metric.startswith(scorer + "/"):
                spec["judge"] = judge


def _graders(header: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Scorer name -> the judge of a model-graded scorer, when the log records its grader.

    Inspect logs each scorer's arguments as ``results.scores[].params``: a model-graded scorer
    given ``model="openai/gpt-4o"`` (and perhaps a ``template``) records them there. A scorer
    left on its default grader (the model under evaluation, or a model role) records no model,
    and no judge is written for it rather than a guessed one.
    """
    version = mapping(mapping(header.get("eval")).get("packages")).get("inspect_ai")
    out: dict[str, dict[str, Any]] = {}
    for score in listing(mapping(header.get("results")).get("scores")):
        if not isinstance(score, dict) or not isinstance(score.get("name"), str):
            continue
        params = mapping(score.get("params"))
        model = params.get("model")
        if isinstance(model, list) and len(model) == 1:
            model = model[0]
        if not isinstance(model, str) or not model:
            continue
        judge: dict[str, Any] = {"model": model, "library": "inspect_ai"}
        if isinstance(version, str):
            judge["library_version"] = version
        template = params.get("template")
        if isinstance(template, str) and template:
            judge["prompt_sha256"] = hashlib.sha256(template.encode("utf-8")).hexdigest()
        out[score["name"]] = judge
    return out


def _identity(sample: dict[str, Any], path: Path, where: str) -> tuple[str, int]:
    ident = sample.get("id", sample.get("sample_id"))
    if isinstance(ident, bool) or not isinstance(ident, int | str) or ident == "":
        raise fail(f"sample id must be an integer or text, got {ident!r}", path, field=where)
    epoch = sample.get("epoch", 1)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise fail(f"sample {ident}: epoch must be a positive integer, got {epoch!r}", path,
                   field=where)
    return str(ident), epoch


def _score_entries(scorer: str, score: Any, path: Path, where: str, ident: str) \
        -> list[tuple[str, Any]]:
    if not isinstance(score, dict) or "value" not in score:
        raise fail(f"sample {ident}: score {scorer!r} has no 'value'", path, field=where)
    value = score["value"]
    if isinstance(value, dict):  # a scorer that returns several named values
        return [(f"{scorer}/{k}", v) for k, v in sorted(value.items())]
    return [(scorer, value)]


def _trace(sample: dict[str, Any], ident: str, epoch: int) -> dict[str, Any]:
    usage = mapping(sample.get("model_usage"))
    inputs = [u.get("input_tokens") for u in usage.values() if isinstance(u, dict)]
    outputs = [u.get("output_tokens") for u in usage.values() if isinstance(u, dict)]
    seconds = finite_or_none(sample.get("total_time"))
    error = sample.get("error")
    message = error.get("message") if isinstance(error, dict) else error
    return {
        "id": ident if epoch == 1 else f"{ident}/epoch-{epoch}",
        # A time past 1e305 s would be inf in ms: no request takes it, so it is left out.
        "latency_ms": round(seconds * 1000.0, 3)
        if seconds is not None and abs(seconds) < 1e300 else None,
        "input_tokens": _int_sum(inputs),
        "output_tokens": _int_sum(outputs),
        "cost_usd": None,  # Inspect logs do not record cost
        "success": not error,
        "error": str(message) if message else None,
    }


def _int_sum(values: list[Any]) -> int | None:
    """The sum of token counts when there are some and every one is an integer."""
    return sum(values) if values and all(isinstance(x, int) for x in values) else None


def _usage(traces: list[dict[str, Any]], header: dict[str, Any]) -> dict[str, Any]:
    usage: dict[str, Any] = {"requests": len(traces),
                             "successes": sum(1 for t in traces if t["success"])}
    model_usage = mapping(header.get("stats")).get("model_usage")
    if isinstance(model_usage, dict) and model_usage:
        for ours, theirs in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens")):
            total = _int_sum([u.get(theirs) for u in model_usage.values() if isinstance(u, dict)])
            if total is not None:
                usage[ours] = total
    return usage


def _id_order(ident: str) -> tuple[int, str]:
    return (int(ident), "") if _small_number(ident) else (1 << 62, ident)


def _small_number(ident: str) -> bool:
    """ASCII digits that int() reads and an int64 holds ('²' is a digit int() refuses)."""
    return ident.isascii() and ident.isdigit() and len(ident) < 19


def _envelope(log: _Log, model: str) -> dict[str, Any]:
    ev = log.header["eval"]
    run: dict[str, Any] = {"model": model}
    created = ev.get("created")
    if isinstance(created, str):
        run["created_at"] = created
    packages = ev.get("packages") if isinstance(ev.get("packages"), dict) else {}
    run["source"] = {"tool": "inspect_ai", "version": packages.get("inspect_ai")}
    if packages:
        run["environment"] = {"packages": {str(k): str(v) for k, v in packages.items()}}
    code = _code(ev)
    if code is not None:
        run["code"] = code
    generate = ev.get("model_generate_config") or {}
    run["params"] = _params(ev, generate, log.header.get("plan"))
    seed = generate.get("seed") if isinstance(generate, dict) else None
    if isinstance(seed, int) and not isinstance(seed, bool):
        run["seeds"] = [seed]
    dataset = ev.get("dataset") if isinstance(ev.get("dataset"), dict) else {}
    if dataset.get("name"):
        run["data"] = [_data_entry(dataset)]
    run["llm"] = {"model": _llm_model(model, log.samples)}
    if dataset.get("name"):
        run["llm"]["dataset"] = {"name": str(dataset["name"])}
    run["tags"] = _tags(log, ev)
    return run


def _code(ev: dict[str, Any]) -> dict[str, Any] | None:
    revision = mapping(ev.get("revision"))
    commit = revision.get("commit")
    if isinstance(commit, str) and HEX_COMMIT.match(commit):
        return {"commit": commit, "repo": revision.get("origin")}
    return None


def _params(ev: dict[str, Any], generate: Any, plan: Any) -> dict[str, Any]:
    config = ev.get("config") if isinstance(ev.get("config"), dict) else {}
    params: dict[str, Any] = {
        "task": ev.get("task"),
        "task_args": plain(ev.get("task_args") or {}),
        "model_args": plain(ev.get("model_args") or {}),
        "generate_config": plain(generate),
        "eval_config": plain(config),
    }
    if isinstance(plan, dict) and plan.get("steps"):
        params["plan"] = plain(plan["steps"])
    return params


def _data_entry(dataset: dict[str, Any]) -> dict[str, Any]:
    return {"name": str(dataset["name"]), "uri": dataset.get("location"),
            "rows": dataset.get("samples") if isinstance(dataset.get("samples"), int) else None}


def _llm_model(model: str, samples: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    provider, _, name = model.partition("/") if "/" in model else ("", "", model)
    llm_model: dict[str, Any] = {"name": name or model, "provider": provider or None}
    served = {str((s.get("output") or {}).get("model")) for _w, s in samples
              if isinstance(s, dict) and isinstance(s.get("output"), dict)
              and (s.get("output") or {}).get("model")}
    served.discard(llm_model["name"])
    if len(served) == 1:
        # The dated id the provider actually served (e.g. gpt-4o-mini-2024-07-18).
        llm_model["revision"] = served.pop()
    return llm_model


def _tags(log: _Log, ev: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in {
        "inspect.status": log.header.get("status"),
        "inspect.eval_id": ev.get("eval_id"),
        "inspect.eval_set_id": ev.get("eval_set_id"),
        "inspect.run_id": ev.get("run_id"),
        "inspect.task": ev.get("task"),
        "inspect.log_file": log.path.name,
    }.items() if v}
