"""run.yaml: one run r = (λ params, s seeds, e environment, D_v data, c code, m metrics, A_r)."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, NonNegativeFloat, model_validator

from gatekeeper.models.common import (
    Count,
    GitCommit,
    Int,
    Line,
    NonEmpty,
    Number,
    Sha256,
    Strict,
    Text,
    no_credentials,
)

RUN_SCHEMA = "gatekeeper.run/v1"


class CodeVersion(Strict):
    repo: Line | None = None
    commit: GitCommit | None = None
    branch: Line | None = None
    dirty: bool | None = None
    # Recorded by `gatekeeper capture` and the Python API: where the repository is pushed, the
    # sha256 of `git diff HEAD` when dirty, and untracked files (listed apart: they do not make
    # the tree dirty, and ignored files are not listed at all).
    remote: Line | None = None
    diff_sha256: Sha256 | None = None
    untracked: list[Line] | None = None


class Lockfile(Strict):
    path: NonEmpty
    sha256: Sha256
    kind: Line | None = None  # uv, poetry, requirements, pipfile, conda


class Hardware(Strict):
    accelerator: Line | None = None
    count: Count | None = None
    driver: Line | None = None
    cuda: Line | None = None
    cpu: Line | None = None
    memory_gb: NonNegativeFloat | None = None


class Environment(Strict):
    python: Line | None = None
    platform: Line | None = None
    lockfile: Lockfile | None = None
    hardware: Hardware | None = None
    determinism: dict[str, Any] | None = None
    packages: dict[Line, Line] | None = None
    implementation: Line | None = None  # CPython, PyPy
    # Without a lockfile: a sha256 over the installed distributions' names and versions.
    packages_sha256: Sha256 | None = None
    # Environment variables, only those the user allow-listed (values are credential-checked).
    variables: Annotated[dict[Line, Line], AfterValidator(no_credentials)] | None = None
    # Facts capture could not read, each with why ("code.commit: not a git repository"):
    # missing is said, never guessed.
    missing: list[Line] | None = None


class DataVersion(Strict):
    name: NonEmpty
    uri: Line | None = None
    sha256: Sha256 | None = None
    version: Line | None = None
    split: Line | None = None
    rows: Count | None = None


class JudgeIdentity(Strict):
    """Who scored a judged metric: its dated model id, prompt hash and sampling settings."""

    model: NonEmpty
    prompt_sha256: Sha256 | None = None
    temperature: Number | None = None
    library: Line | None = None
    library_version: Line | None = None


class StatisticsInput(Strict):
    """A table the sufficient statistics were computed from, named and hashed by whoever ran
    the query: the gate records it but cannot read it."""

    name: NonEmpty  # a path or URI (s3://..., gs://...) or a table name
    sha256: Sha256
    rows: Count | None = None


class _EngineRow(Strict):
    """What every row of sufficient statistics carries besides its numbers: the baseline run
    it was computed against, each table's rows and what the engine found in them that a bundle
    would refuse (all must be 0), and the hashes of the inputs."""

    baseline_run_id: NonEmpty
    n_candidate: Count
    n_baseline: Count
    repeated_ids_candidate: Count
    repeated_ids_baseline: Count
    bad_rows_candidate: Count
    bad_rows_baseline: Count
    inputs: list[StatisticsInput] = Field(min_length=2)
    query_sha256: Sha256 | None = None


class PairedCounts(_EngineRow):
    """A paired binary comparison given by its sufficient statistics, the row `gatekeeper sql
    --metric M` computes where the data lives: the four paired cell counts and how many scores
    were not 0 or 1 (must be 0), with what every such row carries (the baseline run, each
    table's rows and what a bundle would refuse in them, the inputs' hashes)."""

    n11: Count
    n10: Count
    n01: Count
    n00: Count
    not_binary: Count
    # The query's own count of the pairs, so that its row can be copied whole: optional, and
    # when given it must be the four cells' sum.
    n_paired: Count | None = None

    @property
    def n(self) -> int:
        return self.n11 + self.n10 + self.n01 + self.n00

    @model_validator(mode="after")
    def _consistent(self) -> PairedCounts:
        _engine_refusals(self, "not_binary")
        if self.n_paired is not None and self.n_paired != self.n:
            raise ValueError(f"n_paired = {self.n_paired} but n11 + n10 + n01 + n00 = {self.n}")
        if self.n == 0:
            raise ValueError("no paired examples (n11 + n10 + n01 + n00 = 0)")
        _pairs_within_rows(self.n, self.n_candidate, self.n_baseline)
        return self


def _engine_refusals(stats: _EngineRow, *more: str) -> None:
    """What the engine found that a bundle would refuse must be nothing."""
    refused = {k: getattr(stats, k) for k in (
        "repeated_ids_candidate", "repeated_ids_baseline", "bad_rows_candidate",
        "bad_rows_baseline", *more) if getattr(stats, k)}
    if refused:
        raise ValueError("the engine found rows a bundle would refuse: " + ", ".join(
            f"{k} = {v}" for k, v in refused.items()))


def _pairs_within_rows(n: int, n_candidate: int, n_baseline: int) -> None:
    if n > min(n_candidate, n_baseline):
        raise ValueError(f"{n} paired examples but n_candidate = {n_candidate} and n_baseline "
                         f"= {n_baseline}: more pairs than rows")


# Relative rounding an engine may leave between avg(c - b) and avg(c) - avg(b).
_MEAN_TOLERANCE = 1e-9
# M2/n below which (M2/n)^1.5, and an engine's sum of cubed deviations, leave the floats.
_TINY_SPREAD = 1e-200


class PairedMoments(_EngineRow):
    """A paired comparison of a mean of per-example scores given by its sufficient statistics,
    the row `gatekeeper sql --kind mean --metric M` computes where the data lives: the number
    of pairs, the two means, the mean, sum of squared and sum of cubed deviations of the
    paired differences d = candidate - baseline, and the largest |score|, with what every such
    row carries (as for paired_counts)."""

    n_paired: Count
    mean_candidate: Number
    mean_baseline: Number
    mean_difference: Number
    m2_difference: Annotated[Number, Field(ge=0)]
    m3_difference: Number
    max_abs_score: Annotated[Number, Field(ge=0)]

    @property
    def skewness(self) -> float:
        """Moment skewness g1 of the differences, as the gate computes it from rows."""
        n, m2, m3 = self.n_paired, self.m2_difference, self.m3_difference
        if n < 3 or m2 <= 0.0:
            return 0.0
        try:
            return (m3 / n) / (m2 / n) ** 1.5
        except (OverflowError, ZeroDivisionError):
            # (M2/n)^1.5 leaves the floats past M2/n ~ 1e205 or below ~ 1e-205, where the
            # quotient still has a value: take it in logs (inf when no float holds it, which
            # the bound below refuses) instead of crashing the validator.
            if m3 == 0.0:
                return 0.0
            log_g1 = math.log(abs(m3)) - math.log(n) - 1.5 * (math.log(m2) - math.log(n))
            g1 = math.exp(log_g1) if log_g1 < 709.0 else math.inf
            return math.copysign(g1, m3)

    @model_validator(mode="after")
    def _consistent(self) -> PairedMoments:
        _engine_refusals(self)
        _means_consistent(self)
        n = self.n_paired
        top = self.max_abs_score
        # Differences lie within ±2·max|score|: their spread cannot exceed that range.
        # A product, not ** 2: a float square past 1e308 raises OverflowError, a product is inf.
        if self.m2_difference > n * (2 * top) * (2 * top) * (1 + _MEAN_TOLERANCE):
            raise ValueError("m2_difference is larger than scores within max_abs_score allow")
        # Below this spread the cubed deviations an engine sums underflow (to 0 past 1e-308):
        # M3 would carry no skewness, and the skewness guard the rows get (they take the
        # deviations in units of the spread) would be stepped around.
        if n >= 3 and 0.0 < self.m2_difference / n < _TINY_SPREAD:
            raise ValueError(f"m2_difference / n_paired = {self.m2_difference / n:.3g}: so "
                             "small a spread cannot carry its third moment in floats; give "
                             "the per-example scores, or the metric in larger units")
        # |g1| <= (n - 2)/sqrt(n - 1) for any n >= 3 values (and m3 = 0 below 3).
        bound = (n - 2) / math.sqrt(n - 1) if n >= 3 else 0.0
        if abs(self.skewness) > bound * (1 + 1e-6) + 1e-12:
            raise ValueError(f"m3_difference gives skewness {self.skewness:.4g}, beyond the "
                             f"{bound:.4g} that {n} values can have")
        return self


def _within_range(max_abs_score: float, lo: float, hi: float) -> None:
    """Scores in [lo, hi] have no |score| above max(|lo|, |hi|): a larger max_abs_score would
    raise the rounding-noise floor of the spread (no variance information where rows decide)."""
    if max_abs_score > max(abs(lo), abs(hi)):
        raise ValueError(f"max_abs_score = {max_abs_score:g}, but scores in the metric's range "
                         f"[{lo:g}, {hi:g}] have none above {max(abs(lo), abs(hi)):g}")


def _means_consistent(stats: PairedMoments | PairedClusterSums) -> None:
    """Pairs within the rows, means within the largest |score|, and the mean difference the
    difference of the means (to an engine's rounding)."""
    n = stats.n_paired
    if n == 0:
        raise ValueError("no paired examples (n_paired = 0)")
    _pairs_within_rows(n, stats.n_candidate, stats.n_baseline)
    top = stats.max_abs_score
    if max(abs(stats.mean_candidate), abs(stats.mean_baseline)) > top * (1 + _MEAN_TOLERANCE):
        raise ValueError(f"a mean lies beyond max_abs_score = {top:g}")
    gap = stats.mean_difference - (stats.mean_candidate - stats.mean_baseline)
    if abs(gap) > _MEAN_TOLERANCE * max(top, 1e-300):
        raise ValueError(f"mean_difference = {stats.mean_difference!r} is not mean_candidate "
                         f"- mean_baseline = {stats.mean_candidate - stats.mean_baseline!r}")


class PairedClusterSums(_EngineRow):
    """A paired comparison of a mean of per-example scores in clusters (several examples per
    document, prompt or user) given by sufficient statistics: the first row `gatekeeper sql
    --kind mean --cluster-column C` prints (the pairs, the means, the largest |score|) and, in
    the bundle file ``clusters``, the second query's rows (cluster_id, n, sum_difference), with
    what every such row carries (as for paired_counts)."""

    n_paired: Count
    mean_candidate: Number
    mean_baseline: Number
    mean_difference: Number
    max_abs_score: Annotated[Number, Field(ge=0)]
    clusters: Line  # a CSV in the bundle: cluster_id,n,sum_difference (other columns ignored)

    @model_validator(mode="after")
    def _consistent(self) -> PairedClusterSums:
        _engine_refusals(self)
        _means_consistent(self)
        return self


# The shapes a metric is given in, one per metric.
SHAPES = ("value", "replicates", "per_example", "samples", "series", "paired_counts",
          "paired_moments", "paired_cluster_sums")


class MetricSpec(Strict):
    """One metric, given in exactly one shape; file paths are relative to the bundle."""

    value: Number | None = None
    replicates: list[Number] | None = Field(default=None, min_length=1)
    per_example: Line | None = None
    samples: Line | None = None
    series: Line | None = None
    # Sufficient statistics computed outside the gate (docs/performance.md): vs_baseline only.
    paired_counts: PairedCounts | None = None
    paired_moments: PairedMoments | None = None
    paired_cluster_sums: PairedClusterSums | None = None
    field: Line | None = None  # samples: which JSONL field (default: the metric's name)
    id_column: Line = "id"
    score_column: Line = "score"
    cluster_column: Line | None = None
    unit: Line | None = None
    judge: JudgeIdentity | None = None  # set when an LLM judge produced the scores
    # The values the metric can take (e.g. [0, 1] for accuracy): every value, replicate and
    # per-example score must lie inside it.
    range: tuple[Number, Number] | None = None
    # The data[] entry this metric was scored on (its declared rows must match the score file).
    data: Line | None = None

    @model_validator(mode="after")
    def _exactly_one_shape(self) -> MetricSpec:
        given = [k for k in SHAPES if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a metric needs exactly one of " + ", ".join(SHAPES)
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @model_validator(mode="after")
    def _plausible(self) -> MetricSpec:
        if self.replicates is not None and not math.isfinite(
                sum(self.replicates) / len(self.replicates)):
            raise ValueError("the mean of the replicates overflows: no metric takes such values")
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(f"range [{lo:g}, {hi:g}] is empty: give [low, high]")
            values = [self.value] if self.value is not None else (self.replicates or [])
            stats = self.paired_moments or self.paired_cluster_sums
            if stats is not None:  # a mean of scores in range is in range
                values = [stats.mean_candidate, stats.mean_baseline]
            outside = [v for v in values if not lo <= v <= hi]
            if outside:
                raise ValueError(f"{outside[0]:g} lies outside the metric's range "
                                 f"[{lo:g}, {hi:g}]")
            if stats is not None:
                _within_range(stats.max_abs_score, lo, hi)
        return self

    @property
    def kind(self) -> Literal["value", "replicates", "per_example", "samples", "series",
                              "paired_counts", "paired_moments", "paired_cluster_sums"]:
        for k in ("value", "replicates", "per_example", "samples", "paired_counts",
                  "paired_moments", "paired_cluster_sums"):
            if getattr(self, k) is not None:
                return k
        return "series"

    @property
    def path(self) -> str | None:
        return self.per_example or self.samples or self.series


class Artifact(Strict):
    path: NonEmpty
    sha256: Sha256
    size: Count
    kind: Line | None = None


class Prompt(Strict):
    id: NonEmpty
    version: int | NonEmpty
    sha256: Sha256 | None = None
    path: Line | None = None


class LlmModel(Strict):
    provider: Line | None = None
    name: NonEmpty
    revision: Line | None = None


class EvalDataset(Strict):
    name: NonEmpty
    version: Line | None = None
    sha256: Sha256 | None = None


class Usage(Strict):
    requests: Count | None = None
    successes: Count | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cost_usd: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _successes_le_requests(self) -> Usage:
        if (self.requests is not None and self.successes is not None
                and self.successes > self.requests):
            raise ValueError("successes cannot exceed requests")
        return self


class Llm(Strict):
    prompts: list[Prompt] = Field(default_factory=list)
    model: LlmModel | None = None
    dataset: EvalDataset | None = None
    judge: JudgeIdentity | None = None
    usage: Usage | None = None
    traces: list[str] = Field(default_factory=list)  # JSONL files, one request per line


class Source(Strict):
    """Which tool wrote the bundle (set by importers) — provenance, not evidence."""

    tool: NonEmpty
    version: Line | None = None


ReplayResult = Literal["repeatable", "reproducible within tolerance", "not reproducible"]


class ReplayRecord(Strict):
    """What `gatekeeper replay --record` found when it re-ran this run's command."""

    result: ReplayResult
    run_id: NonEmpty  # the replay's own run id
    # sha256 of this run.yaml's content without the replay record: a record copied onto
    # another run, or kept after the metrics were edited, no longer matches.
    of_sha256: Sha256
    reasons: list[Text] = Field(default_factory=list)


class Sweep(Strict):
    """The sweep this run was picked from: how many trials ran on the same eval set."""

    trials: Count = 1


class Run(Strict):
    schema_: Literal["gatekeeper.run/v1"] = Field(alias="schema")
    run_id: NonEmpty
    model: NonEmpty
    name: Line | None = None
    created_at: datetime | None = None
    parent_run_id: Line | None = None  # sweeps: a trial names its parent sweep run
    sweep: Sweep | None = None  # the winner of a sweep: its size (the registry may know more)
    tags: dict[Line, Line] = Field(default_factory=dict)
    params: Annotated[dict[str, Any], AfterValidator(no_credentials)] = Field(
        default_factory=dict)
    seeds: list[Int] | None = None
    code: CodeVersion | None = None
    environment: Environment | None = None
    data: list[DataVersion] = Field(default_factory=list)
    metrics: dict[NonEmpty, MetricSpec] = Field(default_factory=dict)
    artifacts: list[Artifact] = Field(default_factory=list)
    llm: Llm | None = None
    source: Source | None = None
    description: Text | None = None
    intended_use: Text | None = None
    limitations: Text | None = None
    # Written by the Python API: "failed" when the script raised inside `with Run(...)`; the
    # gate blocks such a bundle.
    status: Literal["complete", "failed"] | None = None
    failure: Text | None = None  # the exception that failed the run, when it names no secret
    # The command that produced the run (for `gatekeeper replay`).
    command: Annotated[list[Line], AfterValidator(no_credentials)] | None = None
    replay: ReplayRecord | None = None


def content_sha256(run: Run) -> str:
    """sha256 of the run's content without its replay record (canonical JSON): what a replay
    record vouches for."""
    doc = run.model_dump(mode="json", by_alias=True, exclude={"replay"}, exclude_none=True)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
