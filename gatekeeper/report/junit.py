"""JUnit XML, so GitLab, Jenkins and other CI dashboards show each check as a test.

One ``<testsuite>`` per verdict, one ``<testcase>`` per check (classname ``gatekeeper.<kind>``,
name = the check id). Mapping, chosen because these tools only surface failures and errors:

- block → ``<failure type="block">`` (message = the check's one-line reason);
- warn → a passing testcase carrying ``<property name="gatekeeper.status" value="warn"/>`` and
  the reason in ``<system-out>``; with ``fail_on: warn`` it is a ``<failure type="warn">``
  instead, matching the exit code;
- a waived check → passing, with ``gatekeeper.waiver.*`` properties (who, ticket, expiry).

No timestamps or durations (``time="0"``): identical input gives identical bytes.

The XML may be printed to a CI log (``--format junit``), where a line starting with ``::`` is a
workflow command. Every value is therefore written on one line, with line breaks and other
control characters shown as escapes (as the text report does); the only line breaks are the ones
gatekeeper puts between the lines of a check's details, and each such line starts with a key.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gatekeeper.models.verdict import Check, Verdict
from gatekeeper.report.context import ReportContext
from gatekeeper.report.escape import xml_text
from gatekeeper.safe_text import one_line


def _text(value: object) -> str:
    """One line of XML-safe text: no bundle string can start a line of the output."""
    return xml_text(one_line(value))


def _failing(c: Check, fail_on: str) -> bool:
    return c.status == "block" or (c.status == "warn" and fail_on == "warn")


def _detail(c: Check) -> str:
    lines = [c.message]
    for key in ("observed", "baseline", "threshold", "delta", "ci", "method", "n", "p_value",
                "mde", "outcome"):
        value = getattr(c, key)
        if value is not None:
            lines.append(f"{key}: {value}")
    lines += [f"note: {n}" for n in c.notes]
    if c.source:
        where = c.source.file
        if c.source.line is not None:
            where += f":{c.source.line}"
        lines.append(f"source: {where}")
    return "\n".join(_text(x) for x in lines)


def render(verdict: Verdict, context: ReportContext) -> str:
    failures = sum(_failing(c, verdict.fail_on) for c in verdict.checks)
    name = f"gatekeeper {verdict.policy.name}@{verdict.policy.version}: {verdict.candidate.run_id}"
    suites = ET.Element("testsuites", {
        "name": "gatekeeper", "tests": str(len(verdict.checks)),
        "failures": str(failures), "errors": "0", "skipped": "0", "time": "0",
    })
    suite = ET.SubElement(suites, "testsuite", {
        "name": _text(name), "tests": str(len(verdict.checks)), "failures": str(failures),
        "errors": "0", "skipped": "0", "time": "0",
    })
    props = ET.SubElement(suite, "properties")
    for key, value in _suite_properties(verdict):
        ET.SubElement(props, "property", {"name": key, "value": _text(value)})
    for c in verdict.checks:
        _testcase(suite, c, verdict.fail_on)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite_properties(verdict: Verdict) -> list[tuple[str, str]]:
    return [
        ("gatekeeper.verdict", verdict.verdict),
        ("gatekeeper.exit_code", str(verdict.exit_code)),
        ("gatekeeper.waived", str(verdict.counts.waived)),
        ("gatekeeper.fail_on", verdict.fail_on),
        ("gatekeeper.policy", f"{verdict.policy.name}@{verdict.policy.version}"),
        ("gatekeeper.policy_sha256", verdict.policy.sha256),
        ("gatekeeper.bundle_sha256", verdict.candidate.bundle_sha256),
        ("gatekeeper.baseline", f"{verdict.baseline.model} v{verdict.baseline.version}"
         if verdict.baseline else "none"),
        ("gatekeeper.rollback_target",
         "not computed" if verdict.rollback_target is None
         else (f"{verdict.rollback_target.model} v{verdict.rollback_target.version}"
               if verdict.rollback_target.version else "none")),
        ("gatekeeper.version", verdict.gate.gatekeeper_version),
    ]


def _testcase(suite: ET.Element, c: Check, fail_on: str) -> None:
    kind = c.family or "check"
    case = ET.SubElement(suite, "testcase", {
        "classname": _text(f"gatekeeper.{kind}"), "name": _text(c.id), "time": "0",
    })
    if c.source and c.source.file:
        case.set("file", _text(c.source.file))
        if c.source.line is not None:
            case.set("line", str(c.source.line))
    if c.status != "pass" or c.waiver is not None:
        p = ET.SubElement(case, "properties")
        for key, value in _check_properties(c):
            ET.SubElement(p, "property", {"name": key, "value": _text(value)})
    if _failing(c, fail_on):
        fail = ET.SubElement(case, "failure", {"type": c.status,
                                               "message": _text(c.message)})
        fail.text = _detail(c)
    elif c.status == "warn" or c.waiver is not None:
        out = ET.SubElement(case, "system-out")
        out.text = f"{c.status.upper() if not c.waiver else 'WAIVED'}: {_detail(c)}"


def _check_properties(c: Check) -> list[tuple[str, str]]:
    """The status, the status before a waiver, and the waiver's who, when, why and ticket."""
    cprops: list[tuple[str, str]] = [("gatekeeper.status", c.status)]
    if c.original_status:
        cprops.append(("gatekeeper.original_status", c.original_status))
    if c.waiver is not None:
        cprops += [("gatekeeper.waiver.approved_by", c.waiver.approved_by),
                   ("gatekeeper.waiver.expires", c.waiver.expires),
                   ("gatekeeper.waiver.reason", c.waiver.reason)]
        if c.waiver.ticket:
            cprops.append(("gatekeeper.waiver.ticket", c.waiver.ticket))
    return cprops
