"""gatekeeper's own environment installs only reviewed code: its source and a hash-pinned lock.

Every shell command in action.yml, the workflows under .github/workflows/ and
examples/workflows/, and the code blocks of README.md and docs/*.md is read for `pip install`,
`pip download`, `uv pip install` and `pipx`. Each may install only this project's own source (a
path such as `.` or the action's folder; in the action and users' workflows with `--no-deps`)
or a lock with `--require-hashes -r FILE`; a package name from the index fails the test.
requirements/action.lock must hash every pin and cover every runtime dependency and the build
backend, for every Python the action and CI use.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pytest depends on tomli there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
LOCK = ROOT / "requirements" / "action.lock"
PYPROJECT = ROOT / "pyproject.toml"
CI_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLE_WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# This project's own source. "." is it only where the working directory is this repository
# (its CI and the development commands of the docs); in the action and in workflows written
# for users' repositories "." is the user's project, so only the action's folder counts there.
ACTION_PATH = r"(?:\$GITHUB_ACTION_PATH|\$\{GITHUB_ACTION_PATH\}|\$\{\{github\.action_path\}\})"
EXTRAS = r"(?:\[[A-Za-z0-9_,.-]+\])?"
OWN_SOURCE_ANYWHERE = re.compile(rf"{ACTION_PATH}/?{EXTRAS}")
OWN_SOURCE_IN_REPO = re.compile(rf"(?:\.|\./|{ACTION_PATH}/?){EXTRAS}")

# pip / uv options that take a value, so the value is not read as a package.
VALUE_OPTIONS = frozenset({
    "--python", "--cache-dir", "--log", "--log-file", "--proxy", "--timeout", "--retries",
    "--exists-action", "--trusted-host", "--cert", "--client-cert", "--use-feature",
    "--use-deprecated", "--progress-bar", "--root-user-action", "--keyring-provider",
    "-c", "--constraint", "-t", "--target", "--prefix", "--root", "--src", "--platform",
    "--python-version", "--implementation", "--abi", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "--only-binary", "--no-binary", "--upgrade-strategy", "-C",
    "--config-settings", "--global-option", "--report", "--group", "-d", "--dest",
    "--override", "--index", "--default-index", "-p",
})
REQUIREMENT_OPTIONS = frozenset({"-r", "--requirement", "--requirements"})
EDITABLE_OPTIONS = frozenset({"-e", "--editable"})
PIP_EXECUTABLE = re.compile(r"(?:.*/)?pip(?:3(?:\.\d+)?)?")
SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"})
REDIRECTION = re.compile(r"[0-9]*[<>][<>&|]*|&>>?")


@dataclass(frozen=True)
class Violation:
    command: str
    reason: str


# -- reading shell ----------------------------------------------------------------------------


def _tokens(script: str) -> list[str]:
    """Shell words of a script, with command separators as their own tokens."""
    # Continuation lines are one command; a GitHub expression is one word.
    script = script.replace("\\\n", " ")
    script = re.sub(r"\$\{\{\s*(.*?)\s*\}\}",
                    lambda m: "${{" + m.group(1).replace(" ", "") + "}}", script)
    words: list[str] = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            words.extend(lexer)
        except ValueError:  # an unbalanced quote: read the words plainly rather than skip
            words.extend(line.split())
        words.append(";")
    return words


def _commands(script: str) -> Iterator[list[str]]:
    """Simple commands of a script, without their redirections (`2>&1`, `> file`)."""
    command: list[str] = []
    skip_next = False
    for word in _tokens(script):
        if skip_next:
            skip_next = False
        elif word in SEPARATORS:
            if command:
                yield command
            command = []
        elif REDIRECTION.fullmatch(word):
            if command and command[-1].isdigit():
                command.pop()  # the file descriptor of `2>&1`
            skip_next = True
        else:
            command.append(word)
    if command:
        yield command


def _option_name(word: str) -> str:
    return word.split("=", 1)[0]


def _install_args(command: list[str]) -> tuple[str, list[str]] | None:
    """The installer and the words after its install-like subcommand, or None."""
    for i, word in enumerate(command):
        if word == "pipx":
            rest = command[i + 1:]
            verb = next((w for w in rest if not w.startswith("-")), None)
            if verb in {"install", "run", "inject", "upgrade", "reinstall"}:
                return f"pipx {verb}", rest[rest.index(verb) + 1:]
            return None
        if not PIP_EXECUTABLE.fullmatch(word):  # pip, pip3, python -m pip, a venv's bin/pip
            continue
        j = i + 1
        while j < len(command) and command[j].startswith("-"):  # pip's global options
            takes_value = _option_name(command[j]) in VALUE_OPTIONS and "=" not in command[j]
            j += 2 if takes_value else 1
        if j < len(command) and command[j] in {"install", "download"}:
            tool = "uv pip" if i > 0 and command[i - 1] == "uv" else "pip"
            return f"{tool} {command[j]}", command[j + 1:]
        return None
    return None


def check_script(script: str, *, in_repo: bool) -> list[Violation]:
    """Installs in a shell script that take anything but own source or a hashed lock."""
    own = OWN_SOURCE_IN_REPO if in_repo else OWN_SOURCE_ANYWHERE
    found: list[Violation] = []
    for command in _commands(script):
        parsed = _install_args(command)
        if parsed is None:
            continue
        tool, args = parsed
        text = " ".join(command)
        if tool.startswith("pipx"):
            targets = _pipx_targets(tool, args)
        else:
            targets, requirement_files = _pip_targets(args)
            if requirement_files and "--require-hashes" not in args:
                found.append(Violation(text, f"-r {requirement_files[0]} without --require-hashes"))
        found.extend(Violation(text, f"installs {t!r}, not this project's own source")
                     for t in targets if not own.fullmatch(t))
        # Outside this repository even our own source must not resolve its dependencies from
        # the index (whatever it serves that day): they come from the lock.
        if not in_repo and targets and not tool.startswith("pipx") and "--no-deps" not in args:
            found.append(Violation(text, "resolves dependencies from the index (no --no-deps)"))
    return found


def _pip_targets(args: list[str]) -> tuple[list[str], list[str]]:
    targets: list[str] = []
    requirement_files: list[str] = []
    i = 0
    while i < len(args):
        word, name = args[i], _option_name(args[i])
        value = word.split("=", 1)[1] if "=" in word and word.startswith("--") else None
        if name in REQUIREMENT_OPTIONS or name in EDITABLE_OPTIONS:
            if value is None:
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 1
            (requirement_files if name in REQUIREMENT_OPTIONS else targets).append(value)
        elif name in VALUE_OPTIONS:
            i += 0 if value is not None else 1
        elif not word.startswith("-"):
            targets.append(word)
        i += 1
    return targets, requirement_files


def _pipx_targets(tool: str, args: list[str]) -> list[str]:
    positional: list[str] = []
    spec: str | None = None
    i = 0
    while i < len(args):
        word = args[i]
        if _option_name(word) == "--spec":
            spec = word.split("=", 1)[1] if "=" in word else args[i + 1]
            i += 0 if "=" in word else 1
        elif _option_name(word) in VALUE_OPTIONS and "=" not in word:
            i += 1
        elif not word.startswith("-"):
            positional.append(word)
        i += 1
    if tool == "pipx run":  # the package, then the app's own arguments
        return [spec] if spec is not None else positional[:1]
    if tool == "pipx inject":  # the first word names the venv to inject into
        return positional[1:]
    return positional


# -- where the scripts are ------------------------------------------------------------------


def _run_scripts(node: Any) -> Iterator[str]:
    """Every `run:` value in a parsed workflow or action."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield value
            else:
                yield from _run_scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _run_scripts(item)


FENCE = re.compile(r"^(?P<fence>```+|~~~+)(?P<lang>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                   re.MULTILINE | re.DOTALL)


def _markdown_blocks(text: str) -> Iterator[tuple[str, str]]:
    for match in FENCE.finditer(text):
        yield match.group("lang").strip().lower(), match.group("body")


@dataclass(frozen=True)
class Script:
    where: str
    text: str
    in_repo: bool


def all_scripts() -> list[Script]:
    scripts: list[Script] = []
    for path, in_repo in [(ACTION, False), *((p, True) for p in CI_WORKFLOWS),
                          *((p, False) for p in EXAMPLE_WORKFLOWS)]:
        parsed = yaml.safe_load(path.read_text(encoding="utf-8"))
        scripts += [Script(str(path.relative_to(ROOT)), run, in_repo)
                    for run in _run_scripts(parsed)]
    for path in MARKDOWN:
        for n, (lang, body) in enumerate(_markdown_blocks(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)} block {n + 1} ({lang or 'no language'})"
            # A YAML block is a workflow for the user's repository; a shell block is a
            # development command run in this one. The raw text is read in both cases, and a
            # YAML block's `run:` values too (a folded command spans several lines).
            user_workflow = lang in {"yaml", "yml"}
            scripts.append(Script(where, re.sub(r"(?m)^\$ ", "", body), not user_workflow))
            if user_workflow:
                try:
                    parsed = yaml.safe_load(body)
                except yaml.YAMLError:
                    continue
                scripts += [Script(f"{where} run:", run, False) for run in _run_scripts(parsed)]
    return scripts


# -- the scripts ------------------------------------------------------------------------------


def test_the_scan_reads_every_source() -> None:
    wheres = {s.where.split(" ")[0] for s in all_scripts()}
    assert "action.yml" in wheres
    assert ".github/workflows/ci.yml" in wheres
    assert {f"examples/workflows/{p.name}" for p in EXAMPLE_WORKFLOWS} <= wheres
    assert {"README.md", "docs/github-action.md"} <= wheres
    # The action's two installs are found, so the scan is not vacuous.
    action = "\n".join(s.text for s in all_scripts() if s.where == "action.yml")
    installs = [c for c in _commands(action) if _install_args(c)]
    assert len(installs) == 3, installs  # download, lock install, project install


def test_every_install_is_own_source_or_a_hashed_lock() -> None:
    problems = [f"{s.where}: {v.reason}: {v.command}"
                for s in all_scripts() for v in check_script(s.text, in_repo=s.in_repo)]
    assert problems == []


BAD = {
    "a name from the index": 'python -m pip install "gatekeeper-ml==0.1.0"',
    "a name after options": "python -m pip install --disable-pip-version-check --quiet requests",
    "uv pip": "uv pip install gatekeeper-gate",
    "pipx install": "pipx install gatekeeper-gate",
    "pipx run": "pipx run gatekeeper-gate check out/bundle",
    "pipx run --spec": "pipx run --spec gatekeeper-gate==0.1.0 gatekeeper check out/bundle",
    "a lock without hashes": "pip install --no-deps -r requirements/action.lock",
    "a lock without hashes, = form": "pip3 install --requirement=requirements.txt",
    "own source plus a name": 'pip install --no-deps "$GITHUB_ACTION_PATH" numpy',
    "continued lines": "python -m pip install \\\n    --quiet \\\n    numpy==2.0",
    "after &&": "pip install -e . && pip install pytest",
    "pip's global options first": '"$PY" -m pip --python "$VENV/bin/python" install scipy',
    "upgrading pip itself": "python -m pip install --upgrade pip",
    "a venv's pip": '"$RUNNER_TEMP/venv/bin/pip" install gatekeeper-gate',
    "pip download": "pip download -d wheels gatekeeper-gate",
    "a GitHub expression": "pip install ${{ inputs.package }}",
}
BAD_OUTSIDE_REPO = {
    "the user's project in a user workflow": "pip install .",
    "the user's project, editable": 'python -m pip install -e ".[test]"',
}
BAD_OUTSIDE_ONLY = {
    "own source resolving its dependencies from the index":
        'python -m pip install --disable-pip-version-check --quiet "$GITHUB_ACTION_PATH"',
}
GOOD = {
    "the hashed lock": ('"$GATEKEEPER_PYTHON" -m pip --python "$venv/bin/python" install --quiet'
                        ' --no-index --find-links "$wheels" --require-hashes --no-deps'
                        ' --only-binary :all: -r "$GITHUB_ACTION_PATH/requirements/action.lock"'),
    "the action's folder": 'pip install --no-deps --no-build-isolation "$GITHUB_ACTION_PATH"',
    "the action's folder by expression": "pip install --no-deps ${{ github.action_path }}",
    "downloading the lock": "pip download --require-hashes --no-deps -d w -r lock.txt",
    "not an install": "npm ci --prefix tools && python -m pip list && pip --version",
}
GOOD_IN_REPO = {
    "this checkout": "pip install -e .",
    "this checkout with extras": 'python -m pip install --disable-pip-version-check -e ".[test]"',
}


@pytest.mark.parametrize("script", BAD.values(), ids=BAD.keys())
def test_a_package_from_the_index_fails(script: str) -> None:
    assert check_script(script, in_repo=True) != []
    assert check_script(script, in_repo=False) != []


@pytest.mark.parametrize("script", BAD_OUTSIDE_REPO.values(), ids=BAD_OUTSIDE_REPO.keys())
def test_dot_is_not_gatekeeper_outside_this_repository(script: str) -> None:
    assert check_script(script, in_repo=False) != []
    assert check_script(script, in_repo=True) == []


@pytest.mark.parametrize("script", BAD_OUTSIDE_ONLY.values(), ids=BAD_OUTSIDE_ONLY.keys())
def test_own_source_outside_this_repository_takes_no_dependencies(script: str) -> None:
    assert check_script(script, in_repo=False) != []


@pytest.mark.parametrize("script", GOOD.values(), ids=GOOD.keys())
def test_own_source_and_hashed_locks_pass(script: str) -> None:
    assert check_script(script, in_repo=False) == []


@pytest.mark.parametrize("script", GOOD_IN_REPO.values(), ids=GOOD_IN_REPO.keys())
def test_this_checkout_passes_in_this_repository(script: str) -> None:
    assert check_script(script, in_repo=True) == []


def test_a_bad_install_in_a_markdown_yaml_block_is_found() -> None:
    text = ("Intro.\n\n```yaml\nsteps:\n  - run: >-\n      python -m pip install\n"
            "      gatekeeper-ml==0.1.0\n```\n")
    [(lang, body)] = list(_markdown_blocks(text))
    assert lang == "yaml"
    [run] = list(_run_scripts(yaml.safe_load(body)))
    assert check_script(run, in_repo=False) != []


# -- the action and the examples use it -------------------------------------------------------


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


def test_the_action_installs_the_lock_with_hashes_then_itself_without_deps() -> None:
    [step] = [s for s in _action()["runs"]["steps"]
              if s.get("name") == "Install gatekeeper into its own venv"]
    assert 'lock="$GITHUB_ACTION_PATH/requirements/action.lock"' in step["run"]
    installs = [parsed[1] for c in _commands(step["run"])
                if (parsed := _install_args(c)) is not None and parsed[0] == "pip install"]
    [from_lock] = [args for args in installs if "-r" in args]
    [own] = [args for args in installs if "-r" not in args]
    assert from_lock[from_lock.index("-r") + 1] == "$lock"
    assert {"--require-hashes", "--no-deps", "--only-binary", "--no-index"} <= set(from_lock)
    assert own[-1] == "$GITHUB_ACTION_PATH"
    assert {"--no-deps", "--no-build-isolation", "--no-index"} <= set(own)


def test_the_wheel_cache_is_keyed_on_the_lock() -> None:
    steps = _action()["runs"]["steps"]
    [cache] = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert re.fullmatch(r"actions/cache@[0-9a-f]{40}", cache["uses"])
    assert "steps.lock.outputs.sha256" in cache["with"]["key"]
    [key_step] = [s for s in steps if s.get("id") == "lock"]
    assert "requirements/action.lock" in key_step["run"]


def _jobs(path: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, job in workflow["jobs"].items():
        yield name, job.get("steps", [])


RUNS_GATEKEEPER = re.compile(r"(?m)(?:^|[;&|]\s*|\s)gatekeeper\s+[a-z]")


@pytest.mark.parametrize("path", EXAMPLE_WORKFLOWS, ids=lambda p: p.name)
def test_examples_that_run_gatekeeper_install_it_with_the_action(path: Path) -> None:
    for job, steps in _jobs(path):
        installed = False
        for step in steps:
            uses = str(step.get("uses", ""))
            if uses.startswith("org/gatekeeper@"):
                installed = True
            if RUNS_GATEKEEPER.search(str(step.get("run", ""))):
                assert installed, f"{path.name} job {job} runs gatekeeper before installing it"


# -- the lock -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: tuple[str, ...]
    text: str


def read_lock(text: str) -> list[Pin]:
    pins: list[Pin] = []
    for entry in text.replace("\\\n", " ").splitlines():
        entry = entry.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        words = entry.split()
        options = [w for w in words if w.startswith("--")]
        spec = " ".join(w for w in words if not w.startswith("--"))
        requirement = Requirement(spec)
        [specifier] = list(requirement.specifier)  # exactly one `==` pin
        assert specifier.operator == "==", entry
        pins.append(Pin(canonicalize_name(requirement.name), Version(specifier.version),
                        requirement.marker, tuple(options), entry))
    return pins


def _pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def _pythons() -> list[str]:
    """The action's default Python and every Python of the CI matrix."""
    default = str(_action()["inputs"]["python-version"]["default"])
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    matrix = [str(v) for v in ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]]
    return sorted({default, *matrix}, key=Version)


def _environment(python: str) -> dict[str, str]:
    return {"python_version": python, "python_full_version": f"{python}.0",
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": "x86_64", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "extra": ""}


def check_lock(text: str, required: list[Requirement], pythons: list[str]) -> list[str]:
    problems: list[str] = []
    pins = read_lock(text)
    if not pins:
        return ["the lock pins nothing"]
    for pin in pins:
        hashes = [o for o in pin.hashes if o.startswith("--hash=")]
        if not hashes:
            problems.append(f"{pin.name}=={pin.version} has no --hash")
        problems += [f"{pin.name}: {o} is not --hash=sha256:<64 hex>" for o in hashes
                     if not re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", o)]
    for python in pythons:
        env = _environment(python)
        active = [p for p in pins if p.marker is None or p.marker.evaluate(env)]
        for requirement in required:
            if requirement.marker is not None and not requirement.marker.evaluate(env):
                continue
            name = canonicalize_name(requirement.name)
            matching = [p for p in active if p.name == name]
            if len(matching) != 1:
                problems.append(f"Python {python}: {len(matching)} pins of {name}, not 1")
            elif not requirement.specifier.contains(matching[0].version, prereleases=True):
                problems.append(f"Python {python}: {name}=={matching[0].version} is outside "
                                f"pyproject's {requirement.specifier}")
    return problems


def _required() -> list[Requirement]:
    pyproject = _pyproject()
    return [Requirement(r) for r in (*pyproject["project"]["dependencies"],
                                     *pyproject["build-system"]["requires"])]


def test_the_lock_hashes_every_pin_and_covers_every_dependency() -> None:
    required = _required()
    assert {canonicalize_name(r.name) for r in required} >= {
        "pydantic", "pyyaml", "numpy", "scipy", "jinja2", "requests", "setuptools", "wheel"}
    pythons = _pythons()
    assert "3.11" in pythons
    assert check_lock(LOCK.read_text(encoding="utf-8"), required, pythons) == []


LOCK_SAMPLE = """\
numpy==2.4.6 ; python_full_version >= '3.11' \\
    --hash=sha256:{a}
pyyaml==6.0.4 \\
    --hash=sha256:{b}
    # via gatekeeper-gate (pyproject.toml)
""".format(a="a" * 64, b="b" * 64)

BAD_LOCKS = {
    "a pin without a hash": (LOCK_SAMPLE + "requests==2.34.2\n", ["3.11"]),
    "a weak hash": (LOCK_SAMPLE + "requests==2.34.2 --hash=md5:0123456789abcdef\n", ["3.11"]),
    "a dependency missing": (LOCK_SAMPLE, ["3.11"]),
    "no pin for one Python": (LOCK_SAMPLE + "requests==2.34.2 --hash=sha256:" + "c" * 64 + "\n",
                              ["3.10", "3.11"]),
    "a pin outside pyproject's range": (
        LOCK_SAMPLE.replace("pyyaml==6.0.4", "pyyaml==5.4")
        + "requests==2.34.2 --hash=sha256:" + "c" * 64 + "\n", ["3.11"]),
}
SAMPLE_REQUIRED = ("numpy>=1.26", "PyYAML>=6.0", "requests>=2.31")


@pytest.mark.parametrize(("text", "pythons"), BAD_LOCKS.values(), ids=BAD_LOCKS.keys())
def test_a_bad_lock_fails(text: str, pythons: list[str]) -> None:
    required = [Requirement(r) for r in SAMPLE_REQUIRED]
    assert check_lock(text, required, pythons) != []


def test_a_good_lock_passes() -> None:
    text = LOCK_SAMPLE + "requests==2.34.2 \\\n    --hash=sha256:" + "c" * 64 + "\n"
    required = [Requirement(r) for r in SAMPLE_REQUIRED]
    assert check_lock(text, required, ["3.11", "3.12"]) == []
