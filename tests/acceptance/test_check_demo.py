"""`gatekeeper check` on the demo bundles, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AS_OF, Result, run_subprocess

POLICY = "policies/default.yaml"


def policy_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The default policy outside the repository, naming the demo registry absolutely."""
    from tests.conftest import ROOT

    body = text if text is not None else Path(ROOT / POLICY).read_text()
    path = tmp_path / "p.yaml"
    path.write_text(body.replace("file:examples/registry",
                                 f"file:{ROOT / 'examples' / 'registry'}"))
    return path


@pytest.mark.parametrize(("bundle", "code", "verdict"), [
    ("pass", 0, "pass"), ("warn", 0, "warn"), ("block", 1, "block"),
])
def test_demo_bundles_give_pass_warn_block(cli: Callable[..., Result], bundle: str, code: int,
                                           verdict: str) -> None:
    res = cli("check", f"examples/bundles/{bundle}", "--policy", POLICY, "--format", "json",
              "--as-of", AS_OF)
    assert res.code == code, res.err
    data = json.loads(res.out)
    assert data["verdict"] == verdict
    assert data["baseline"]["version"] == "3"
    assert data["baseline"]["alias"] == "production"
    assert data["policy"]["name"] == "default"
    assert len(data["policy"]["sha256"]) == 64
    assert len(data["candidate"]["bundle_sha256"]) == 64


def test_vs_baseline_explains_delta_interval_method_mde(cli: Callable[..., Result]) -> None:
    res = cli("check", "examples/bundles/warn", "--policy", POLICY, "--format", "json",
              "--as-of", AS_OF)
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    cmp_ = checks["metric:exact_match:vs_baseline"]
    assert cmp_["method"] == "tango"
    assert cmp_["outcome"] == "inconclusive"
    low, high = cmp_["ci"]
    assert low < -0.005 < high
    assert cmp_["mde"] > 0.005
    assert any("underpowered" in n and "more examples" in n for n in cmp_["notes"])


def test_block_is_shown_worse_than_margin(cli: Callable[..., Result]) -> None:
    res = cli("check", "examples/bundles/block", "--policy", POLICY, "--format", "json",
              "--as-of", AS_OF)
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    cmp_ = checks["metric:exact_match:vs_baseline"]
    assert cmp_["status"] == "block" and cmp_["outcome"] == "worse"
    assert cmp_["ci"][1] < -0.005
    assert cmp_["delta"] == pytest.approx(-0.04)
    assert checks["metric:accuracy:min"]["status"] == "block"


def test_fail_on_warn_makes_warn_exit_1(cli: Callable[..., Result]) -> None:
    res = cli("check", "examples/bundles/warn", "--policy", POLICY, "--fail-on", "warn",
              "--as-of", AS_OF)
    assert res.code == 1
    assert "WARN" in res.out


def test_tampered_artifact_blocks_naming_file_and_both_hashes(
        cli: Callable[..., Result], demo_copy: Callable[[str], Path]) -> None:
    bundle = demo_copy("pass")
    model = bundle / "artifacts" / "model.json"
    model.write_text(model.read_text().replace("bias", "bia5"))
    res = cli("check", str(bundle), "--policy", POLICY, "--format", "json", "--as-of", AS_OF)
    assert res.code == 1
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    art = checks["artifact:artifacts/model.json"]
    assert art["status"] == "block"
    assert "artifacts/model.json" in art["message"]
    assert art["threshold"] in art["message"] and art["observed"] in art["message"]
    assert art["threshold"] != art["observed"]


def test_missing_artifact_blocks(cli: Callable[..., Result],
                                 demo_copy: Callable[[str], Path]) -> None:
    bundle = demo_copy("pass")
    (bundle / "artifacts" / "model.json").unlink()
    res = cli("check", str(bundle), "--policy", POLICY, "--format", "json", "--as-of", AS_OF)
    assert res.code == 1
    assert "file is missing" in res.out


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out_dir = tmp_path / f"o{i}"
        res = run_subprocess("check", "examples/bundles/warn", "--policy", POLICY, "--as-of",
                             AS_OF, "--output-dir", str(out_dir), "--format", "json")
        assert res.code == 0, res.err
        outs.append((res.out, (out_dir / "verdict.json").read_bytes(),
                     (out_dir / "report.md").read_bytes()))
    assert outs[0] == outs[1]
    assert outs[0][0].encode() == outs[0][1]


def test_bundle_hash_ignores_location(cli: Callable[..., Result],
                                      demo_copy: Callable[[str], Path]) -> None:
    copy = demo_copy("pass")
    a = json.loads(cli("check", "examples/bundles/pass", "--policy", POLICY, "--format", "json",
                       "--as-of", AS_OF).out)
    b = json.loads(cli("check", str(copy), "--policy", POLICY, "--format", "json",
                       "--as-of", AS_OF).out)
    assert a["candidate"]["bundle_sha256"] == b["candidate"]["bundle_sha256"]
    (copy / "scores" / "extra.txt").write_text("x")
    c = json.loads(cli("check", str(copy), "--policy", POLICY, "--format", "json",
                       "--as-of", AS_OF).out)
    assert c["candidate"]["bundle_sha256"] != a["candidate"]["bundle_sha256"]


def test_text_and_markdown_formats(cli: Callable[..., Result]) -> None:
    text = cli("check", "examples/bundles/block", "--policy", POLICY, "--as-of", AS_OF).out
    assert text.startswith("gatekeeper: BLOCK")
    md = cli("check", "examples/bundles/block", "--policy", POLICY, "--format", "markdown",
             "--as-of", AS_OF).out
    assert "block" in md and "exact_match" in md


def test_python_dash_m_and_version() -> None:
    res = run_subprocess("--version")
    assert res.code == 0 and res.out.startswith("gatekeeper ")


def test_release_policy_extends_and_branch_override(cli: Callable[..., Result]) -> None:
    res = cli("check", "examples/bundles/warn", "--policy", "policies/release.yaml",
              "--format", "json", "--as-of", AS_OF, "--target-branch", "release/2026.12")
    data = json.loads(res.out)
    assert res.code == 1  # release: inconclusive blocks
    checks = {c["id"]: c for c in data["checks"]}
    assert checks["metric:exact_match:vs_baseline"]["confidence"] == 0.99
    assert checks["metric:accuracy:min"]["threshold"] == 0.86
    assert "envelope:code.dirty" in checks
    assert data["policy"]["target_branch"] == "release/2026.12"


def test_rollback_target_in_verdict(cli: Callable[..., Result]) -> None:
    data = json.loads(cli("check", "examples/bundles/pass", "--policy", POLICY, "--format",
                          "json", "--as-of", AS_OF).out)
    target = data["rollback_target"]
    assert target["version"] == "3" and target["model"] == "sentiment-clf"
    assert target["considered"][0]["eligible"] is True


def test_unreachable_registry_exits_2_naming_uri_without_secret(
        cli: Callable[..., Result]) -> None:
    res = cli("check", "examples/bundles/pass", "--policy", POLICY, "--registry",
              "mlflow+http://user:s3cret@127.0.0.1:9", "--as-of", AS_OF)
    assert res.code == 2
    assert "mlflow+http://127.0.0.1:9" in res.err and "s3cret" not in res.err + res.out


def test_unreachable_registry_blocks_when_policy_says(cli: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    policy = policy_copy(tmp_path, Path(POLICY).read_text().replace(
        "  max_age_days: 365\n", "  max_age_days: 365\n  on_registry_error: block\n"))
    res = cli("check", "examples/bundles/pass", "--policy", str(policy), "--registry",
              "mlflow+http://127.0.0.1:9", "--format", "json", "--as-of", AS_OF)
    assert res.code == 1
    checks = {c["id"]: c for c in json.loads(res.out)["checks"]}
    assert checks["baseline:resolve"]["status"] == "block"
    assert "127.0.0.1:9" in checks["baseline:resolve"]["message"]


def test_stale_baseline_warns(cli: Callable[..., Result]) -> None:
    data = json.loads(cli("check", "examples/bundles/pass", "--policy", POLICY, "--format",
                          "json", "--as-of", "2028-01-01").out)
    checks = {c["id"]: c for c in data["checks"]}
    assert checks["baseline:stale"]["status"] == "warn"
    assert data["verdict"] == "warn"


def test_missing_alias_blocks_naming_registry_model_alias(cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    policy = policy_copy(tmp_path, Path(POLICY).read_text().replace("alias: production",
                                                                     "alias: canary"))
    res = cli("check", "examples/bundles/pass", "--policy", str(policy), "--format", "json",
              "--as-of", AS_OF)
    assert res.code == 1
    msg = {c["id"]: c for c in json.loads(res.out)["checks"]}["baseline:resolve"]["message"]
    assert "'canary'" in msg and "sentiment-clf" in msg and "examples/registry" in msg


def test_expired_and_live_waivers(cli: Callable[..., Result], tmp_path: Path) -> None:
    policy = policy_copy(tmp_path, Path(POLICY).read_text() + (
        "waivers:\n"
        "  - {check: 'metric:accuracy:min', reason: known regression, approved_by: alice,"
        " ticket: ML-1, expires: 2026-12-31}\n"
        "  - {check: 'metric:exact_match:*', reason: old, approved_by: bob,"
        " ticket: ML-2, expires: 2026-01-01}\n"))
    data = json.loads(cli("check", "examples/bundles/block", "--policy", str(policy),
                          "--format", "json", "--as-of", AS_OF).out)
    checks = {c["id"]: c for c in data["checks"]}
    floor = checks["metric:accuracy:min"]
    assert floor["status"] == "pass" and floor["original_status"] == "block"
    assert floor["waiver"]["approved_by"] == "alice" and floor["waiver"]["ticket"] == "ML-1"
    assert checks["metric:exact_match:vs_baseline"]["status"] == "block"  # expired waiver
    assert checks["waiver:1:metric:exact_match:*"]["status"] == "warn"
    assert data["verdict"] == "block"
