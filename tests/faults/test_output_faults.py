"""Output files under a full disk (RLIMIT_FSIZE) and in read-only folders: exit 2 with a
message naming the file, and no half-written file left; reporting to GitHub that cannot be
written is a warning that leaves the verdict's exit code alone."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from gatekeeper.report.files import FILES
from tests.conftest import AS_OF, EXAMPLES, ROOT, run_subprocess
from tests.faults.limits import read_only_folder, run_limited

CHECK = ("check", "examples/bundles/warn", "--policy", "policies/default.yaml", "--as-of", AS_OF)
# Between the sizes of the demo's verdict.json (~8.5 kB) and report.html (~11 kB): the first
# files fit, a later one is cut part way.
MIDWAY = 10_000


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_write_cut_part_way_leaves_no_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_limited(*CHECK, "--output-dir", str(out), fsize=MIDWAY)
    assert res.code == 2, res.err
    assert f"gatekeeper: error: cannot write {out}/report.html: File too large" in res.err
    assert "Traceback" not in res.err and "unexpected" not in res.err
    assert names(out) == []  # neither the files that fitted nor a temporary one


def test_a_failed_write_leaves_the_previous_reports_as_they_were(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok = run_subprocess("check", "examples/bundles/pass", "--policy", "policies/default.yaml",
                        "--as-of", AS_OF, "--output-dir", str(out))
    assert ok.code == 0, ok.err
    before = {name: (out / name).read_bytes() for name in FILES}
    res = run_limited(*CHECK, "--output-dir", str(out), fsize=MIDWAY)
    assert res.code == 2 and "File too large" in res.err
    assert {name: (out / name).read_bytes() for name in names(out)} == before
    assert json.loads(before["verdict.json"])["verdict"] == "pass"  # not a mix of two runs


def test_the_verdict_is_printed_before_the_write_fails(tmp_path: Path) -> None:
    res = run_limited(*CHECK, "--format", "json", "--output-dir", str(tmp_path / "o"), fsize=MIDWAY)
    assert res.code == 2
    assert json.loads(res.out)["verdict"] == "warn"


def test_a_read_only_output_folder_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    out = read_only_folder(tmp_path / "ro")
    res = run_limited(*CHECK, "--output-dir", str(out))
    assert res.code == 2, res.err
    assert f"cannot write {out}/verdict.json: Permission denied" in res.err
    assert names(out) == []


def test_an_output_folder_that_cannot_be_created_is_exit_2(tmp_path: Path) -> None:
    parent = read_only_folder(tmp_path / "ro")
    res = run_limited(*CHECK, "--output-dir", str(parent / "new"))
    assert res.code == 2, res.err
    assert f"cannot write {parent}/new: Permission denied" in res.err


# -- GitHub's step files: reporting never changes the exit code ---------------------------

def github_env(output: Path, summary: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return {**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}


def test_step_outputs_cut_part_way_are_rolled_back_and_only_warned_about(
        tmp_path: Path) -> None:
    output, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    earlier = "earlier<<EOF\nset by an earlier step\nEOF\n"
    output.write_text(earlier + "x" * (MIDWAY - len(earlier) - 40) + "\n")
    before = output.read_bytes()
    res = run_limited(*CHECK, "--github", env=github_env(output, summary), fsize=MIDWAY)
    assert res.code == 0, res.err  # the warn verdict's exit code
    assert (f"warning: could not write the step outputs: step outputs ($GITHUB_OUTPUT): "
            f"cannot write {output}: File too large") in res.err
    assert output.read_bytes() == before  # no half heredoc for the runner to parse
    assert summary.read_text().startswith("## ⚠️ gatekeeper: **warn**")


def test_a_job_summary_in_a_read_only_folder_is_a_warning(tmp_path: Path) -> None:
    folder = read_only_folder(tmp_path / "ro")
    output, summary = tmp_path / "output.txt", folder / "summary.md"
    res = run_limited(*CHECK, "--github", "--fail-on", "warn",
                      env=github_env(output, summary))
    assert res.code == 1, res.err  # warn with --fail-on warn: the verdict decides
    assert (f"could not write the job summary: job summary ($GITHUB_STEP_SUMMARY): cannot "
            f"write {summary}: Permission denied") in res.err
    assert "verdict<<" in output.read_text()


# -- bundles written by import, versions written by promote ---------------------------------

PROMPTFOO = ROOT / "tests" / "fixtures" / "real" / "promptfoo" / "run1" / "output.json"


def test_an_import_cut_part_way_leaves_no_bundle(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    res = run_limited("import", "promptfoo", str(PROMPTFOO), "--out", str(out), fsize=600)
    assert res.code == 2, res.err
    assert f"cannot write the bundle to {out} (" in res.err and "File too large" in res.err
    assert names(tmp_path) == []  # no bundle, no staging folder


def test_an_import_into_a_read_only_folder_is_exit_2(tmp_path: Path) -> None:
    parent = read_only_folder(tmp_path / "ro")
    res = run_limited("import", "promptfoo", str(PROMPTFOO), "--out", str(parent / "b"))
    assert res.code == 2, res.err
    assert f"cannot write the bundle to {parent}/b: Permission denied" in res.err


@pytest.fixture
def verdict_file(tmp_path: Path) -> Path:
    out = tmp_path / "verdict"
    res = run_subprocess("check", "examples/bundles/pass", "--policy", "policies/default.yaml",
                         "--as-of", AS_OF, "--output-dir", str(out))
    assert res.code == 0, res.err
    return out / "verdict.json"


def promote(registry: Path, verdict: Path, fsize: int | None = None) -> tuple[int, str]:
    res = run_limited("registry", "promote", "examples/bundles/pass", "--registry",
                      f"file:{registry}", "--alias", "production", "--approved-by", "alice",
                      "--verdict-file", str(verdict), fsize=fsize)
    return res.code, res.err


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_a_promotion_cut_part_way_leaves_the_registry_as_it_was(
        tmp_path: Path, verdict_file: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(EXAMPLES / "registry", registry)
    before = tree(registry)
    code, err = promote(registry, verdict_file, fsize=3000)
    assert code == 2, err
    assert (f"cannot write the bundle into the registry folder {registry}/sentiment-clf "
            "(") in err and "File too large" in err
    assert tree(registry) == before
    assert names(registry / "sentiment-clf") == ["index.json", "versions"]


def test_a_read_only_registry_is_exit_2(tmp_path: Path, verdict_file: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(EXAMPLES / "registry", registry)
    model = registry / "sentiment-clf"
    before = tree(registry)
    model.chmod(0o555)
    try:
        read_only_folder(model)
        code, err = promote(registry, verdict_file)
    finally:
        model.chmod(0o755)
    assert code == 2, err
    assert "Permission denied" in err and str(model) in err
    assert tree(registry) == before
