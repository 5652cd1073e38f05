"""Regenerate the LLM demo: a file registry with the production support bot and four candidate
bundles, checked by ``policies/llm-app.yaml`` (deterministic).

    python examples/llm/make_llm_demo.py

The app answers customer-support questions; 400 eval requests per run, each scored
"helpful" (1/0) by an LLM judge and exact-matched against a reference answer. Production
(registry version 1) runs gpt-4o-mini with prompt ``reply`` v6. Candidates:

* ``bundles/pass``          — prompt v7 only: 20 more helpful replies, 8 fewer; same latency,
  cost and judge;
* ``bundles/judge-changed`` — the same replies scored by a different judge (gpt-4o-mini as the
  judge): blocked by the pin and by the baseline comparison, naming both judges;
* ``bundles/over-budget``   — the model changed to gpt-4o: p95 latency about ×1.8 (over the
  2,500 ms budget and the ×1.25 ratio: block) and cost per success over $0.003 (warn);
* ``bundles/two-changes``   — dataset v4 and prompt v7 at once: the difference cannot be
  attributed (``llm.one_change_at_a_time``: block).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
N = 400
MODEL = "support-bot"
IDS = [f"q-{i:03d}" for i in range(N)]
LOCK_SHA = hashlib.sha256(b"support-bot uv.lock").hexdigest()
PROMPTS = {6: "You are a support agent. Answer briefly.\n{question}",
           7: "You are a support agent. Answer briefly and cite the help-centre article.\n"
              "{question}"}
DATASETS = {"v3": hashlib.sha256(b"support eval v3").hexdigest(),
            "v4": hashlib.sha256(b"support eval v4").hexdigest()}
JUDGE_PROMPT_SHA = hashlib.sha256(
    b"Is the reply helpful and correct for the question? Answer pass or fail.").hexdigest()
JUDGES = {
    "pinned": {"model": "gpt-4o-2024-08-06", "prompt_sha256": JUDGE_PROMPT_SHA,
               "temperature": 0.0, "library": "promptfoo", "library_version": "0.123.1"},
    "other": {"model": "gpt-4o-mini-2024-07-18", "prompt_sha256": JUDGE_PROMPT_SHA,
              "temperature": 0.0, "library": "promptfoo", "library_version": "0.123.1"},
}
MODELS = {  # USD per million input / output tokens
    "gpt-4o-mini": ({"provider": "openai", "name": "gpt-4o-mini", "revision": "2024-07-18"},
                    0.15, 0.60),
    "gpt-4o": ({"provider": "openai", "name": "gpt-4o", "revision": "2024-08-06"}, 2.50, 10.0),
}


def sha_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_bundle(root: Path, *, run_id: str, commit: str, created: str, model: str,
                 prompt: int, dataset: str, judge: str, helpful: np.ndarray,
                 exact: np.ndarray, latency: np.ndarray, tokens_in: np.ndarray,
                 tokens_out: np.ndarray, errors: np.ndarray) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "scores").mkdir(parents=True)
    (root / "traces").mkdir()
    (root / "prompts").mkdir()
    llm_model, price_in, price_out = MODELS[model]
    for name, values in (("helpfulness", helpful), ("exact_match", exact)):
        with (root / "scores" / f"{name}.csv").open("w", newline="") as fh:
            fh.write("id,score\n")
            fh.writelines(f"{i},{int(v)}\n" for i, v in zip(IDS, values, strict=True))
    with (root / "traces" / "requests.jsonl").open("w") as fh:
        for k, ident in enumerate(IDS):
            erred = bool(errors[k])
            cost = (tokens_in[k] * price_in + tokens_out[k] * price_out) / 1e6
            fh.write(json.dumps({
                "id": ident, "latency_ms": round(float(latency[k]), 1),
                "input_tokens": int(tokens_in[k]), "output_tokens": int(tokens_out[k]),
                "cost_usd": round(cost, 8), "success": bool(helpful[k]) and not erred,
                "judge": None if erred else ("pass" if helpful[k] else "fail"),
                "error": "upstream timeout" if erred else None,
            }, sort_keys=True) + "\n")
    prompt_path = root / "prompts" / "reply.txt"
    prompt_path.write_text(PROMPTS[prompt])
    run = {
        "schema": "gatekeeper.run/v1",
        "run_id": run_id,
        "model": MODEL,
        "created_at": created,
        "code": {"repo": "example/support-bot", "commit": commit, "dirty": False},
        "environment": {"python": "3.11.7", "platform": "linux-x86_64",
                        "lockfile": {"path": "uv.lock", "sha256": LOCK_SHA}},
        "data": [{"name": "support-eval", "uri": f"s3://demo/support/eval-{dataset}.jsonl",
                  "sha256": DATASETS[dataset], "version": dataset, "split": "test",
                  "rows": N}],
        "metrics": {
            # judged by the run's llm.judge
            "helpfulness": {"per_example": "scores/helpfulness.csv"},
            # string match against the reference: explicitly not judged
            "exact_match": {"per_example": "scores/exact_match.csv", "judge": None},
            "latency_ms": {"samples": "traces/requests.jsonl", "field": "latency_ms",
                           "unit": "ms"},
        },
        "artifacts": [{"path": "prompts/reply.txt", "sha256": sha_file(prompt_path),
                       "size": prompt_path.stat().st_size, "kind": "prompt"}],
        "llm": {
            "prompts": [{"id": "reply", "version": prompt, "sha256": sha_text(PROMPTS[prompt]),
                         "path": "prompts/reply.txt"}],
            "model": llm_model,
            "dataset": {"name": "support-eval", "version": dataset,
                        "sha256": DATASETS[dataset]},
            "judge": JUDGES[judge],
            "traces": ["traces/requests.jsonl"],
        },
        "intended_use": "Draft replies to customer-support questions for an agent to review.",
        "limitations": "English only; replies are drafts, never sent without review.",
    }
    (root / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))


def flip(base: np.ndarray, rng: np.random.Generator, fix: int, brk: int) -> np.ndarray:
    out = base.copy()
    out[rng.choice(np.flatnonzero(base == 0), fix, replace=False)] = 1
    out[rng.choice(np.flatnonzero(base == 1), brk, replace=False)] = 0
    return out


def main() -> None:
    rng = np.random.default_rng(20261127)
    helpful = (rng.random(N) < 0.80).astype(int)
    exact = (rng.random(N) < 0.70).astype(int)
    latency = rng.lognormal(np.log(900.0), 0.4, size=N)
    tokens_in = rng.integers(450, 750, size=N)
    tokens_out = rng.integers(120, 320, size=N)
    errors = np.zeros(N, dtype=bool)
    errors[rng.choice(N, 2, replace=False)] = True

    reg = HERE / "registry" / MODEL
    if reg.exists():
        shutil.rmtree(reg)
    created = "2026-10-01T09:00:00Z"
    write_bundle(reg / "versions" / "1", run_id="support-run-v1",
                 commit="aaaa1111bbbb2222cccc3333dddd4444eeee5555", created=created,
                 model="gpt-4o-mini", prompt=6, dataset="v3", judge="pinned", helpful=helpful,
                 exact=exact, latency=latency, tokens_in=tokens_in, tokens_out=tokens_out,
                 errors=errors)
    from gatekeeper.inputs.bundle import (
        load_bundle,  # the canonical bundle hash, as check computes it
    )

    index = {
        "schema": "gatekeeper.registry/v1",
        "model": MODEL,
        "revision": 2,
        "versions": [{
            "version": "1", "run_id": "support-run-v1", "created_at": created,
            "verdict": "pass", "archived": False, "tags": {"team": "support"},
            "bundle_sha256": load_bundle(reg / "versions" / "1").sha256(),
            "approval": {"approved_by": "alice", "approved_at": created, "ticket": "SUP-41",
                         "policy_name": "llm-app", "policy_version": "1"},
        }],
        "aliases": {"production": "1"},
        "alias_history": [{"alias": "production", "version": "1", "since": created,
                           "until": None}],
    }
    (reg / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

    noise = np.random.default_rng(7)
    better = flip(helpful, rng, 20, 8)
    same_latency = latency * noise.lognormal(0.0, 0.05, size=N)
    common: dict[str, Any] = {"created": "2026-11-20T10:00:00Z", "exact": exact,
                              "tokens_in": tokens_in, "errors": errors}
    cands: dict[str, dict[str, Any]] = {
        "pass": {"model": "gpt-4o-mini", "prompt": 7, "dataset": "v3", "judge": "pinned",
                 "helpful": better, "latency": same_latency,
                 "tokens_out": tokens_out + 10},
        "judge-changed": {"model": "gpt-4o-mini", "prompt": 7, "dataset": "v3",
                          "judge": "other", "helpful": better, "latency": same_latency,
                          "tokens_out": tokens_out + 10},
        "over-budget": {"model": "gpt-4o", "prompt": 6, "dataset": "v3", "judge": "pinned",
                        "helpful": flip(helpful, rng, 25, 10),
                        "latency": latency * 1.8 * noise.lognormal(0.0, 0.05, size=N),
                        "tokens_out": tokens_out + 40},
        "two-changes": {"model": "gpt-4o-mini", "prompt": 7, "dataset": "v4",
                        "judge": "pinned", "helpful": flip(helpful, rng, 18, 8),
                        "latency": same_latency, "tokens_out": tokens_out + 10},
    }
    for name, spec in cands.items():
        write_bundle(HERE / "bundles" / name, run_id=f"support-run-{name}",
                     commit=hashlib.sha1(name.encode()).hexdigest(), **common, **spec)


if __name__ == "__main__":
    main()
