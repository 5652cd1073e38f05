"""`gatekeeper check BUNDLE`: load → resolve baseline → evaluate → verdict → report → exit."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

from gatekeeper.bundle import load_bundle
from gatekeeper.checks.base import check as make_check
from gatekeeper.checks.context import Context
from gatekeeper.errors import InputError, RegistryError
from gatekeeper.models.verdict import CandidateRef, Check, PolicyRef
from gatekeeper.policy import load_policy
from gatekeeper.report import REPORTERS, get_reporter
from gatekeeper.report.context import ReportContext
from gatekeeper.verdict import apply_waivers, build_verdict

DEFAULT_POLICY = Path("policies/default.yaml")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="gate a run bundle against a policy",
                       description="Check a run bundle against a policy and the registry "
                                   "baseline; exit 0 pass/warn, 1 block, 2 bad input.")
    p.add_argument("bundle", type=Path, help="run bundle folder (holds run.yaml)")
    p.add_argument("--policy", type=Path, default=None,
                   help=f"policy file (default: {DEFAULT_POLICY})")
    p.add_argument("--registry", default=None,
                   help="registry URI, overriding the policy's baseline.registry")
    p.add_argument("--target-branch", default=None,
                   help="branch being merged into; selects the policy's branches: overrides")
    p.add_argument("--fail-on", choices=("warn", "block"), default="block",
                   help="which verdict makes the exit code 1 (default: block)")
    p.add_argument("--format", choices=sorted(REPORTERS), default="text",
                   help="what to print on stdout (default: text)")
    p.add_argument("--output-dir", type=Path, default=None,
                   help="also write verdict.json and report.md here")
    p.add_argument("--as-of", type=date.fromisoformat, default=None,
                   help="judge waiver expiry and baseline age on this date (YYYY-MM-DD; "
                        "default: today, UTC)")
    p.add_argument("--github", action="store_true",
                   help="publish to GitHub: sticky PR comment, check run, summary, outputs")
    p.add_argument("--comment", choices=("on", "off"), default="on",
                   help="with --github: post the sticky PR comment (default: on)")
    p.add_argument("--check-name", default="gatekeeper",
                   help="with --github: name of the check run / status context")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy_path: Path = args.policy or DEFAULT_POLICY
    loaded = load_policy(policy_path, target_branch=args.target_branch)
    bundle = load_bundle(args.bundle)
    as_of = args.as_of or datetime.now(timezone.utc).date()
    policy = loaded.policy
    ctx = Context(policy=loaded, bundle=bundle, as_of=as_of)
    extra: list[Check] = []

    with tempfile.TemporaryDirectory(prefix="gatekeeper-") as workdir:
        ref = policy.baseline
        registry_uri = args.registry or (ref.registry if ref else None)
        if ref is not None and registry_uri:
            extra.extend(_attach_baseline(ctx, registry_uri, Path(workdir)))
        elif any(r.vs_baseline for r in policy.metrics):
            raise InputError(
                "the policy compares with a baseline but names no registry: set "
                "baseline.registry or pass --registry", loaded.location("baseline"))
        from gatekeeper.evaluate import evaluate

        checks = [*extra, *evaluate(ctx)]
        checks = apply_waivers(checks, policy.waivers, as_of)
        verdict = build_verdict(
            checks=checks,
            fail_on=args.fail_on,
            policy=PolicyRef(name=policy.metadata.name, version=policy.metadata.version,
                             sha256=loaded.sha256, path=str(policy_path),
                             target_branch=args.target_branch),
            candidate=CandidateRef(run_id=bundle.run.run_id, model=bundle.run.model,
                                   bundle_sha256=bundle.sha256(), path=str(args.bundle)),
            baseline=ctx.baseline_info,
            rollback_target=None,
            rng_seed=policy.stats.seed,
        )
        report_ctx = ReportContext(candidate=bundle, baseline=ctx.baseline, policy=loaded)
        sys.stdout.write(get_reporter(args.format)(verdict, report_ctx))
        if args.output_dir is not None:
            _write_outputs(args.output_dir, verdict, report_ctx)
    return verdict.exit_code


def _attach_baseline(ctx: Context, registry_uri: str, workdir: Path) -> list[Check]:
    from gatekeeper.baseline import age_days, resolve
    from gatekeeper.checks.base import source_of
    from gatekeeper.envelope import missing_fields

    ref = ctx.policy.policy.baseline
    assert ref is not None
    model = ref.model or ctx.bundle.run.model
    src = source_of(ctx.policy.location("baseline"))
    try:
        resolved = resolve(ref, registry_uri=registry_uri, model=model, workdir=workdir,
                           base_dir=Path.cwd())
    except RegistryError as exc:
        unreachable = "not found" not in exc.message
        if unreachable and ref.on_registry_error != "block":
            raise
        status = "block" if unreachable else ref.on_missing
        return [make_check("baseline:resolve", status,
                           f"baseline not available: {exc}", source=src)]
    ctx.baseline = resolved.bundle
    ctx.baseline_info = resolved.info
    out = [make_check("baseline:resolve", "pass",
                      f"baseline {model} v{resolved.version.version}"
                      + (f" ({ref.alias})" if ref.version is None else "") + f" from {registry_uri}",
                      source=src)]
    if ref.max_age_days is not None:
        age = age_days(resolved.version.created_at, ctx.as_of)
        if age is None or age > ref.max_age_days:
            what = "of unknown age" if age is None else f"{age:.0f} days old"
            out.append(make_check("baseline:stale", "warn",
                                  f"baseline is {what} (policy max_age_days "
                                  f"{ref.max_age_days:g}): re-evaluate it on today's data",
                                  source=src))
    required = ctx.policy.policy.envelope.required
    missing = missing_fields(resolved.bundle.run, required) if required else []
    if missing:
        out.append(make_check("baseline:envelope", "warn",
                              f"the baseline's own envelope is incomplete: {', '.join(missing)}",
                              source=src))
    return out


def _write_outputs(out_dir: Path, verdict: object, report_ctx: ReportContext) -> None:
    from gatekeeper.models.verdict import Verdict

    assert isinstance(verdict, Verdict)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(out_dir / "verdict.json", get_reporter("json")(verdict, report_ctx))
        _atomic_write(out_dir / "report.md", get_reporter("markdown")(verdict, report_ctx))
    except OSError as exc:
        raise InputError(f"cannot write to output folder {out_dir}: {exc.strerror}") from exc


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
