"""Cold start matters in CI: `check` loads only what its policy needs (bench/coldstart.py
measures the time; this test keeps the heavy modules out of the paths that do not need them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gatekeeper.cli import COMMANDS
from tests.conftest import ROOT

HEAVY = ("scipy.stats", "scipy.optimize", "jinja2", "requests", "mlflow", "pandas")
# What `--help`, `--version` and the registry's bookkeeping commands never need.
NEVER_FOR_HELP = ("numpy", "scipy", "jinja2", "requests")
MODELS = ("pydantic", "yaml", "numpy")


def _loaded_by(argv: list[str], watch: tuple[str, ...]) -> set[str]:
    """The modules of ``watch`` in sys.modules after ``gatekeeper ARGV`` in a fresh process."""
    code = (
        "import contextlib, io, sys\n"
        "from gatekeeper.cli import main\n"
        "out = io.StringIO()\n"
        "try:\n"
        "    with contextlib.redirect_stdout(out):\n"
        f"        code = main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "assert code == 0, (code, out.getvalue())\n"
        f"print('LOADED:' + ' '.join(m for m in {watch!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("LOADED:")
    return set(last[len("LOADED:"):].split())


def _loaded(policy: str, fmt: str) -> set[str]:
    return _loaded_by(["check", "examples/bundles/pass", "--policy", policy, "--format", fmt,
                       "--as-of", "2026-11-26"], (*HEAVY, "scipy"))


def test_floors_only_policy_loads_no_scipy_jinja_or_requests() -> None:
    assert _loaded("bench/floors-only.yaml", "text") == set()


def test_baseline_comparison_loads_no_scipy() -> None:
    # The default policy's binary comparison (Tango interval, a normal quantile from the
    # standard library) needs no scipy.
    assert _loaded("policies/default.yaml", "json") == set()
    argv = ["check", "examples/bundles/warn", "--policy", "policies/default.yaml",
            "--as-of", "2026-11-26"]
    assert _loaded_by(argv, (*HEAVY, "scipy", "pyarrow", "numpy.ma")) == set()


def test_version_loads_neither_argparse_nor_the_error_tree() -> None:
    assert _loaded_by(["--version"], ("argparse", "dataclasses", "typing", "gatekeeper.errors")
                      ) == set()


def test_help_loads_neither_argparse_nor_the_error_tree() -> None:
    # The top-level help is a constant (cli.HELP, held to argparse's rendering by
    # tests/unit/test_cli_help.py): the parser and its formatter are not built for it.
    assert _loaded_by(["--help"], ("argparse", "shutil", "textwrap", "dataclasses", "typing",
                                   "gatekeeper.errors")) == set()


def test_help_imports_no_command_module() -> None:
    modules = tuple(target.partition(":")[0] for target in COMMANDS.values())
    assert _loaded_by(["--help"], (*modules, "dataclasses")) == set()


@pytest.mark.parametrize("argv", [["--version"], ["--help"]],
                         ids=["--version", "--help"])
def test_version_and_help_load_no_numpy_or_requests(argv: list[str]) -> None:
    # Both build the parser of every command: each command module keeps its heavy imports in
    # the function that runs it.
    assert _loaded_by(argv, NEVER_FOR_HELP) == set()


@pytest.mark.parametrize("command", COMMANDS.names())
def test_help_of_a_command_loads_no_numpy_or_requests(command: str) -> None:
    assert _loaded_by([command, "--help"], NEVER_FOR_HELP) == set()


@pytest.mark.parametrize("action", [["list"], ["list", "--model", "sentiment-clf"],
                                    ["show", "3", "--model", "sentiment-clf"],
                                    ["history", "--model", "sentiment-clf"]],
                         ids=lambda a: " ".join(a))
def test_registry_bookkeeping_loads_no_models(action: list[str]) -> None:
    # Listing and showing read the registry's own records: no bundle, so no pydantic models,
    # YAML or score arrays.
    argv = ["registry", *action, "--registry", "file:examples/registry"]
    assert _loaded_by(argv, (*MODELS, *NEVER_FOR_HELP)) == set()


def test_import_gatekeeper_loads_no_numpy_or_models() -> None:
    # Scripts `import gatekeeper` at the top; the API (pydantic, YAML, the writer) loads when
    # `gatekeeper.Run` is first touched, and numpy never comes with it.
    watch = (*MODELS, *NEVER_FOR_HELP)
    code = ("import sys, gatekeeper\n"
            f"print('LOADED:' + ' '.join(m for m in {watch!r} if m in sys.modules))\n"
            "gatekeeper.Run\n"
            f"print('RUN:' + ' '.join(m for m in {watch!r} if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    bare, with_run = proc.stdout.splitlines()
    assert bare == "LOADED:"
    assert with_run.startswith("RUN:")
    loaded = with_run[len("RUN:"):].split()
    assert "numpy" not in loaded and "pydantic" in loaded
