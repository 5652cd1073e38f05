"""The embedded file registry: layout, atomic writes, alias history, and the CLI over it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from gatekeeper.cli import main
from gatekeeper.errors import RegistryError
from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.registry import open_registry
from gatekeeper.registry.file import INDEX_SCHEMA, FileRegistry
from gatekeeper.registry.interface import Approval

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
APPROVAL = Approval(approved_by="alice", approved_at="2026-11-20T12:00:00Z", ticket="ML-7")


def bundle(root: Path, run_id: str, model: str = "clf") -> Path:
    root.mkdir(parents=True)
    weights = run_id.encode()
    (root / "model.bin").write_bytes(weights)
    (root / "run.yaml").write_text(yaml.safe_dump({
        "schema": "gatekeeper.run/v1", "run_id": run_id, "model": model,
        "artifacts": [{"path": "model.bin", "size": len(weights),
                       "sha256": hashlib.sha256(weights).hexdigest()}],
    }), encoding="utf-8")
    return root


def promote(reg: FileRegistry, path: Path, alias: str | None = "production") -> str:
    loaded = load_bundle(path)
    return reg.promote(path, model=loaded.run.model, alias=alias, approval=APPROVAL,
                       verdict="pass", bundle_sha256=loaded.sha256(),
                       run_id=loaded.run.run_id).version


@pytest.fixture
def reg(tmp_path: Path) -> FileRegistry:
    return FileRegistry(tmp_path / "registry", clock=lambda: NOON)


def test_promote_writes_the_documented_layout(reg: FileRegistry, tmp_path: Path) -> None:
    assert promote(reg, bundle(tmp_path / "a", "run-a")) == "1"
    model_dir = reg.root / "clf"
    assert sorted(p.name for p in model_dir.iterdir()) == ["index.json", "versions"]
    index = json.loads((model_dir / "index.json").read_text())
    assert index["schema"] == INDEX_SCHEMA and index["revision"] == 1
    assert index["aliases"] == {"production": "1"}
    entry = index["versions"][0]
    assert entry["run_id"] == "run-a" and entry["verdict"] == "pass"
    assert entry["approval"] == {"approved_by": "alice", "approved_at": "2026-11-20T12:00:00Z",
                                 "ticket": "ML-7"}
    assert (model_dir / "versions" / "1" / "model.bin").read_bytes() == b"run-a"
    assert entry["bundle_sha256"] == load_bundle(model_dir / "versions" / "1").sha256()


def test_alias_history_is_kept_not_overwritten(reg: FileRegistry, tmp_path: Path) -> None:
    for name in ("a", "b"):
        promote(reg, bundle(tmp_path / name, f"run-{name}"))
    reg.set_alias("clf", "production", "1", set_by="bob")  # a manual rollback
    events = reg.alias_history("clf", "production")
    assert [(e.version, e.until, e.set_by) for e in events] == [
        ("1", "2026-11-20T12:00:00Z", "alice"), ("2", "2026-11-20T12:00:00Z", "alice"),
        ("1", None, "bob")]
    assert reg.resolve_alias("clf", "production").version == "1"
    reg.set_alias("clf", "production", "1")  # already there: no new event
    assert len(reg.alias_history("clf", "production")) == 3
    assert json.loads((reg.root / "clf" / "index.json").read_text())["revision"] == 4


def test_archived_versions_cannot_take_an_alias(reg: FileRegistry, tmp_path: Path) -> None:
    promote(reg, bundle(tmp_path / "a", "run-a"), alias=None)
    assert reg.archive("clf", "1").archived
    assert reg.archive("clf", "1").archived  # idempotent
    with pytest.raises(RegistryError, match="archived; it cannot take alias 'staging'"):
        reg.set_alias("clf", "staging", "1")


def test_a_wrong_hash_or_escaping_symlink_writes_nothing(reg: FileRegistry, tmp_path: Path) -> None:
    path = bundle(tmp_path / "a", "run-a")
    with pytest.raises(RegistryError, match="hashes to"):
        reg.promote(path, model="clf", alias=None, approval=APPROVAL, verdict="pass",
                    bundle_sha256="0" * 64, run_id="run-a")
    assert sorted(p.name for p in (reg.root / "clf").iterdir()) == []
    sha = load_bundle(path).sha256()
    (path / "leak").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "outside.txt").write_text("secret")
    with pytest.raises(RegistryError, match="symlink leaving it: leak"):
        reg.promote(path, model="clf", alias=None, approval=APPROVAL, verdict="pass",
                    bundle_sha256=sha, run_id="run-a")
    assert sorted(p.name for p in (reg.root / "clf").iterdir()) == []


def test_a_crash_leftover_folder_is_never_overwritten(reg: FileRegistry, tmp_path: Path) -> None:
    promote(reg, bundle(tmp_path / "a", "run-a"))
    leftover = reg.root / "clf" / "versions" / "2"
    leftover.mkdir()
    (leftover / "partial").write_text("x")
    assert promote(reg, bundle(tmp_path / "b", "run-b")) == "3"
    assert (leftover / "partial").read_text() == "x"


def test_reads_name_the_registry_model_and_alias(reg: FileRegistry, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not found"):
        reg.list_models()
    promote(reg, bundle(tmp_path / "a", "run-a"))
    with pytest.raises(RegistryError, match=r"alias 'staging' of model 'clf' not found in "
                                            r"registry file:"):
        reg.resolve_alias("clf", "staging")
    with pytest.raises(RegistryError, match="model 'nope' not found"):
        reg.list_versions("nope")
    with pytest.raises(RegistryError, match="invalid model name"):
        reg.list_versions("../clf")
    # A name no folder can hold is refused by name, not an OSError from the look-up (found by
    # bench/fuzz.py: exit 3 before).
    with pytest.raises(RegistryError, match="longer than the 255 bytes"):
        reg.list_versions("x" * 256)
    with pytest.raises(RegistryError, match="longer than the 255 bytes"):
        reg.list_versions("é" * 128)  # 256 bytes in UTF-8
    with pytest.raises(RegistryError, match="not found"):
        reg.list_versions("x" * 255)
    with pytest.raises(RegistryError, match="version 9 of model 'clf' not found"):
        reg.get_version("clf", "9")
    assert reg.list_models() == ["clf"]


def test_a_hand_written_index_loads(tmp_path: Path) -> None:
    """The documented v1 index (what examples/registry ships) without write-side fields."""
    model_dir = tmp_path / "reg" / "clf"
    model_dir.mkdir(parents=True)
    (model_dir / "index.json").write_text(json.dumps({
        "schema": INDEX_SCHEMA, "revision": 1, "aliases": {"production": "1"},
        "versions": [{"version": "1", "run_id": "r1", "created_at": "2026-11-01T00:00:00Z",
                      "verdict": "pass"}],
        "alias_history": [{"alias": "production", "version": "1",
                           "since": "2026-11-01T00:00:00Z"}],
    }))
    reg = open_registry("file:reg", base_dir=tmp_path)
    assert reg.resolve_alias("clf", "production").run_id == "r1"
    assert reg.alias_history("clf", "production")[0].until is None


# -- CLI -------------------------------------------------------------------------------
def test_cli_refuses_a_block_verdict_unless_waived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle(tmp_path / "a", "run-a")
    sha = load_bundle(path).sha256()
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"verdict": "block", "candidate": {"bundle_sha256": sha},
                                   "policy": {"name": "release", "version": 4}}))
    uri = f"file:{tmp_path / 'registry'}"
    argv = ["registry", "promote", str(path), "--registry", uri, "--alias", "production",
            "--approved-by", "alice", "--verdict-file", str(verdict)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "refusing to promote" in err and "is block" in err and "--waiver" in err
    assert not (tmp_path / "registry" / "clf").exists()
    assert main([*argv, "--waiver", "hotfix, ML-9", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["verdict"] == "block" and shown["approval"]["waiver"] == "hotfix, ML-9"
    assert shown["approval"]["policy_name"] == "release"
    assert shown["approval"]["policy_version"] == "4"


def test_cli_refuses_a_verdict_of_another_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle(tmp_path / "a", "run-a")
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"verdict": "pass", "candidate": {"bundle_sha256": "f" * 64}}))
    code = main(["registry", "promote", str(path), "--registry", f"file:{tmp_path / 'r'}",
                 "--approved-by", "alice", "--verdict-file", str(verdict)])
    assert code == 2
    assert "not this bundle" in capsys.readouterr().err


def passing_verdict(path: Path) -> str:
    """A verdict.json of ``gatekeeper check`` that passed this bundle (what promote needs)."""
    out = path.parent / f"{path.name}-verdict.json"
    out.write_text(json.dumps({"verdict": "pass",
                               "candidate": {"bundle_sha256": load_bundle(path).sha256()}}))
    return str(out)


def test_cli_list_show_history_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"file:{tmp_path / 'registry'}"
    for name in ("a", "b"):
        path = bundle(tmp_path / name, f"run-{name}")
        assert main(["registry", "promote", str(path), "--registry", uri, "--alias",
                     "production", "--approved-by", "al", "--ticket", f"ML-{name}",
                     "--verdict-file", passing_verdict(path)]) == 0
    capsys.readouterr()
    assert main(["registry", "list", "--registry", uri]) == 0
    assert capsys.readouterr().out == "clf\n"
    assert main(["registry", "show", "--registry", uri, "--model", "clf", "--alias",
                 "production", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "2"
    assert main(["registry", "history", "--registry", uri, "--model", "clf"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in lines] == ["1", "2"]
    assert [line.split("\t")[-1] for line in lines] == ["ML-a", "ML-b"]  # the tickets
    assert main(["registry", "history", "--registry", uri, "--model", "clf",
                 "--format", "json"]) == 0
    assert [e["ticket"] for e in json.loads(capsys.readouterr().out)["history"]] == [
        "ML-a", "ML-b"]
    assert main(["registry", "search", "run_id == 'run-a'", "--registry", uri,
                 "--format", "json"]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)["versions"]] == ["1"]
    assert main(["registry", "search", "metrics.x >", "--registry", uri]) == 2
    assert "column 12" in capsys.readouterr().err


# -- re-promoting a registered bundle --------------------------------------------------
def repromote(reg: FileRegistry, path: Path, *, alias: str | None = "production",
              verdict: str | None = None, approval: Approval = APPROVAL,
              tags: dict[str, str] | None = None) -> str:
    loaded = load_bundle(path)
    return reg.promote(path, model="clf", alias=alias, approval=approval, verdict=verdict,
                       bundle_sha256=loaded.sha256(), run_id=loaded.run.run_id,
                       tags=tags).version


def test_repromoting_an_archived_version_is_refused(reg: FileRegistry, tmp_path: Path) -> None:
    a = bundle(tmp_path / "a", "run-a")
    promote(reg, a, alias=None)
    promote(reg, bundle(tmp_path / "b", "run-b"))
    reg.archive("clf", "1")
    with pytest.raises(RegistryError, match="archived"):
        repromote(reg, a, verdict="pass")
    assert reg.resolve_alias("clf", "production").version == "2"
    assert reg.get_version("clf", "1").approvals == (APPROVAL,)


def test_repromoting_a_block_version_needs_a_waiver(reg: FileRegistry, tmp_path: Path) -> None:
    from gatekeeper.registry.interface import PromotionRefused

    a = bundle(tmp_path / "a", "run-a")
    waived = Approval(approved_by="alice", approved_at="2026-11-20T12:00:00Z", waiver="ML-9")
    repromote(reg, a, alias=None, verdict="block", approval=waived)
    promote(reg, bundle(tmp_path / "b", "run-b"))
    with pytest.raises(PromotionRefused, match="verdict is block"):
        repromote(reg, a)  # the stored verdict is block, and no waiver now
    with pytest.raises(PromotionRefused, match="waiver"):
        repromote(reg, a, verdict="block")
    assert reg.resolve_alias("clf", "production").version == "2"
    again = Approval(approved_by="carol", approved_at="2026-11-21T08:00:00Z", waiver="ML-10")
    assert repromote(reg, a, approval=again) == "1"
    moved = reg.resolve_alias("clf", "production")
    assert moved.version == "1" and moved.approvals == (waived, again)
    assert moved.approval == waived and moved.verdict == "block"


def test_repromoting_records_a_verdict_and_refuses_a_conflict(
    reg: FileRegistry, tmp_path: Path
) -> None:
    a = bundle(tmp_path / "a", "run-a")
    repromote(reg, a, alias=None, verdict=None, tags={"team": "nlp"})
    bob = Approval(approved_by="bob", approved_at="2026-11-21T08:00:00Z", ticket="ML-8")
    repromote(reg, a, verdict="pass", approval=bob, tags={"stage": "prod"})
    version = reg.get_version("clf", "1")
    assert version.verdict == "pass" and version.approvals == (APPROVAL, bob)
    assert version.tags == {"team": "nlp", "stage": "prod"}
    assert version.aliases == ("production",)
    assert [e.set_by for e in reg.alias_history("clf", "production")] == ["bob"]
    with pytest.raises(RegistryError, match="verdict pass; the verdict given now is warn"):
        repromote(reg, a, verdict="warn")
    assert reg.get_version("clf", "1").verdict == "pass"
    assert len(reg.list_versions("clf")) == 1


def test_cli_repromote_notes_the_recorded_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle(tmp_path / "a", "run-a")
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"verdict": "pass",
                                   "candidate": {"bundle_sha256": load_bundle(path).sha256()}}))
    argv = ["registry", "promote", str(path), "--registry", f"file:{tmp_path / 'registry'}",
            "--alias", "production", "--approved-by", "alice"]
    assert main([*argv, "--verdict-file", str(verdict)]) == 0
    assert capsys.readouterr().out.startswith("promoted clf v1")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("re-promoted clf v1  verdict=pass")
    assert "already registered as version 1" in out
    assert "keeps its recorded verdict pass" in out and "no recorded verdict" not in out


def test_cli_repromote_of_a_block_version_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle(tmp_path / "a", "run-a")
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"verdict": "block",
                                   "candidate": {"bundle_sha256": load_bundle(path).sha256()}}))
    argv = ["registry", "promote", str(path), "--registry", f"file:{tmp_path / 'registry'}",
            "--approved-by", "alice"]
    assert main([*argv, "--verdict-file", str(verdict), "--waiver", "hotfix"]) == 0
    capsys.readouterr()
    assert main([*argv, "--alias", "production"]) == 1
    assert "refusing to re-promote version 1" in capsys.readouterr().err
    assert not FileRegistry(tmp_path / "registry").get_version("clf", "1").aliases


def test_cli_promote_without_a_verdict_is_refused_unless_waived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Moving production to a version nobody gated is the bypass: refuse it, or record why."""
    path = bundle(tmp_path / "a", "run-a")
    uri = f"file:{tmp_path / 'registry'}"
    argv = ["registry", "promote", str(path), "--registry", uri, "--alias", "production",
            "--approved-by", "alice"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "there is no verdict for this bundle" in err and "--verdict-file" in err
    assert not (tmp_path / "registry").exists()  # nothing was written
    assert main([*argv, "--waiver", "hotfix for INC-7, gated after"]) == 0
    capsys.readouterr()
    assert main(["registry", "show", "--registry", uri, "--model", "clf", "--alias",
                 "production", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["approvals"][0]["waiver"] == "hotfix for INC-7, gated after"
    assert shown["approvals"][0]["approved_by"] == "alice"


# -- model names -----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "folder"), [
    ("Qwen/Qwen3-8B", "Qwen%2FQwen3-8B"), ("openai/gpt-5", "openai%2Fgpt-5"),
    ("sentiment-clf", "sentiment-clf"), ("50%", "50%25"), ("a:b c", "a%3Ab c"),
])
def test_hugging_face_names_are_one_reversible_folder(
    reg: FileRegistry, tmp_path: Path, name: str, folder: str
) -> None:
    path = bundle(tmp_path / "a", "run-a", model=name)
    assert promote(reg, path) == "1"
    assert sorted(p.name for p in reg.root.iterdir()) == [folder]
    assert reg.list_models() == [name]
    assert reg.index_path(name) == reg.root / folder / "index.json"
    version = reg.resolve_alias(name, "production")
    assert version.model == name
    assert (reg.bundle_path(version, tmp_path) / "model.bin").read_bytes() == b"run-a"


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/../b", "a/..", "/a", "a/", "a//b",
                                  ".hidden", "a\x00b", "a\nb", "a\x7fb", "a\\..\\b"])
def test_unsafe_model_names_are_rejected(reg: FileRegistry, name: str) -> None:
    with pytest.raises(RegistryError, match="invalid model name"):
        reg.list_versions(name)


def test_the_example_registry_keeps_its_folders() -> None:
    root = Path(__file__).resolve().parents[3] / "examples" / "registry"
    example = FileRegistry(root)
    assert example.list_models() == ["sentiment-clf"]
    assert example.index_path("sentiment-clf") == root / "sentiment-clf" / "index.json"
    assert example.resolve_alias("sentiment-clf", "production").version


def test_import_to_promote_to_check_with_a_hugging_face_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"file:{tmp_path / 'registry'}"
    path = bundle(tmp_path / "a", "run-a", model="Qwen/Qwen3-8B")
    assert main(["registry", "promote", str(path), "--registry", uri, "--alias", "production",
                 "--approved-by", "alice", "--verdict-file", passing_verdict(path)]) == 0
    capsys.readouterr()
    assert main(["registry", "show", "--registry", uri, "--model", "Qwen/Qwen3-8B", "--alias",
                 "production", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "Qwen/Qwen3-8B"
