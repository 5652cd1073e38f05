"""policy.yaml: what a run must show to be promoted (docs/policy.md)."""

from __future__ import annotations

import difflib
import fnmatch
from datetime import date
from typing import Any, Literal, get_args

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from gatekeeper.models.common import (
    NonEmpty,
    Number,
    Sha256,
    Status,
    Strict,
    Text,
    login_key,
)
from gatekeeper.models.verdict import CheckFamily

# A waiver pattern's first segment must be one of these (a typo there matches nothing, ever).
CHECK_FAMILIES: tuple[str, ...] = get_args(CheckFamily)

POLICY_API_VERSION = "gatekeeper/v1"

# Sentinel's enforcement levels: an advisory rule's failure warns; a soft rule's failure blocks
# unless a waiver covers it (the default); a hard rule's failure blocks and no waiver may name it.
Enforcement = Literal["advisory", "soft", "hard"]


class Metadata(Strict):
    name: NonEmpty
    version: int | NonEmpty
    owner: Text | None = None
    description: Text | None = None
    intended_use: Text | None = None
    limitations: Text | None = None


class BaselineRef(Strict):
    registry: str | None = None  # e.g. "file:.gatekeeper/registry", "mlflow+http://host:5000"
    model: str | None = None  # default: the run's model
    alias: NonEmpty = "production"
    version: str | None = None  # pin a version instead of following the alias
    max_age_days: NonNegativeFloat | None = None  # older baseline → warn (stale)
    on_missing: Status = "block"
    on_registry_error: Literal["error", "block"] = "error"
    # A baseline whose registry entry records no bundle sha256 cannot be verified: warn by
    # default, block where the policy says so (release branches).
    on_unverified: Status = "warn"


class EnvelopeRule(Strict):
    required: list[NonEmpty] = Field(default_factory=list)  # dotted paths, data[*].sha256
    min_seeds: PositiveInt | None = None
    require_clean_code: bool = False  # code.dirty must be false
    on_missing: Status = "block"


class VsBaseline(Strict):
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    margin: NonNegativeFloat = 0.0
    margin_rel: NonNegativeFloat | None = None  # relative to the baseline's value
    min_gain: NonNegativeFloat | None = None
    require: Literal["non_inferior", "superior"] = "non_inferior"
    method: str | None = None  # override the data-shape choice (docs/statistics.md)
    aggregate: str | None = None  # non-decomposable metric, e.g. "f1"
    require_full_overlap: bool = False
    quantile: float | None = Field(default=None, gt=0.0, lt=1.0)  # samples: compare this quantile
    # Examples the baseline was scored on and the candidate was not. "fail" (the default)
    # scores each as the worst value of the metric's range, so dropping the examples a model
    # gets wrong cannot help it; "drop" leaves them out, up to max_missing_fraction of the
    # baseline's examples (a loosening: the policy diff says so).
    missing: Literal["fail", "drop"] = "fail"
    max_missing_fraction: float = Field(default=0.02, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _one_margin(self) -> VsBaseline:
        if self.margin_rel is not None and self.margin:
            raise ValueError("give margin or margin_rel, not both")
        return self


class MetricRule(Strict):
    metric: NonEmpty
    higher_is_better: bool = True
    min: Number | None = None
    max: Number | None = None
    # The values the metric can take, e.g. [0, 1]: scores outside it are refused, and an
    # example missing from the candidate scores the worst end of it.
    range: tuple[Number, Number] | None = None
    vs_baseline: VsBaseline | None = None
    on_fail: Status = "block"
    on_inconclusive: Status = "warn"
    enforcement: Enforcement = "soft"
    # A series metric (a curve by step) is gated on one of its values: the one at the last step
    # ("final") or the best one in the rule's direction ("best"). Required for a series, refused
    # for any other metric (inputs/series.py).
    reduce: Literal["final", "best"] | None = None

    @model_validator(mode="after")
    def _has_a_rule(self) -> MetricRule:
        if self.min is None and self.max is None and self.vs_baseline is None:
            raise ValueError("a metric rule needs min, max or vs_baseline")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range [{self.range[0]:g}, {self.range[1]:g}] is empty: give "
                             "[low, high]")
        return self


class BudgetVsBaseline(Strict):
    max_ratio: float = Field(gt=0.0)  # candidate / baseline must stay below this
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)


class Budget(Strict):
    """A cost/latency/usage limit. ``name`` is a metric of the run or a derived quantity
    (docs/policy.md lists them: cost_usd, cost_per_request_usd, cost_per_success_usd,
    tokens_per_request, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms)."""

    name: NonEmpty
    max: Number | None = None
    min: Number | None = None
    vs_baseline: BudgetVsBaseline | None = None
    on_exceed: Status = "block"
    enforcement: Enforcement = "soft"

    @model_validator(mode="after")
    def _has_a_limit(self) -> Budget:
        if self.max is None and self.min is None and self.vs_baseline is None:
            raise ValueError("a budget needs max, min or vs_baseline")
        return self


class JudgePin(Strict):
    model: NonEmpty
    prompt_sha256: Sha256 | None = None
    temperature: Number | None = None


class JudgeRule(Strict):
    pin: JudgePin | None = None
    # The metrics an LLM judge scores. Each must record its judge (matching the pin, if any):
    # without the list a run that records no judge, as importers' runs often do, would escape
    # the pin by saying nothing.
    metrics: list[NonEmpty] = Field(default_factory=list)
    on_mismatch: Status = "block"

    @model_validator(mode="after")
    def _metrics_once(self) -> JudgeRule:
        seen: set[str] = set()
        for name in self.metrics:
            if name in seen:
                raise ValueError(f"judge.metrics lists {name!r} twice")
            seen.add(name)
        return self


# Checks that say whether the evidence is genuine: files that match their hashes, a baseline
# that is what the registry says, every seed that was run. Waiving one would let a tampered or
# cherry-picked bundle through with a green headline, so no waiver may cover them.
# A pattern ending in ":" stands for every id it begins; otherwise it is one check id.
UNWAIVABLE = ("artifact:", "seeds:", "baseline:integrity")


def is_unwaivable(check_id: str) -> bool:
    return any(check_id.startswith(u) if u.endswith(":") else check_id == u
               for u in UNWAIVABLE)


def _glob_tokens(pattern: str) -> list[str]:
    """fnmatch's tokens: "*", "?", a bracket class "[...]" or one literal character."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j != -1:  # an unclosed "[" is a literal, as in fnmatch
                out.append(pattern[i:j + 1])
                i = j + 1
                continue
        out.append(ch)
        i += 1
    return out


def _token_matches(token: str, ch: str) -> bool:
    if token == "?":
        return True
    if len(token) > 1:  # a bracket class
        return fnmatch.fnmatchcase(ch, token)
    return token == ch


def can_match_prefix(pattern: str, prefix: str) -> bool:
    """Whether the glob matches at least one string that starts with ``prefix``.

    Runs the glob as an automaton over the prefix: if some state survives the prefix, the rest
    of the pattern can always be satisfied by a suitable suffix.
    """
    tokens = _glob_tokens(pattern)

    def closure(states: set[int]) -> set[int]:
        out = set(states)
        for i in sorted(states):
            while i < len(tokens) and tokens[i] == "*":
                i += 1
                out.add(i)
        return out

    states = closure({0})
    for ch in prefix:
        nxt: set[int] = set()
        for i in states:
            if i >= len(tokens):
                continue
            if tokens[i] == "*":
                nxt.add(i)
            elif _token_matches(tokens[i], ch):
                nxt.add(i + 1)
        states = closure(nxt)
        if not states:
            return False
    return True


class Waiver(Strict):
    check: NonEmpty  # a check id, or a glob such as "metric:accuracy:*"
    reason: NonEmpty
    approved_by: NonEmpty
    expires: date
    ticket: Text | None = None

    @model_validator(mode="after")
    def _narrow_and_waivable(self) -> Waiver:
        pattern = self.check
        if not pattern.replace("*", "").replace("?", "").replace(":", "").strip():
            raise ValueError(
                f"waiver check {pattern!r} is only wildcards: it would waive every check, "
                "block included; name the check (e.g. 'metric:accuracy:vs_baseline' or "
                "'budget:cost_usd')")
        covered = [u for u in UNWAIVABLE
                   if (can_match_prefix(pattern, u) if u.endswith(":")
                       else fnmatch.fnmatchcase(u, pattern))]
        if covered:
            shown = ", ".join(u + "*" if u.endswith(":") else u for u in covered)
            raise ValueError(
                f"waiver check {pattern!r} would cover {shown}: integrity checks (artifact:*, "
                "seeds:*, baseline:integrity) cannot be waived; fix the bundle, or narrow the "
                "pattern to the checks you mean")
        return self


class WaiverPolicy(Strict):
    """What every waiver of the policy must carry."""

    # A waiver without a ticket is an exception nobody can trace back to a decision.
    require_ticket: bool = True


def rule_check_ids(policy: Policy, level: Enforcement) -> list[str]:
    """The check ids of the metric and budget rules at ``level`` (min, max and vs_baseline
    ids for a metric; the limit and vs_baseline ids for a budget)."""
    out: list[str] = []
    for m in policy.metrics:
        if m.enforcement == level:
            out += [f"metric:{m.metric}:{aspect}" for aspect in ("min", "max", "vs_baseline")]
    for b in policy.budgets:
        if b.enforcement == level:
            out += [f"budget:{b.name}", f"budget:{b.name}:vs_baseline"]
    return out


def waiver_problems(policy: Policy) -> list[tuple[tuple[str | int, ...], str]]:
    """Every waiver the policy may not carry, each with the path of the field at fault.

    Checked by the loader (first problem, with its line) and by ``policy validate`` (all of
    them), not by a model validator: a model-level error has no path, so it could only point
    at line 1 of the file."""
    hard = rule_check_ids(policy, "hard")
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, w in enumerate(policy.waivers):
        named = [cid for cid in hard if fnmatch.fnmatchcase(cid, w.check)]
        if named:
            out.append((("waivers", i, "check"),
                        f"waivers[{i}] ({w.check!r}) names {named[0]}, whose rule is hard "
                        "(enforcement: hard): a hard rule cannot be waived; fix the run, or "
                        "make the rule soft in a reviewed policy change"))
        if policy.waiver_policy.require_ticket and not w.ticket:
            out.append((("waivers", i),
                        f"waivers[{i}] ({w.check!r}) has no ticket: give one (ticket: ...), or "
                        "set waiver_policy: {require_ticket: false}"))
        family = w.check.split(":", 1)[0]
        if not any(c in family for c in "*?[") and family not in CHECK_FAMILIES:
            close = difflib.get_close_matches(family, CHECK_FAMILIES, n=1)
            hint = f"did you mean `{close[0]}:`? " if close else ""
            out.append((("waivers", i, "check"),
                        f"waivers[{i}] ({w.check!r}) can match no check: {hint}check ids start "
                        f"with {', '.join(f'{f}:' for f in CHECK_FAMILIES)}"))
        if policy.approvers and login_key(w.approved_by) not in {
                login_key(a) for a in policy.approvers}:
            out.append((("waivers", i, "approved_by"),
                        f"waivers[{i}] ({w.check!r}) is approved by {w.approved_by!r}, who is "
                        f"not in the policy's approvers ({', '.join(policy.approvers)})"))
    return out


class LlmRule(Strict):
    one_change_at_a_time: bool = False
    on_violation: Status = "block"


class Multiplicity(Strict):
    """How many per-metric tests combine. 'all must hold' is an intersection-union test and
    needs no correction; any-degrades / any-improves families use Holm (or BH)."""

    method: Literal["holm", "bh", "bonferroni", "none"] = "holm"


class Leaderboard(Strict):
    """Leaderboard traps (docs/leaderboard.md): every decision is recorded against the eval set
    it used; a reuse budget, a Ladder-style release of scores, sealed holdouts, and the
    adjustment of a sweep's winner for the k trials it was picked from."""

    # A registry URI holding the usage ledger; default: the baseline's registry.
    ledger: str | None = None
    # data[] entry names that are the eval set besides the test/eval/validation splits.
    eval_sets: list[NonEmpty] = Field(default_factory=list)
    # The decision that finds max_decisions earlier decisions on its eval set is over budget.
    max_decisions: PositiveInt | None = None
    window_days: PositiveFloat | None = None  # None: every earlier decision counts
    on_exceed: Status = "warn"
    # exact: Δ and its interval as computed; ladder: rounded to ladder_step, released only
    # on an improvement of at least one step (Blum & Hardt's Ladder).
    release: Literal["exact", "ladder"] = "exact"
    ladder_step: PositiveFloat = 0.01
    # data[] entry names of a sealed holdout: its comparisons report the verdict only.
    sealed: list[NonEmpty] = Field(default_factory=list)
    # The winner of a sweep of k trials on the same eval set: its interval is widened for the
    # selection (Šidák by default); none turns the adjustment off (a loosening).
    sweep_adjustment: Literal["sidak", "bonferroni", "none"] = "sidak"

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        """An unknown key, with the field it was probably meant to be: a misspelt budget
        would otherwise be no budget at all."""
        if isinstance(data, dict):
            known = list(cls.model_fields)
            unknown = [str(key) for key in data if key not in known]
            if unknown:
                parts = []
                for key in unknown:
                    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                    parts.append(f"{key!r} (did you mean {close[0]!r}?)" if close
                                 else f"{key!r} (known: {', '.join(known)})")
                raise ValueError(f"unknown field{'s' if len(unknown) > 1 else ''} in "
                                 f"leaderboard: {', '.join(parts)}")
        return data

    @model_validator(mode="after")
    def _sealed_apart(self) -> Leaderboard:
        both = sorted(set(self.sealed) & set(self.eval_sets))
        if both:
            raise ValueError(f"data entry {both[0]!r} is named in both eval_sets and sealed: "
                             "a sealed holdout is a second eval set, kept apart")
        return self


class StatsSettings(Strict):
    seed: NonNegativeInt = 0
    resamples: PositiveInt = 10_000


class Reproducibility(Strict):
    """What `gatekeeper replay` accepts, and whether a run must bring a replay record."""

    # How far a replayed number may move and still count as reproduced: one absolute
    # tolerance for every metric, or one per metric (metrics not named get 0).
    replay_tolerance: NonNegativeFloat | dict[NonEmpty, NonNegativeFloat] = 0.0
    # Require `gatekeeper replay --record` to have been run (set it under `branches:` for
    # release branches): a run without a record, or whose replay was not reproducible, fails.
    require_replay: bool = False
    on_missing_replay: Status = "block"

    def tolerance(self, metric: str) -> float:
        if isinstance(self.replay_tolerance, dict):
            return float(self.replay_tolerance.get(metric, 0.0))
        return float(self.replay_tolerance)


class Policy(Strict):
    api_version: Literal["gatekeeper/v1"] = Field(alias="apiVersion")
    kind: Literal["Policy"] = "Policy"
    metadata: Metadata
    extends: str | list[str] | None = None  # resolved by the loader; kept for the record
    branches: dict[str, dict[str, Any]] = Field(default_factory=dict)
    baseline: BaselineRef | None = None
    envelope: EnvelopeRule = Field(default_factory=EnvelopeRule)
    metrics: list[MetricRule] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    judge: JudgeRule | None = None
    waivers: list[Waiver] = Field(default_factory=list)
    waiver_policy: WaiverPolicy = Field(default_factory=WaiverPolicy)
    # GitHub logins who may approve a change that loosens this policy (or adds it) and sign
    # its waivers. A child policy's list replaces its parent's.
    approvers: list[NonEmpty] = Field(default_factory=list)
    llm: LlmRule | None = None
    multiplicity: Multiplicity = Field(default_factory=Multiplicity)
    stats: StatsSettings = Field(default_factory=StatsSettings)
    reproducibility: Reproducibility | None = None
    leaderboard: Leaderboard | None = None
