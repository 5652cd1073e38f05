"""The rules of docs/architecture.md, read off the source of ``gatekeeper/`` with ``ast``.

- No import cycle between modules, counting imports inside functions (``if TYPE_CHECKING:``
  blocks are not imports at run time and are left out).
- An import inside a function keeps a heavy dependency off a command's cold path, and a
  ``# lazy:`` comment on its line or the line directly above says which and off which path (one
  comment covers the consecutive imports directly below it).
- No function or method above cyclomatic complexity 15 (radon).
- The layers: ``report/`` never imports ``github/``; ``stats/`` imports only ``stats/`` and
  ``errors``; ``checks/`` never imports a registry backend or ``github/``; ``models/`` imports
  only ``models/``, ``errors`` and ``safe_text``.

Every checker takes the folder that holds the ``gatekeeper`` package, so the tests at the end
feed the same functions a small made-up tree to show that each rule can fail.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.visitors import Class, Function

from tests.conftest import ROOT

PACKAGE = "gatekeeper"
MAX_COMPLEXITY = 15

# Files another change is editing right now: their function-level imports are not yet marked
# `# lazy:` (or hoisted). Only the `# lazy:` rule skips them; cycles, complexity and layers are
# checked everywhere. Empty this set once those files carry their comments.
PENDING: frozenset[str] = frozenset()

LAZY_COMMENT = re.compile(r"#\s?lazy:\s*\S")


# -- reading the package ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    path: str  # relative to the root, with forward slashes: "gatekeeper/report/html.py"
    module: str  # "gatekeeper.report.html"; a package's __init__.py is the package
    text: str


@dataclass(frozen=True)
class ImportSite:
    source: Source
    node: ast.Import | ast.ImportFrom
    target: str  # the module it loads, resolved to a submodule where it names one
    in_function: bool
    type_only: bool  # under `if TYPE_CHECKING:`

    @property
    def where(self) -> str:
        return f"{self.source.path}:{self.node.lineno}"


def read_sources(root: Path) -> list[Source]:
    sources = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        rel = path.relative_to(root)
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        sources.append(Source(rel.as_posix(), ".".join(parts), path.read_text(encoding="utf-8")))
    return sources


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk_imports(node: ast.AST, in_function: bool = False, type_only: bool = False
                  ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement below ``node``, with whether it runs in a function or is
    type-only."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.body:
            yield from _walk_imports(child, in_function, True)
        for child in node.orelse:
            yield from _walk_imports(child, in_function, type_only)
        return
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, in_function, type_only
        return
    inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
    for inner in ast.iter_child_nodes(node):
        yield from _walk_imports(inner, inside, type_only)


def _from_base(source: Source, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = source.module.split(".")
    if not source.path.endswith("__init__.py"):
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(source: Source, node: ast.Import | ast.ImportFrom, modules: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = _from_base(source, node)
    # `from gatekeeper.report import html` loads the module gatekeeper.report.html.
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names]


def import_sites(sources: list[Source]) -> list[ImportSite]:
    modules = {s.module for s in sources}
    sites = []
    for source in sources:
        tree = ast.parse(source.text, source.path)
        for node, in_function, type_only in _walk_imports(tree):
            for target in dict.fromkeys(_targets(source, node, modules)):
                sites.append(ImportSite(source, node, target, in_function, type_only))
    return sites


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# -- rule 1: no cycles ------------------------------------------------------------------------


def import_graph(sites: list[ImportSite]) -> dict[str, dict[str, str]]:
    """module → {imported gatekeeper module → where the first such import is}."""
    graph: dict[str, dict[str, str]] = {}
    for site in sites:
        graph.setdefault(site.source.module, {})
        if not site.type_only and _within(site.target, PACKAGE):
            graph[site.source.module].setdefault(site.target, site.where)
    return graph


def _strong_components(graph: Mapping[str, Mapping[str, str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return found


def _shortest_cycle(graph: Mapping[str, Mapping[str, str]], members: list[str]) -> list[str]:
    """The shortest path from the component's first module back to itself."""
    start, inside = members[0], set(members)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.get(node, {})):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child in inside and child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def find_cycles(root: Path) -> list[str]:
    """Each import cycle as "a (file:line) → b (file:line) → a"."""
    graph = import_graph(import_sites(read_sources(root)))
    cycles = []
    for members in _strong_components(graph):
        if len(members) == 1 and members[0] not in graph.get(members[0], {}):
            continue
        path = _shortest_cycle(graph, members)
        steps = [f"{a} ({graph[a][b]})" for a, b in pairwise(path)]
        others = sorted(set(members) - set(path))
        also = f" (and through it: {', '.join(others)})" if others else ""
        cycles.append(" → ".join([*steps, path[-1]]) + also)
    return cycles


# -- rule 2: an import inside a function says why ---------------------------------------------


def _comments(text: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return {tok.start[0]: tok.string for tok in tokens if tok.type == tokenize.COMMENT}


def _statement_before(tree: ast.AST) -> dict[ast.stmt, ast.stmt]:
    """Each statement → the statement before it in the same block."""
    before: dict[ast.stmt, ast.stmt] = {}
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                for first, second in pairwise(block):
                    before[second] = first
    return before


@dataclass(frozen=True)
class _Text:
    """What the `# lazy:` rule reads of one file besides its tree."""

    comments: dict[int, str]  # line → the comment on it
    lines: list[str]
    before: dict[ast.stmt, ast.stmt]

    def marked(self, node: ast.stmt) -> bool:
        assert node.end_lineno is not None
        if any(LAZY_COMMENT.match(self.comments.get(n, ""))
               for n in range(node.lineno, node.end_lineno + 1)):
            return True
        # The comment lines directly above: a `# lazy:` line among them marks this import.
        above = node.lineno - 1
        while above >= 1 and self.lines[above - 1].lstrip().startswith("#"):
            if LAZY_COMMENT.match(self.lines[above - 1].lstrip()):
                return True
            above -= 1
        # An import right below a marked import belongs to the same block.
        prev = self.before.get(node)
        return (isinstance(prev, ast.Import | ast.ImportFrom) and prev.end_lineno is not None
                and prev.end_lineno == node.lineno - 1 and self.marked(prev))


def unmarked_lazy_imports(root: Path) -> list[str]:
    """file:line of every import inside a function without its `# lazy:` comment."""
    found = []
    for source in read_sources(root):
        tree = ast.parse(source.text, source.path)
        text = _Text(_comments(source.text), source.text.splitlines(), _statement_before(tree))
        for node, in_function, type_only in _walk_imports(tree):
            if in_function and not type_only and not text.marked(node):
                found.append(f"{source.path}:{node.lineno}: {ast.unparse(node)}")
    return found


# -- rule 3: complexity -----------------------------------------------------------------------


def _functions(blocks: list[Function | Class], outer: str = "") -> Iterator[tuple[str, Function]]:
    """(qualified name, block) of every function, method and closure."""
    for block in blocks:
        name = f"{outer}{block.name}"
        if isinstance(block, Class):
            yield from _functions([*block.methods, *block.inner_classes], f"{name}.")
        else:
            yield name, block
            yield from _functions(block.closures, f"{name}.")


def too_complex(root: Path, limit: int = MAX_COMPLEXITY) -> list[str]:
    """"file:line name (score)" for every function, method or closure above ``limit``."""
    found = []
    for source in read_sources(root):
        # cc_visit lists each method twice (alone and in its class): keep the top-level
        # functions and classes, and walk down from them.
        top = [b for b in cc_visit(source.text) if isinstance(b, Class) or not b.is_method]
        for name, block in _functions(top):
            if block.complexity > limit:
                found.append(f"{source.path}:{block.lineno} {name} ({block.complexity})")
    return found


# -- rule 4: layers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerRule:
    layer: str  # the package whose modules keep the rule
    forbidden: tuple[str, ...] = ()  # gatekeeper modules (and what is below them) never imported
    only: tuple[str, ...] | None = None  # when set: the only gatekeeper modules it may import
    why: str = ""

    def broken_by(self, target: str) -> bool:
        if not _within(target, PACKAGE):
            return False
        if any(_within(target, f) for f in self.forbidden):
            return True
        return self.only is not None and not any(_within(target, o) for o in self.only)


LAYER_RULES = (
    LayerRule("gatekeeper.report", forbidden=("gatekeeper.github",),
              why="report/ renders a verdict; github/ imports report/, never the reverse"),
    LayerRule("gatekeeper.stats", only=("gatekeeper.stats", "gatekeeper.errors"),
              why="stats/ is pure: arrays in, value types out"),
    LayerRule("gatekeeper.checks",
              forbidden=("gatekeeper.registry.file", "gatekeeper.registry.mlflow",
                         "gatekeeper.github"),
              why="checks ask the Registry interface, never a backend or GitHub"),
    LayerRule("gatekeeper.models",
              only=("gatekeeper.models", "gatekeeper.errors", "gatekeeper.safe_text"),
              why="models/ are the formats, below everything else"),
)


def layer_violations(root: Path, rules: tuple[LayerRule, ...] = LAYER_RULES) -> list[str]:
    """Type-only imports count here: they still tie the layer to the other code."""
    found = []
    for site in import_sites(read_sources(root)):
        for rule in rules:
            if _within(site.source.module, rule.layer) and rule.broken_by(site.target):
                found.append(f"{site.where}: {site.source.module} imports {site.target} "
                             f"({rule.why})")
    return found


# -- the rules on gatekeeper/ -----------------------------------------------------------------


@cache
def _real_sites() -> list[ImportSite]:
    return import_sites(read_sources(ROOT))


def test_no_import_cycles() -> None:
    cycles = find_cycles(ROOT)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_every_function_level_import_says_why_it_is_lazy() -> None:
    unmarked = [f for f in unmarked_lazy_imports(ROOT) if f.split(":")[0] not in PENDING]
    assert not unmarked, (
        "imports inside functions without a `# lazy: <what it keeps off which path>` comment "
        "(hoist the import to the top of the module unless it keeps a heavy dependency off a "
        "cold path):\n" + "\n".join(unmarked))


def test_pending_files_exist() -> None:
    assert all((ROOT / path).is_file() for path in PENDING)


def test_no_function_above_complexity_limit() -> None:
    over = too_complex(ROOT)
    assert not over, f"cyclomatic complexity above {MAX_COMPLEXITY}:\n" + "\n".join(over)


def test_layer_rules() -> None:
    broken = layer_violations(ROOT)
    assert not broken, "layer rules broken:\n" + "\n".join(broken)


def test_graph_counts_function_level_imports_and_resolves_submodules() -> None:
    """The checks above read real edges: a function-level `from package import module` is one."""
    graph = import_graph(_real_sites())
    assert "gatekeeper.registry.file" in graph["gatekeeper.registry"]  # inside open_registry
    assert "gatekeeper.report.html" in graph["gatekeeper.report.files"]
    assert "gatekeeper.github.settings" not in graph["gatekeeper.gate"]  # TYPE_CHECKING only


# -- each rule can fail: the same checkers on a made-up package -------------------------------


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for rel, text in {"__init__.py": "", **files}.items():
        path = tmp_path / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("", encoding="utf-8")
        path.write_text(text, encoding="utf-8")
    return tmp_path


CYCLES = {
    "module level": ({"a.py": "import gatekeeper.b\n", "b.py": "from gatekeeper.a import x\n"},
                     ["gatekeeper.a (gatekeeper/a.py:1) → gatekeeper.b (gatekeeper/b.py:1) → "
                      "gatekeeper.a"]),
    "in a function, through `from package import module`": (
        {"a.py": "def f():\n    # lazy: b\n    from gatekeeper.p import b\n",
         "p/b.py": "from gatekeeper.a import f\n"},
        ["gatekeeper.a (gatekeeper/a.py:3) → gatekeeper.p.b (gatekeeper/p/b.py:1) → "
         "gatekeeper.a"]),
    "relative import": ({"p/a.py": "from . import b\n", "p/b.py": "from .a import x\n"},
                        ["gatekeeper.p.a (gatekeeper/p/a.py:1) → gatekeeper.p.b "
                         "(gatekeeper/p/b.py:1) → gatekeeper.p.a"]),
    "TYPE_CHECKING is not a cycle": (
        {"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from gatekeeper.b import B\n",
         "b.py": "from gatekeeper.a import A\n"}, []),
    "no cycle": ({"a.py": "from gatekeeper import b\n", "b.py": "import json\n"}, []),
}


@pytest.mark.parametrize("files, expected", CYCLES.values(), ids=CYCLES.keys())
def test_cycle_checker(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    assert find_cycles(_tree(tmp_path, files)) == expected


LAZY = {
    "unmarked": ("def f():\n    import json\n", ["gatekeeper/m.py:2: import json"]),
    "another comment": ("def f():\n    # keeps it light\n    import json\n",
                        ["gatekeeper/m.py:3: import json"]),
    "empty reason": ("def f():\n    import json  # lazy:\n", ["gatekeeper/m.py:2: import json"]),
    "in a method": ("class C:\n    def m(self):\n        import json\n",
                    ["gatekeeper/m.py:3: import json"]),
    "comment on the line": ("def f():\n    import json  # lazy: json stays off check\n", []),
    "comment above": ("def f():\n    # lazy: json stays off check\n    import json\n", []),
    "two-line comment above": ("def f():\n    # lazy: json stays off check, which\n"
                               "    # never writes JSON\n    import json\n", []),
    "consecutive block": ("def f():\n    # lazy: json and csv stay off check\n    import json\n"
                          "    from csv import (\n        reader,\n    )\n    import io\n", []),
    "a blank line ends the block": ("def f():\n    # lazy: json stays off check\n    import json\n"
                                    "\n    import csv\n", ["gatekeeper/m.py:5: import csv"]),
    "a statement ends the block": (
        "def f():\n    # lazy: json stays off check\n    import json\n    x = 1\n    import csv\n",
        ["gatekeeper/m.py:5: import csv"]),
    "module level and TYPE_CHECKING need nothing": (
        "import json\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import csv\n", []),
}


@pytest.mark.parametrize("text, expected", LAZY.values(), ids=LAZY.keys())
def test_lazy_comment_checker(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert unmarked_lazy_imports(_tree(tmp_path, {"m.py": text})) == expected


def _branches(n: int) -> str:
    """f of cyclomatic complexity n + 1, its closure n + 2, and a method of n."""
    def ifs(count: int, indent: str) -> str:
        return "".join(f"{indent}if x == {i}:\n{indent}    return {i}\n" for i in range(count))
    return (f"def f(x):\n{ifs(n, '    ')}    def inner(x):\n{ifs(n + 1, '        ')}"
            f"        return 0\n    return inner(x)\n"
            f"class C:\n    def m(self, x):\n{ifs(n - 1, '        ')}        return 0\n")


@pytest.mark.parametrize("n, expected", [
    (13, []),
    (14, ["gatekeeper/m.py:30 f.inner (16)"]),
    (16, ["gatekeeper/m.py:1 f (17)", "gatekeeper/m.py:34 f.inner (18)",
          "gatekeeper/m.py:72 C.m (16)"]),
])
def test_complexity_checker(tmp_path: Path, n: int, expected: list[str]) -> None:
    assert too_complex(_tree(tmp_path, {"m.py": _branches(n)})) == expected


LAYERS = {
    "report imports github": ("report/x.py", "from gatekeeper.github.client import C\n", True),
    "report imports github lazily": ("report/x.py", "def f():\n    import gatekeeper.github\n",
                                     True),
    "report imports github for types only": (
        "report/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                       "    from gatekeeper.github import settings\n", True),
    "report imports models": ("report/x.py", "from gatekeeper.models import verdict\n", False),
    "stats imports inputs": ("stats/x.py", "from gatekeeper.inputs.scores import load\n", True),
    "stats imports the package": ("stats/x.py", "from gatekeeper import __version__\n", True),
    "stats imports errors and stats": (
        "stats/x.py", "from gatekeeper.errors import E\nfrom gatekeeper.stats.types import T\n",
        False),
    "checks import the file backend": ("checks/x.py", "from gatekeeper.registry import file\n",
                                       True),
    "checks import the MLflow backend": (
        "checks/x.py", "from gatekeeper.registry.mlflow import MlflowRegistry\n", True),
    "checks import github": ("checks/x.py", "from gatekeeper.github.settings import S\n", True),
    "checks import the registry interface": (
        "checks/x.py", "from gatekeeper.registry.interface import Registry\n", False),
    "models import inputs": ("models/x.py", "from gatekeeper.inputs import yamlio\n", True),
    "models import safe_text and errors": (
        "models/x.py", "from gatekeeper.safe_text import one_line\nimport gatekeeper.errors\n",
        False),
}


@pytest.mark.parametrize("rel, text, broken", LAYERS.values(), ids=LAYERS.keys())
def test_layer_checker(tmp_path: Path, rel: str, text: str, broken: bool) -> None:
    root = _tree(tmp_path, {
        rel: text, "errors.py": "", "safe_text.py": "", "registry/file.py": "",
        "registry/mlflow.py": "", "registry/interface.py": "", "github/settings.py": "",
        "github/client.py": "", "models/verdict.py": "", "inputs/yamlio.py": "",
        "inputs/scores.py": "", "stats/types.py": "",
    })
    found = layer_violations(root)
    assert bool(found) == broken, found
    assert all(f.startswith(f"gatekeeper/{rel}:") for f in found)
