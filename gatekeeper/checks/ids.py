"""Check ids, built in one place with the typed facts that go with them.

An id is what waivers match and what people read in a PR comment (``metric:accuracy:min``), so
its spelling is part of the format. Every check is made from a ``CheckKey`` returned here; no
module parses an id back into its parts.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from gatekeeper.models.verdict import CheckFamily


class CheckKey(NamedTuple):
    id: str
    family: CheckFamily
    subject: str | None = None
    metric: str | None = None


def envelope(field: str) -> CheckKey:
    """A required envelope field (``code.commit``), ``min_seeds`` or ``code.dirty``."""
    return CheckKey(f"envelope:{field}", "envelope", field)


def seeds(metric: str) -> CheckKey:
    return CheckKey(f"seeds:{metric}", "seeds", metric, metric)


def replicates(metric: str) -> CheckKey:
    return CheckKey(f"replicates:{metric}", "replicates", metric, metric)


def artifact(path: str) -> CheckKey:
    return CheckKey(f"artifact:{path}", "artifact", path)


def data_rows(metric: str) -> CheckKey:
    """A per-example metric's example count against its data entry's declared rows."""
    return CheckKey(f"data:{metric}:rows", "data", metric, metric)


def metric(name: str, aspect: Literal["min", "max", "vs_baseline"]) -> CheckKey:
    return CheckKey(f"metric:{name}:{aspect}", "metric", name, name)


def budget(name: str, vs_baseline: bool = False) -> CheckKey:
    cid = f"budget:{name}:vs_baseline" if vs_baseline else f"budget:{name}"
    return CheckKey(cid, "budget", name, name)


def llm(rule: Literal["triple", "one_change_at_a_time"]) -> CheckKey:
    return CheckKey(f"llm:{rule}", "llm", rule)


def judge(kind: Literal["pin", "recorded", "baseline"], metric: str | None = None) -> CheckKey:
    if metric is None:
        return CheckKey(f"judge:{kind}", "judge")
    return CheckKey(f"judge:{kind}:{metric}", "judge", metric, metric)


def baseline(aspect: Literal["resolve", "integrity", "stale", "envelope", "rollback"]
             ) -> CheckKey:
    return CheckKey(f"baseline:{aspect}", "baseline", aspect)


def policy(aspect: Literal["changed", "loosened", "version", "approval"]) -> CheckKey:
    return CheckKey(f"policy:{aspect}", "policy", aspect)


def waiver(index: int, pattern: str) -> CheckKey:
    return CheckKey(f"waiver:{index}:{pattern}", "waiver", pattern)


def waiver_unused() -> CheckKey:
    """Live waivers that match no check of the run (named in the message)."""
    return CheckKey("waiver:unused", "waiver", "unused")


def leaderboard(aspect: Literal["reuse", "sealed"]) -> CheckKey:
    """The reuse of the public eval set (``reuse``) or of the sealed holdout (``sealed``)."""
    return CheckKey(f"leaderboard:{aspect}", "leaderboard", aspect)
