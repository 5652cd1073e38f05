"""`gatekeeper test [PATH...]`: run policy unit tests (case files in ``tests/`` folders)."""

from __future__ import annotations

import argparse
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from gatekeeper.errors import InputError
from gatekeeper.policy.cases import CaseResult, find_cases, run_case


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("test", help="run policy unit tests (tests/*.yaml case files)")
    p.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH",
                   help="case files, or folders searched for tests/*.yaml (default: .)")
    p.add_argument("--format", choices=("text", "junit"), default="text")
    p.set_defaults(run=run)


def _details(result: CaseResult) -> list[str]:
    if result.error:
        return [f"    error: {result.error}"]
    width = max(len(k) for k in result.expected)
    lines = [f"    {'':{width}}  {'expected':9}  actual"]
    for key in result.expected:
        mark = "  " if result.expected[key] == result.actual.get(key) else "!="
        lines.append(f"  {mark}{key:{width}}  {result.expected[key]:9}  "
                     f"{result.actual.get(key, '(no such check)')}")
    return lines


def _junit(results: list[CaseResult]) -> str:
    failed = sum(not r.passed for r in results)
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<testsuite name="gatekeeper" tests="{len(results)}" failures="{failed}">']
    for r in results:
        out.append(f"  <testcase classname=\"gatekeeper.policy\" name={quoteattr(str(r.case))}>")
        if not r.passed:
            text = "\n".join(_details(r))
            out.append(f"    <failure message=\"expectation not met\">{escape(text)}</failure>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    cases = find_cases(args.paths)
    if not cases:
        raise InputError(f"no case files (tests/*.yaml) under {' '.join(map(str, args.paths))}")
    results = [run_case(case) for case in cases]
    passed = sum(r.passed for r in results)
    if args.format == "junit":
        print(_junit(results))
    else:
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'} {r.case}")
            if not r.passed:
                print("\n".join(_details(r)))
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1
