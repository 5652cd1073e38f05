"""lm-evaluation-harness output → bundle.

Layouts understood:

* v0.4.2+: ``results_<timestamp>.json`` beside ``samples_<task>_<timestamp>.jsonl``;
* v0.4.0/0.4.1: ``results.json`` beside ``<model>_<task>.jsonl`` holding one JSON array;
* v0.3: a results JSON (``results``/``versions``/``config``) and/or ``<task>_write_out_info.json``
  arrays whose scores are strings such as ``"True"`` or ``"0"``.

Metric names are ``<task>/<metric>`` (``<task>/<metric>/<filter>`` for filters other than
``none``); per-example files are ``scores/<task>.<metric>[.<filter>].csv`` keyed by ``doc_id``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gatekeeper.errors import ImporterError
from gatekeeper.importers.envinfo import parse_env_info
from gatekeeper.importers.interface import Draft, Importer, ImportOptions, fail, slug
from gatekeeper.importers.sources import (
    as_number,
    finite_or_none,
    iter_records,
    listing,
    load_json,
    mapping,
    open_file,
    plain,
)
from gatekeeper.importers.writer import score_csv

HEX_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
WRITE_OUT_SUFFIX = "_write_out_info.json"
# v0.3 write_out keys that describe the request, not a score.
_WRITE_OUT_FIELDS = re.compile(r"^(doc_id|truth|prompt_\d+|logit_\d+)$")
# v0.4 sample keys that are never metrics.
_SAMPLE_FIELDS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter",
                  "metrics", "doc_hash", "prompt_hash", "target_hash"}
_MEAN_TOLERANCE = 1e-9


@dataclass
class _Metric:
    """One task metric under one filter: the tool's reported value and per-example scores."""

    task: str
    metric: str
    filter: str
    value: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    source: Path | None = None

    @property
    def name(self) -> str:
        base = f"{self.task}/{self.metric}"
        return base if self.filter == "none" else f"{base}/{self.filter}"

    @property
    def file(self) -> str:
        parts = [slug(self.task), slug(self.metric)]
        if self.filter != "none":
            parts.append(slug(self.filter))
        return "scores/" + ".".join(parts) + ".csv"


class LmEvalImporter(Importer):
    name = "lm-eval"

    def read(self, source: Path, options: ImportOptions) -> list[Draft]:
        results_file, sample_files = _discover(source)
        header = _read_header(results_file) if results_file is not None else {}
        reported = _reported_metrics(header, results_file) if results_file else {}
        tasks = _choose_tasks(options.tasks, header, reported, sample_files, source)
        notes: list[str] = []
        metrics: dict[tuple[str, str, str], _Metric] = {}
        for (task, metric, filt), value in sorted(reported.items()):
            if task in tasks:
                metrics[(task, metric, filt)] = _Metric(task, metric, filt, value=value)
        inputs = [results_file] if results_file else []
        for task, path in sorted(sample_files.items()):
            if task not in tasks:
                continue
            inputs.append(path)
            _read_samples(path, task, header, metrics, notes)
        drafts_metrics, files = _metric_specs(metrics)
        if not drafts_metrics:
            raise fail("no numeric metrics found for the chosen tasks", source)
        run = _envelope(header, tasks, metrics, options, results_file, source)
        run["metrics"] = drafts_metrics
        label = str(run["model"])
        return [Draft(run=run, label=label, inputs=inputs, files=files, notes=notes)]


def _read_header(results_file: Path) -> dict[str, Any]:
    data = load_json(results_file)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise fail("not an lm-eval results file (no 'results' mapping)", results_file)
    return data


def _metric_specs(metrics: dict[tuple[str, str, str], _Metric]) \
        -> tuple[dict[str, dict[str, Any]], dict[str, bytes]]:
    """run.yaml's metrics (per-example files where there are scores) and the score files."""
    specs: dict[str, dict[str, Any]] = {}
    files: dict[str, bytes] = {}
    for key in sorted(metrics):
        m = metrics[key]
        if m.scores:
            files[m.file] = score_csv(sorted(m.scores.items(), key=_id_order))
            specs[m.name] = {"per_example": m.file}
        elif m.value is not None:
            specs[m.name] = {"value": m.value}
    return specs, files


# --- finding the files ---------------------------------------------------------------------

def _discover(source: Path) -> tuple[Path | None, dict[str, Path]]:
    """The results file (if any) and the per-task sample files that belong to it."""
    if not source.exists():
        raise fail("source not found", source)
    if source.is_file():
        if source.name.endswith(WRITE_OUT_SUFFIX):
            return None, {source.name[: -len(WRITE_OUT_SUFFIX)]: source}
        return source, _samples_for(source, source.parent)
    candidates = sorted(p for p in source.glob("*.json") if _is_results_name(p))
    if not candidates:
        # lm-eval writes into <output_path>/<model>/; accept the output_path too.
        candidates = sorted(p for p in source.glob("*/*.json") if _is_results_name(p))
    if len(candidates) > 1:
        names = ", ".join(str(p.relative_to(source)) for p in candidates)
        raise fail(f"several results files ({names}); pass the one to import as SOURCE", source)
    if candidates:
        return candidates[0], _samples_for(candidates[0], candidates[0].parent)
    write_outs = {p.name[: -len(WRITE_OUT_SUFFIX)]: p
                  for p in sorted(source.glob(f"*{WRITE_OUT_SUFFIX}"))}
    if not write_outs:
        raise fail("no lm-eval results_*.json, results.json or *_write_out_info.json here", source)
    return None, write_outs


def _is_results_name(path: Path) -> bool:
    name = path.name
    if name.endswith(WRITE_OUT_SUFFIX):
        return False
    if name.startswith("results"):
        return True
    # v0.3 --output_path could be any name; peek for its top-level keys.
    try:
        with open_file(path) as fh:
            head = fh.read(64).lstrip()
    except (OSError, ImporterError):  # unreadable, or a FIFO or device named *.json
        return False
    return head.startswith(b'{\n  "results"') or head.startswith(b'{"results"')


def _samples_for(results_file: Path, folder: Path) -> dict[str, Path]:
    stamp = _timestamp_of(results_file)
    found: dict[str, Path] = {}
    if stamp is not None:
        suffix = f"_{stamp}.jsonl"
        for p in sorted(folder.glob(f"samples_*{suffix}")):
            found[p.name[len("samples_"): -len(suffix)]] = p
        return found
    # 0.4.0/0.4.1 named them <model>_<task>.jsonl; the task is matched against the results.
    found.update({p.name[: -len(WRITE_OUT_SUFFIX)]: p
                  for p in sorted(folder.glob(f"*{WRITE_OUT_SUFFIX}"))})
    for p in sorted(folder.glob("*.jsonl")):
        found[f"\0{p.stem}"] = p  # resolved to a task name once the results are read
    return found


def _timestamp_of(results_file: Path) -> str | None:
    match = re.match(r"^results_(.+)\.json$", results_file.name)
    return match.group(1) if match else None


# --- what the results file reports ---------------------------------------------------------

def _reported_metrics(header: dict[str, Any], path: Path) \
        -> dict[tuple[str, str, str], float | None]:
    out: dict[tuple[str, str, str], float | None] = {}
    results = header["results"]
    for task, entry in results.items():
        if not isinstance(entry, dict):
            raise fail("expected a mapping of metrics", path, field=f"results.{task}")
        for key, value in entry.items():
            metric, _, filt = key.partition(",")
            filt = filt or "none"
            if metric.endswith("_stderr") or key in ("alias", "name", "sample_len", "sample_count"):
                continue
            if isinstance(value, dict | list) or (isinstance(value, str) and "," not in key):
                continue  # bookkeeping such as sample_count, alias
            out[(str(task), metric, filt)] = finite_or_none(value)
    return out


def _choose_tasks(wanted: tuple[str, ...], header: dict[str, Any],
                  reported: dict[tuple[str, str, str], float | None],
                  sample_files: dict[str, Path], source: Path) -> set[str]:
    known = {t for t, _, _ in reported}
    _resolve_unnamed_samples(sample_files, known | set(mapping(header.get("configs"))))
    known |= set(sample_files)
    if not wanted:
        return known
    groups = mapping(header.get("group_subtasks"))
    chosen: set[str] = set()
    for task in wanted:
        if task not in known:
            raise fail(f"task {task!r} is not in this output; available: "
                       f"{', '.join(sorted(known))}", source)
        chosen.add(task)
        chosen.update(t for t in listing(groups.get(task)) if isinstance(t, str) and t in known)
    return chosen


def _resolve_unnamed_samples(sample_files: dict[str, Path], tasks: set[str]) -> None:
    for key in [k for k in sample_files if k.startswith("\0")]:
        path = sample_files.pop(key)
        stem = key[1:]
        # The longest task name that ends the file name wins (wmdp_bio over bio).
        matches = sorted((t for t in tasks if stem == t or stem.endswith(f"_{t}")), key=len)
        if matches:
            sample_files[matches[-1]] = path


# --- per-sample scores ---------------------------------------------------------------------

def _read_samples(path: Path, task: str, header: dict[str, Any],
                  metrics: dict[tuple[str, str, str], _Metric], notes: list[str]) -> None:
    reported_names = {m for (t, m, _f) in metrics if t == task}
    aggregation = _aggregations(header, task)
    values, where = _collect_samples(path, task, reported_names)
    _check_count(header, task, values, path)
    for (name, filt), raw in sorted(values.items()):
        entry = metrics.setdefault((task, name, filt), _Metric(task, name, filt))
        scores = _numeric_scores(raw, where[(name, filt)], task, name, path, notes)
        if scores is not None and _per_example_mean(entry, scores, aggregation.get(name), path,
                                                    notes):
            entry.scores = scores
            entry.source = path


def _collect_samples(path: Path, task: str, reported_names: set[str]) \
        -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, str]]]:
    """(metric, filter) -> id -> raw value, and the record label each value came from."""
    write_out = path.name.endswith(WRITE_OUT_SUFFIX)
    values: dict[tuple[str, str], dict[str, Any]] = {}
    where: dict[tuple[str, str], dict[str, str]] = {}
    for label, line, record in iter_records(path):
        if not isinstance(record, dict):
            raise fail(f"{label}: expected an object", path, line=line)
        if "doc_id" not in record:
            raise fail(f"{label}: missing 'doc_id'", path, line=line)
        ident = _doc_id(record["doc_id"], path, label, line)
        filt = str(record.get("filter", "none"))
        names = _score_names(record, write_out, reported_names)
        if reported_names and not write_out:
            foreign = [n for n in names if n not in reported_names]
            if foreign:
                raise fail(f"{label}: metric {foreign[0]!r} is not reported for task {task!r} "
                           "(is this samples file from another task?)", path, line=line)
        for name in names:
            if name not in record:
                raise fail(f"{label} (doc_id {ident}): missing score field {name!r}", path,
                           line=line)
            seen = values.setdefault((name, filt), {})
            if ident in seen:
                first = where[(name, filt)][ident]
                raise fail(f"{label}: duplicate doc_id {ident} (first at {first})", path,
                           line=line)
            seen[ident] = record[name]
            where.setdefault((name, filt), {})[ident] = label
    return values, where


def _score_names(record: dict[str, Any], write_out: bool, reported_names: set[str]) -> list[str]:
    """The score fields of one sample record: declared, reported, or whatever is left."""
    if write_out:
        return [k for k in record if not _WRITE_OUT_FIELDS.match(k)]
    declared = record.get("metrics")
    if isinstance(declared, list):
        return [str(n) for n in declared]
    return sorted(n for n in reported_names if n in record) or \
        [k for k in record if k not in _SAMPLE_FIELDS]


def _numeric_scores(raw: dict[str, Any], where: dict[str, str], task: str, name: str,
                    path: Path, notes: list[str]) -> dict[str, float] | None:
    """The scores as numbers; None (with a note) when none of them is a number."""
    numbers = {k: as_number(v) for k, v in raw.items()}
    bad = [k for k, v in numbers.items() if v is None]
    if len(bad) == len(numbers):
        example = raw[bad[0]]
        notes.append(f"{task}/{name}: per-sample values are not numbers "
                     f"(e.g. {_short(example)}); kept only the reported aggregate")
        return None
    if bad:
        label = where[bad[0]]
        raise fail(f"{label} (doc_id {bad[0]}): score {name!r} is {_short(raw[bad[0]])}, "
                   "not a number", path)
    return {k: v for k, v in numbers.items() if v is not None}


def _per_example_mean(entry: _Metric, scores: dict[str, float], agg: str | None, path: Path,
                      notes: list[str]) -> bool:
    """Whether the reported value is the mean of ``scores``, so they can stand for it."""
    task, name = entry.task, entry.metric
    try:
        mean = math.fsum(scores.values()) / len(scores)
    except OverflowError:  # scores near 1.8e308 whose sum is past it: no such metric
        raise fail(f"the {name} scores of task {task!r} sum past the largest float", path) \
            from None
    if entry.value is not None and not math.isclose(mean, entry.value, rel_tol=0,
                                                    abs_tol=_MEAN_TOLERANCE):
        if agg == "mean":
            raise fail(f"the mean {name} of this samples file is {mean:.6g} but the results "
                       f"file reports {entry.value:.6g} for task {task!r} (is this file "
                       "from another task or run?)", path)
        notes.append(f"{task}/{name}: aggregated as {_short(agg)}, not a per-example mean; "
                     "kept only the reported aggregate")
        return False
    if agg not in (None, "mean"):
        notes.append(f"{task}/{name}: aggregated as {_short(agg)}, not a per-example mean; "
                     "kept only the reported aggregate")
        return False
    return True


def _doc_id(value: Any, path: Path, label: str, line: int | None) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise fail(f"{label}: doc_id must be an integer or text, got {_short(value)}", path,
                   line=line)
    return str(value)


def _check_count(header: dict[str, Any], task: str, values: dict[tuple[str, str], dict[str, Any]],
                 path: Path) -> None:
    counts = mapping(header.get("n-samples")).get(task) or {}
    effective = counts.get("effective") if isinstance(counts, dict) else None
    if not isinstance(effective, int) or not values:
        return
    for (name, filt), ids in values.items():
        if len(ids) != effective:
            raise fail(f"{len(ids)} samples for {task}/{name} (filter {filt}) but the results "
                       f"file reports {effective} (is this samples file from another run?)", path)


def _aggregations(header: dict[str, Any], task: str) -> dict[str, str | None]:
    config = mapping(mapping(header.get("configs")).get(task))
    out: dict[str, str | None] = {}
    for item in listing(config.get("metric_list")):
        if isinstance(item, dict) and "metric" in item:
            agg = item.get("aggregation")
            out[str(item["metric"])] = agg if isinstance(agg, str) else None
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _id_order(item: tuple[str, float]) -> tuple[int, int, str]:
    ident = item[0]
    if ident.isascii() and ident.isdigit() and len(ident) < 19:
        return (0, int(ident), "")
    return (1, 0, ident)


# --- the envelope --------------------------------------------------------------------------

def _model_args(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return {str(k): plain(v) for k, v in raw.items()}
    if isinstance(raw, str) and raw.strip():
        out: dict[str, Any] = {}
        for part in raw.split(","):
            key, sep, value = part.partition("=")
            if sep:
                out[key.strip()] = value.strip()
        return out
    return {}


def _envelope(header: dict[str, Any], tasks: set[str],
              metrics: dict[tuple[str, str, str], _Metric], options: ImportOptions,
              results_file: Path | None, source: Path) -> dict[str, Any]:
    config = header.get("config") or {}
    if not isinstance(config, dict):
        config = {}
    args = _model_args(config.get("model_args"))
    model = _model_name(header, args, options, source)
    run: dict[str, Any] = {"model": model}
    version = header.get("lm_eval_version")
    run["source"] = {"tool": "lm-evaluation-harness", "version": version}
    created_at = _created_at(header.get("date"))
    if created_at is not None:
        run["created_at"] = created_at
    params = _params(header, config, args, tasks)
    recorded_seeds = params.get("seeds") or {}
    if "random_seed" in recorded_seeds:
        run["seeds"] = [recorded_seeds["random_seed"]]
    run["params"] = params
    git_hash = header.get("git_hash")
    if isinstance(git_hash, str) and HEX_COMMIT.match(git_hash.strip()):
        run["code"] = {"commit": git_hash.strip()}
    run["tags"] = _tags(header, results_file)
    env = _environment(header, version)
    if env:
        run["environment"] = env
    run["data"] = _data_versions(header, tasks, metrics)
    run["llm"] = {"model": _llm_model(model, config, args)}
    return run


def _model_name(header: dict[str, Any], args: dict[str, Any], options: ImportOptions,
                source: Path) -> str:
    recorded_name = header.get("model_name") or args.get("pretrained") or args.get("model")
    if not isinstance(recorded_name, str | int) or isinstance(recorded_name, bool):
        recorded_name = None  # a mapping or a list where the name goes is no name
    model = options.model_name or (str(recorded_name) if recorded_name else None)
    if not model:
        raise fail("the tool did not record the model's name; pass --model-name", source)
    return model


def _created_at(date: Any) -> str | None:
    """The results file's ``date`` (a Unix time) as ISO 8601 UTC."""
    seconds = finite_or_none(date)
    if seconds is None:
        return None
    try:
        when = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):  # before year 1 or after 9999
        return None
    return when.isoformat().replace("+00:00", "Z")


def _params(header: dict[str, Any], config: dict[str, Any], args: dict[str, Any],
            tasks: set[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in ("model", "batch_size", "limit", "bootstrap_iters", "gen_kwargs", "use_cache",
                "fewshot_as_multiturn", "apply_chat_template", "system_instruction"):
        if key in config:
            params[key] = plain(config[key])
    for key in ("fewshot_as_multiturn", "system_instruction_sha", "chat_template_sha"):
        if key in header and header[key] is not None:
            params[key] = plain(header[key])
    if args:
        params["model_args"] = args
    _add_fewshot(params, header, config, tasks)
    seed_keys = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")
    recorded_seeds = {k: config[k] for k in seed_keys if isinstance(config.get(k), int)}
    if recorded_seeds:
        params["seeds"] = recorded_seeds
    return params


def _add_fewshot(params: dict[str, Any], header: dict[str, Any], config: dict[str, Any],
                 tasks: set[str]) -> None:
    """``num_fewshot``: per task from ``n-shot`` when recorded, else the run-wide setting."""
    shots = header.get("n-shot") or {}
    if isinstance(shots, dict) and shots:
        params["num_fewshot"] = {t: plain(v) for t, v in sorted(shots.items()) if t in tasks}
    elif "num_fewshot" in config:
        params["num_fewshot"] = plain(config["num_fewshot"])


def _tags(header: dict[str, Any], results_file: Path | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    upper = header.get("upper_git_hash")
    if isinstance(upper, str) and upper:
        tags["lm_eval.upper_git_hash"] = upper
    if results_file is not None:
        tags["lm_eval.results_file"] = results_file.name
    return tags


def _environment(header: dict[str, Any], version: Any) -> dict[str, Any]:
    env: dict[str, Any] = {}
    info = header.get("pretty_env_info")
    if isinstance(info, str):
        env = parse_env_info(info)
    packages = dict(env.get("packages") or {})
    if isinstance(header.get("transformers_version"), str):
        packages["transformers"] = header["transformers_version"]
    if isinstance(version, str):
        packages["lm_eval"] = version
    if packages:
        env["packages"] = packages
    return env


def _llm_model(model: str, config: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    llm_model: dict[str, Any] = {"name": model}
    if isinstance(config.get("model"), str):
        llm_model["provider"] = config["model"]
    revision = config.get("model_sha") or args.get("revision") or config.get("model_revision")
    if isinstance(revision, str) and revision:
        llm_model["revision"] = revision
    return llm_model


def _data_versions(header: dict[str, Any], tasks: set[str],
                   metrics: dict[tuple[str, str, str], _Metric]) -> list[dict[str, Any]]:
    hashes = mapping(header.get("task_hashes"))
    versions = mapping(header.get("versions"))
    configs = mapping(header.get("configs"))
    named_groups = header.get("groups")
    groups = set(mapping(header.get("group_subtasks"))) | (
        set(named_groups) if isinstance(named_groups, dict) else
        {g for g in listing(named_groups) if isinstance(g, str)})
    out: list[dict[str, Any]] = []
    for task in sorted(tasks):
        if task in groups:
            continue  # a group's data are its subtasks' data
        out.append(_data_entry(task, hashes, versions, configs, metrics))
    return out


def _data_entry(task: str, hashes: Any, versions: Any, configs: Any,
                metrics: dict[tuple[str, str, str], _Metric]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": task}
    digest = hashes.get(task) if isinstance(hashes, dict) else None
    if isinstance(digest, str) and SHA256.match(digest):
        entry["sha256"] = digest
    if task in versions and isinstance(versions[task], str | int | float):
        entry["version"] = str(versions[task])
    cfg = configs.get(task) if isinstance(configs, dict) else None
    if isinstance(cfg, dict):
        entry.update(_dataset_location(cfg))
    rows = {len(m.scores) for m in metrics.values() if m.task == task and m.scores}
    if len(rows) == 1:
        entry["rows"] = rows.pop()
    return entry


def _dataset_location(cfg: dict[str, Any]) -> dict[str, Any]:
    """``uri`` and ``split`` of a task's dataset, from its config."""
    out: dict[str, Any] = {}
    path = cfg.get("dataset_path")
    if isinstance(path, str) and path:
        name = cfg.get("dataset_name")
        out["uri"] = f"{path}/{name}" if isinstance(name, str) and name else path
    split = cfg.get("test_split") or cfg.get("validation_split")
    if isinstance(split, str):
        out["split"] = split
    return out
