"""Envelope completeness: required fields, min_seeds, a clean working tree."""

from __future__ import annotations

from gatekeeper.checks import ids
from gatekeeper.checks.base import check, source_of
from gatekeeper.checks.evidence import Evidence
from gatekeeper.inputs.envelope import missing_fields
from gatekeeper.models.run import content_sha256
from gatekeeper.models.verdict import Check


def run(ctx: Evidence) -> list[Check]:
    rule = ctx.policy.policy.envelope
    run_ = ctx.bundle.run
    out: list[Check] = [*_status(ctx), *_replay(ctx)]
    for i, path in enumerate(rule.required):
        missing = missing_fields(run_, [path])
        src = source_of(ctx.policy.location("envelope", "required", i))
        if missing:
            out.append(check(
                ids.envelope(path), rule.on_missing,
                f"required envelope field missing: {', '.join(missing)}",
                observed=None, notes=[f"the run cannot be replayed without {path}"], source=src,
            ))
        else:
            out.append(check(ids.envelope(path), "pass", f"{path} recorded", source=src))
    if rule.min_seeds is not None:
        seeds = run_.seeds or []
        distinct = len(set(seeds))
        src = source_of(ctx.policy.location("envelope", "min_seeds"))
        if distinct < rule.min_seeds:
            out.append(check(
                ids.envelope("min_seeds"), rule.on_missing,
                f"{distinct} distinct seed(s) recorded; the policy requires at least "
                f"{rule.min_seeds} so that the mean of K runs, not one lucky run, decides",
                observed=float(distinct), threshold=float(rule.min_seeds), source=src,
            ))
        else:
            out.append(check(ids.envelope("min_seeds"), "pass",
                             f"{distinct} seeds recorded (min {rule.min_seeds})",
                             observed=float(distinct), threshold=float(rule.min_seeds),
                             source=src))
    if rule.require_clean_code:
        dirty = run_.code.dirty if run_.code else None
        src = source_of(ctx.policy.location("envelope", "require_clean_code"))
        if dirty is not False:
            state = "dirty" if dirty else "not recorded"
            out.append(check(ids.envelope("code.dirty"), rule.on_missing,
                             f"the working tree was {state}: uncommitted code cannot be replayed",
                             source=src))
        else:
            out.append(check(ids.envelope("code.dirty"), "pass", "code was committed (clean tree)",
                             source=src))
    return out


def _status(ctx: Evidence) -> list[Check]:
    """A run whose script raised is no evidence, whatever metrics it logged before it did."""
    run_ = ctx.bundle.run
    if run_.failure is not None and run_.status != "failed":
        # The API writes both or neither: a failure kept beside another status was edited.
        return [check(ids.envelope("run_status"), "block",
                      f"the run records a failure ({run_.failure}) but not status: failed; "
                      "a failed run is not evidence", source=source_of(
                          ctx.bundle.location("failure")))]
    if run_.status is None:
        return []
    src = source_of(ctx.bundle.location("status"))
    if run_.status == "failed":
        why = f" ({run_.failure})" if run_.failure else ""
        return [check(ids.envelope("run_status"), "block",
                      f"the run failed{why}: its bundle was written with status: failed and is "
                      "not evidence; fix the script and run it again", source=src)]
    return [check(ids.envelope("run_status"), "pass", "the run completed", source=src)]


def _replay(ctx: Evidence) -> list[Check]:
    rule = ctx.policy.policy.reproducibility
    if rule is None or not rule.require_replay:
        return []
    record = ctx.bundle.run.replay
    key = ids.envelope("replay")
    src = source_of(ctx.policy.location("reproducibility", "require_replay"))
    if record is None:
        return [check(key, rule.on_missing_replay,
                      "no replay record: the policy requires one; run `gatekeeper replay "
                      "BUNDLE --record`", source=src)]
    if record.of_sha256 != content_sha256(ctx.bundle.run):
        return [check(key, "block", "the replay record is for other content: the run changed "
                      "after it was replayed (or the record was copied from another run); "
                      "replay it again", source=src)]
    if record.result == "not reproducible":
        reasons = "; ".join(record.reasons[:3])
        return [check(key, "block", f"the replay was not reproducible: {reasons}",
                      source=src)]
    return [check(key, "pass", f"replayed: {record.result}", source=src)]
