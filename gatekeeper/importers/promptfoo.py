"""promptfoo ``eval -o output.json`` → bundle (one provider per bundle).

Example ids are ``test-<testIdx>``; when the chosen provider ran several prompts they are
``<prompt>/test-<testIdx>``, where ``<prompt>`` is the prompt's ``id`` from the config (e.g.
``reply-v2``) or ``prompt-<n>`` (n counts the provider's prompts from 0) when it has none.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.importers.interface import Draft, Importer, ImportOptions, fail
from gatekeeper.importers.sources import finite_or_none, listing, load_json, mapping, plain
from gatekeeper.importers.writer import jsonl, score_csv

TRACES = "traces/requests.jsonl"
# Assertion types whose verdict an LLM gives (promptfoo's "model-graded metrics"). `similar`
# (embeddings), `classifier` and `moderation` are not LLM judges and are left out.
MODEL_GRADED = frozenset({
    "llm-rubric", "search-rubric", "model-graded-closedqa", "model-graded-factuality",
    "factuality", "g-eval", "answer-relevance", "context-faithfulness", "context-recall",
    "context-relevance", "conversation-relevance", "select-best", "pi",
})
# promptfoo's ResultFailureReason: 0 none, 1 an assertion failed, 2 the request errored.
_FAILURE_ERROR = 2


@dataclass(frozen=True)
class _Row:
    ident: str
    order: tuple[int, int]
    score: float
    success: bool
    trace: dict[str, Any]


class PromptfooImporter(Importer):
    name = "promptfoo"

    def read(self, source: Path, options: ImportOptions) -> list[Draft]:
        path = source / "output.json" if source.is_dir() else source
        data = load_json(path)
        results_block = mapping(mapping(data).get("results"))
        records = results_block.get("results")
        if not isinstance(records, list):
            raise fail("not a promptfoo output file (no results.results list)", path)
        prompts_meta = results_block.get("prompts")
        prompts_meta = prompts_meta if isinstance(prompts_meta, list) else []
        config = mapping(data.get("config"))

        providers = _providers(records, path)
        chosen = _choose_provider(options.provider, providers, path)
        mine = [(i, r) for i, r in enumerate(records) if _provider_key(r, path, i) == chosen]
        prompt_keys = _prompt_keys(mine, prompts_meta, config, path)
        ordered = _rows(mine, prompt_keys, chosen, path)
        files, metrics = _score_files(ordered)

        provider = providers[chosen]
        model = options.model_name or chosen
        metadata = mapping(data.get("metadata"))
        run: dict[str, Any] = {
            "model": model,
            "metrics": metrics,
            "source": {"tool": "promptfoo", "version": metadata.get("promptfooVersion")},
            "created_at": results_block.get("timestamp") or metadata.get("evaluationCreatedAt"),
            "llm": {
                "model": {"name": chosen, "provider": provider.get("id") or None},
                "prompts": _prompts(prompt_keys, prompts_meta),
                "usage": _usage(ordered),
                "traces": [TRACES],
            },
            "tags": _tags(data, provider),
        }
        judge, judge_notes = _grader([r for _i, r in mine], config, metadata)
        if judge is not None:
            run["llm"]["judge"] = judge
        _add_config_and_environment(run, config, metadata)
        run_options = data.get("runtimeOptions")
        if isinstance(run_options, dict):
            run["params"] = _params(run_options)
        return [Draft(run=run, label=model, inputs=[path], files=files, notes=judge_notes)]


def _tags(data: dict[str, Any], provider: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in {
        "promptfoo.eval_id": data.get("evalId"),
        "promptfoo.provider_id": provider.get("id"),
    }.items() if isinstance(v, str) and v}


def _params(run_options: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(run_options[k]) for k in ("repeat", "maxConcurrency", "cache")
            if k in run_options}


def _providers(records: list[Any], path: Path) -> dict[str, dict[str, Any]]:
    """Provider key -> the provider as the first of its results records it."""
    providers: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise fail(f"result [{i}]: expected an object", path, field=f"results.results[{i}]")
        providers.setdefault(_provider_key(rec, path, i), mapping(rec.get("provider")))
    return providers


def _rows(mine: list[tuple[int, dict[str, Any]]], prompt_keys: dict[int, tuple[str, int]],
          chosen: str, path: Path) -> list[_Row]:
    """The chosen provider's results, one per example id, in prompt and test order."""
    rows: dict[str, _Row] = {}
    for i, rec in mine:
        row = _row(rec, i, prompt_keys, path)
        if row.ident in rows:
            raise fail(f"result [{i}]: duplicate example id {row.ident!r} for provider "
                       f"{chosen!r}", path, field=f"results.results[{i}]")
        rows[row.ident] = row
    return sorted(rows.values(), key=lambda r: r.order)


def _score_files(ordered: list[_Row]) -> tuple[dict[str, bytes], dict[str, Any]]:
    files = {
        "scores/score.csv": score_csv((r.ident, r.score) for r in ordered),
        "scores/success.csv": score_csv((r.ident, 1.0 if r.success else 0.0)
                                        for r in ordered),
        TRACES: jsonl(r.trace for r in ordered),
    }
    metrics: dict[str, Any] = {
        "score": {"per_example": "scores/score.csv"},
        "success": {"per_example": "scores/success.csv"},
    }
    if all(r.trace["latency_ms"] is not None for r in ordered):
        metrics["latency_ms"] = {"samples": TRACES, "field": "latency_ms", "unit": "ms"}
    return files, metrics


def _add_config_and_environment(run: dict[str, Any], config: dict[str, Any],
                                metadata: dict[str, Any]) -> None:
    """The description and inline tests of the recorded config, and the tool's environment."""
    if isinstance(config.get("description"), str):
        run["description"] = config["description"]
    env = _environment(metadata)
    if env:
        run["environment"] = env
    tests = config.get("tests")
    if isinstance(tests, list) and tests:
        # The tests are inline in the recorded config, so their hash is a fact, not a guess.
        canonical = json.dumps(tests, sort_keys=True, ensure_ascii=False).encode()
        digest = hashlib.sha256(canonical).hexdigest()
        run["data"] = [{"name": "tests", "sha256": digest, "rows": len(tests)}]
        run["llm"]["dataset"] = {"name": "tests", "sha256": digest}


def _environment(metadata: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = {}
    packages = {k: v for k, v in (("promptfoo", metadata.get("promptfooVersion")),
                                  ("node", metadata.get("nodeVersion")))
                if isinstance(v, str)}
    if packages:
        env["packages"] = packages
    if isinstance(metadata.get("platform"), str):
        arch = metadata.get("arch")
        env["platform"] = metadata["platform"] + (f"-{arch}" if isinstance(arch, str) else "")
    return env


def _provider_key(rec: dict[str, Any], path: Path, i: int) -> str:
    provider = rec.get("provider")
    if isinstance(provider, str) and provider:
        return provider
    if isinstance(provider, dict):
        label = provider.get("label")
        if isinstance(label, str) and label:
            return label
        ident = provider.get("id")
        if isinstance(ident, str) and ident:
            return ident
    raise fail(f"result [{i}]: no provider label or id", path, field=f"results.results[{i}]")


def _choose_provider(wanted: str | None, providers: dict[str, dict[str, Any]], path: Path) -> str:
    names = sorted(providers)
    if wanted is not None:
        for name, provider in providers.items():
            if wanted in (name, provider.get("id")):
                return name
        raise fail(f"provider {wanted!r} is not in this output; available: {', '.join(names)}",
                   path)
    if len(names) == 1:
        return names[0]
    if not names:
        raise fail("the output holds no results", path)
    raise fail(f"the output holds {len(names)} providers ({', '.join(names)}); choose one with "
               "--provider LABEL", path)


def _prompt_keys(mine: list[tuple[int, dict[str, Any]]], prompts_meta: list[Any],
                 config: dict[str, Any], path: Path) -> dict[int, tuple[str, int]]:
    """promptIdx -> (prompt key, ordinal) for the chosen provider's prompts."""
    indices = _prompt_indices(mine, path)
    config_ids: dict[str, str] = {}
    for p in listing(config.get("prompts")):
        if isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("raw"), str):
            config_ids.setdefault(p["raw"], p["id"])
    keys: dict[int, tuple[str, int]] = {}
    used: set[str] = set()
    for ordinal, idx in enumerate(indices):
        raw = _prompt_raw(prompts_meta, idx)
        key = config_ids.get(raw, "") if raw is not None else ""
        if not key or key in used:
            key = f"prompt-{ordinal}"
        used.add(key)
        keys[idx] = (key, ordinal)
    return keys


def _prompt_indices(mine: list[tuple[int, dict[str, Any]]], path: Path) -> list[int]:
    """The distinct promptIdx values of the chosen provider's results, ascending."""
    indices: list[int] = []
    for i, rec in mine:
        idx = rec.get("promptIdx")
        if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
            raise fail(f"result [{i}]: promptIdx must be a whole number, got {idx!r}", path,
                       field=f"results.results[{i}].promptIdx")
        if idx not in indices:
            indices.append(idx)
    indices.sort()
    return indices


def _prompt_raw(prompts_meta: list[Any], idx: int) -> str | None:
    if 0 <= idx < len(prompts_meta) and isinstance(prompts_meta[idx], dict):
        raw = prompts_meta[idx].get("raw")
        return raw if isinstance(raw, str) else None
    return None


def _row(rec: dict[str, Any], i: int, prompt_keys: dict[int, tuple[str, int]], path: Path) -> _Row:
    where = f"results.results[{i}]"
    test = rec.get("testIdx")
    if isinstance(test, bool) or not isinstance(test, int) or test < 0:
        raise fail(f"result [{i}]: testIdx must be a whole number, got {test!r}", path,
                   field=f"{where}.testIdx")
    key, ordinal = prompt_keys[rec["promptIdx"]]
    ident = f"test-{test}" if len(prompt_keys) == 1 else f"{key}/test-{test}"
    if "success" not in rec:
        raise fail(f"result [{i}] ({ident}): missing score field 'success'", path,
                   field=f"{where}.success")
    success = rec["success"]
    if not isinstance(success, bool):
        raise fail(f"result [{i}] ({ident}): success must be true or false, got {success!r}",
                   path, field=f"{where}.success")
    if "score" not in rec:
        raise fail(f"result [{i}] ({ident}): missing score field 'score'", path,
                   field=f"{where}.score")
    score = finite_or_none(rec["score"])
    if score is None:
        raise fail(f"result [{i}] ({ident}): score must be a number, got {rec['score']!r}", path,
                   field=f"{where}.score")
    usage = mapping(rec.get("tokenUsage"))
    error = rec.get("error") if rec.get("failureReason") == _FAILURE_ERROR else None
    response = mapping(rec.get("response"))
    trace = {
        "id": ident,
        "latency_ms": _non_negative(rec.get("latencyMs"), path, f"{where}.latencyMs", i),
        "input_tokens": _count(usage.get("prompt"), path, f"{where}.tokenUsage.prompt", i),
        "output_tokens": _count(usage.get("completion"), path, f"{where}.tokenUsage.completion",
                                i),
        "cost_usd": _non_negative(rec.get("cost"), path, f"{where}.cost", i),
        "success": success,
        "error": str(error) if error else None,
        "cached": bool(response.get("cached", False)),
    }
    return _Row(ident, (ordinal, test), score, success, trace)


def _non_negative(value: Any, path: Path, field: str, i: int) -> float | None:
    if value is None:
        return None
    number = finite_or_none(value)
    if number is None or number < 0:
        raise fail(f"result [{i}]: expected a non-negative number, got {value!r}", path,
                   field=field)
    return number


def _count(value: Any, path: Path, field: str, i: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(f"result [{i}]: expected a token count, got {value!r}", path, field=field)
    return value


def _prompts(prompt_keys: dict[int, tuple[str, int]], prompts_meta: list[Any]) \
        -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for idx, (key, _ordinal) in sorted(prompt_keys.items(), key=lambda kv: kv[1][1]):
        meta = prompts_meta[idx] if 0 <= idx < len(prompts_meta) else {}
        raw = meta.get("raw") if isinstance(meta, dict) else None
        entry: dict[str, Any] = {"id": key}
        tool_id = meta.get("id") if isinstance(meta, dict) else None
        # promptfoo does not version prompts; its own prompt id (a content hash) is the version.
        entry["version"] = tool_id if isinstance(tool_id, str) and tool_id else "unversioned"
        if isinstance(raw, str):
            entry["sha256"] = hashlib.sha256(raw.encode("utf-8")).hexdigest()
        out.append(entry)
    return out


def _usage(rows: list[_Row]) -> dict[str, Any]:
    def total(field: str) -> Any:
        values = [r.trace[field] for r in rows]
        if any(v is None for v in values):
            return None  # a partial sum would understate cost; leave it missing
        if field != "cost_usd":
            return sum(values)
        try:
            return math.fsum(values)
        except OverflowError:  # costs near 1.8e308 whose sum is past it: left missing
            return None

    return {
        "requests": len(rows),
        "successes": sum(1 for r in rows if r.success),
        "input_tokens": total("input_tokens"),
        "output_tokens": total("output_tokens"),
        "cost_usd": total("cost_usd"),
    }


def _assertions(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The test's assertions as run: the test case's list, or the graded components'."""
    test_case = mapping(rec.get("testCase"))
    listed = test_case.get("assert")
    if isinstance(listed, list):
        found = listed
    else:
        components = mapping(rec.get("gradingResult")).get("componentResults")
        found = [mapping(c).get("assertion") for c in components or []] \
            if isinstance(components, list) else []
    out: list[dict[str, Any]] = []
    for a in found:
        if isinstance(a, dict) and a.get("type") == "assert-set":  # a nested group
            out.extend(x for x in listing(a.get("assert")) if isinstance(x, dict))
        elif isinstance(a, dict):
            out.append(a)
    return out


def _grader_identity(provider: Any) -> tuple[str, float | None] | None:
    """A grading provider as the config gives it: "openai:gpt-4o-2024-08-06", or an object
    with an ``id`` (and ``config.temperature``), or a map by kind whose ``text`` entry grades."""
    if isinstance(provider, str) and provider:
        return provider, None
    if not isinstance(provider, dict):
        return None
    if "id" not in provider and "text" in provider:
        return _grader_identity(provider["text"])
    ident = provider.get("id")
    if not isinstance(ident, str) or not ident:
        return None
    temperature = finite_or_none(mapping(provider.get("config")).get("temperature"))
    return ident, temperature


def _grader(records: list[dict[str, Any]], config: dict[str, Any],
            metadata: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The LLM judge of the model-graded assertions, when the output names a single one.

    The grader is the assertion's ``provider``, else its test's ``options.provider``, else the
    config's ``defaultTest.options.provider``. Without any, promptfoo picks a default that
    depends on its version and the API keys at hand, and the output does not say which: the
    judge is then left unrecorded rather than guessed.
    """
    default_provider = mapping(mapping(config.get("defaultTest")).get("options")).get("provider")
    graders, unnamed = _graders_named(records, default_provider)
    if not graders and not unnamed:
        return None, []
    if unnamed:
        return None, [f"{unnamed} model-graded assertion(s) use promptfoo's default grader, "
                      "which the output does not name: no judge recorded"]
    if len(graders) > 1:
        names = ", ".join(sorted(g for g, _t in graders))
        return None, [f"the model-graded assertions use several graders ({names}): no single "
                      "judge recorded; record each metric's judge by hand"]
    (model, temperature), = graders
    judge: dict[str, Any] = {"model": model, "library": "promptfoo"}
    version = metadata.get("promptfooVersion")
    if isinstance(version, str) and version:
        judge["library_version"] = version
    if temperature is not None:
        judge["temperature"] = temperature
    return judge, []


def _graders_named(records: list[dict[str, Any]], default_provider: Any) \
        -> tuple[set[tuple[str, float | None]], int]:
    """The graders the model-graded assertions name, and how many name none."""
    graders: set[tuple[str, float | None]] = set()
    unnamed = 0
    for rec in records:
        test_options = mapping(mapping(rec.get("testCase")).get("options"))
        for assertion in _assertions(rec):
            kind = assertion.get("type")
            if not isinstance(kind, str) or kind not in MODEL_GRADED:
                continue
            for given in (assertion.get("provider"), test_options.get("provider"),
                          default_provider):
                identity = _grader_identity(given)
                if identity is not None:
                    graders.add(identity)
                    break
            else:
                unnamed += 1
    return graders, unnamed
