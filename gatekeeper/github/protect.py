"""A repository ruleset that makes gatekeeper's check required on release branches.

With ``integration_id`` (the GitHub App's id) the rule requires the check *from that App*: a
workflow in the pull request posting a status or check run named ``gatekeeper`` does not
satisfy it (docs/app.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gatekeeper.github.client import GitHubAPIError, GitHubClient


@dataclass(frozen=True)
class RulesetResult:
    action: str  # "created" | "updated" | "unchanged" | "manual"
    ruleset_id: int | None
    message: str
    settings_text: str | None = None  # for a human admin when the token lacks admin rights


def ruleset_name(check_name: str) -> str:
    return f"gatekeeper: require {check_name}"


def ruleset_body(branch_pattern: str, check_name: str,
                 integration_id: int | None = None) -> dict[str, Any]:
    return {
        "name": ruleset_name(check_name),
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": [_ref(branch_pattern)], "exclude": []}},
        "rules": [_status_rule([_required(check_name, integration_id)])],
    }


def _required(check_name: str, integration_id: int | None) -> dict[str, Any]:
    if integration_id is None:
        return {"context": check_name}
    return {"context": check_name, "integration_id": integration_id}


def _ref(branch_pattern: str) -> str:
    return branch_pattern if branch_pattern.startswith("refs/") else f"refs/heads/{branch_pattern}"


def _status_rule(checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "required_status_checks",
        "parameters": {
            "strict_required_status_checks_policy": False,
            "required_status_checks": checks,
        },
    }


def manual_settings(repo: str, branch_pattern: str, check_name: str,
                    integration_id: int | None = None) -> str:
    body = json.dumps(ruleset_body(branch_pattern, check_name, integration_id), indent=2)
    source = f" from the GitHub App {integration_id}" if integration_id is not None else ""
    return (
        f"Ask a repository admin of {repo} to add this ruleset "
        "(Settings > Rules > Rulesets > New branch ruleset):\n"
        f"  name: {ruleset_name(check_name)}\n"
        "  enforcement: Active\n"
        f"  target branches: include by pattern '{branch_pattern}'\n"
        f"  rule: Require status checks to pass; add the check '{check_name}'{source}\n"
        "or run, with an admin token:\n"
        f"  gh api --method POST repos/{repo}/rulesets --input - <<'EOF'\n{body}\nEOF\n"
    )


def _merge(existing: dict[str, Any], branch_pattern: str, check_name: str,
           integration_id: int | None = None) -> dict[str, Any] | None:
    """The ruleset with our branch and check added, or None when it already has both."""
    include, exclude, refs_changed = _merged_refs(existing, branch_pattern)
    rules, rules_changed = _merged_rules(existing, check_name, integration_id)
    if not (refs_changed or rules_changed or existing.get("enforcement") != "active"):
        return None
    return {
        "name": existing.get("name") or ruleset_name(check_name),
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": include, "exclude": exclude}},
        "rules": [
            {"type": r["type"], **({"parameters": r["parameters"]} if "parameters" in r else {})}
            for r in rules
        ],
    }


def _merged_refs(
    existing: dict[str, Any], branch_pattern: str
) -> tuple[list[Any], list[Any], bool]:
    """The included and excluded refs with our branch included, and whether that added it."""
    ref_name = (existing.get("conditions") or {}).get("ref_name") or {}
    include = list(ref_name.get("include") or [])
    exclude = list(ref_name.get("exclude") or [])
    ref = _ref(branch_pattern)
    if ref in include:
        return include, exclude, False
    return [*include, ref], exclude, True


def _merged_rules(existing: dict[str, Any], check_name: str, integration_id: int | None = None
                  ) -> tuple[list[dict[str, Any]], bool]:
    """The rules with our check required (in the first status-check rule, or a new one), and
    whether that changed them; the other rules are kept as they are. With ``integration_id``
    an entry for the check from any source (or another App) is narrowed to that App."""
    rules = [dict(r) for r in existing.get("rules") or []]
    status_rule = next((r for r in rules if r.get("type") == "required_status_checks"), None)
    wanted = _required(check_name, integration_id)
    if status_rule is None:
        return [*rules, _status_rule([wanted])], True
    params = dict(status_rule.get("parameters") or {})
    old = list(params.get("required_status_checks") or [])
    ours = [c for c in old if c.get("context") == check_name]
    # With an App: exactly one entry for the check, from the App; any other source is dropped.
    added = not ours if integration_id is None else ours != [wanted]
    checks = [*(c for c in old if c.get("context") != check_name), wanted] if added else old
    params["required_status_checks"] = checks
    params.setdefault("strict_required_status_checks_policy", False)
    status_rule["parameters"] = params  # the copy in ``rules``
    return rules, added


def ensure_release_ruleset(
    client: GitHubClient, repo: str, branch_pattern: str, check_name: str,
    integration_id: int | None = None,
) -> RulesetResult:
    """Create or update the ruleset; without admin rights, return what an admin should set."""
    name = ruleset_name(check_name)
    try:
        found = next(
            (r for r in client.paginate(f"/repos/{repo}/rulesets") if r.get("name") == name), None
        )
        if found is None:
            data = client.request(
                "POST", f"/repos/{repo}/rulesets",
                json=ruleset_body(branch_pattern, check_name, integration_id),
            ).json()
            return RulesetResult("created", data.get("id"), f"created ruleset '{name}' on {repo}")
        ruleset_id = int(found["id"])
        full = client.get_json(f"/repos/{repo}/rulesets/{ruleset_id}")
        merged = _merge(full, branch_pattern, check_name, integration_id)
        if merged is None:
            return RulesetResult("unchanged", ruleset_id, f"ruleset '{name}' already requires it")
        client.request("PUT", f"/repos/{repo}/rulesets/{ruleset_id}", json=merged)
        return RulesetResult("updated", ruleset_id, f"updated ruleset '{name}' on {repo}")
    except GitHubAPIError as exc:
        if exc.status not in (403, 404):
            raise
        return RulesetResult(
            "manual",
            None,
            f"the token cannot manage rulesets on {repo} ({exc})",
            manual_settings(repo, branch_pattern, check_name, integration_id),
        )
