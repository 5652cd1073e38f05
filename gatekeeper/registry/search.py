"""A small, safe filter language over registry versions (no ``eval``).

Grammar (docs/registry.md)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | primary
    primary    := "(" expr ")" | operand [OP operand]
    operand    := PATH | STRING | NUMBER | "true" | "false" | "null"
    OP         := "==" | "!=" | "<" | "<=" | ">" | ">="
    PATH       := SEGMENT ("." SEGMENT)*      SEGMENT := [A-Za-z_][A-Za-z0-9_-]* | `any text`

A comparison needs exactly one path. A bare path is true when the value is present and truthy
(``not archived``). A missing value makes every comparison false except ``!= ...`` and
``== null``. Numbers compare numerically (text values such as MLflow params are converted when
they parse as numbers); ``aliases == "production"`` tests membership.

An expression is at most ``MAX_EXPRESSION_LENGTH`` characters and nests parentheses and ``not``
at most ``MAX_DEPTH`` levels deep, so parsing and evaluation stay far from Python's recursion
limit; ``and``/``or`` chains of any length are flat (one node with many operands).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from gatekeeper.errors import InputError, Location

if TYPE_CHECKING:
    from gatekeeper.registry.interface import ModelVersion, Registry, RunInfo

# Roots a path may start with, and whether resolving them needs the version's run.
SCALAR_FIELDS = ("model", "version", "run_id", "created_at", "bundle_sha256", "archived",
                 "verdict", "aliases", "parent_run_id")
MAP_FIELDS = ("tags", "params", "metrics", "approval", "run")
RUN_ROOTS = frozenset({"tags", "params", "metrics", "run", "parent_run_id"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})
MAX_EXPRESSION_LENGTH = 10_000
MAX_DEPTH = 64  # levels of "(" and "not"; each level costs a few stack frames


class SearchError(InputError):
    """A malformed search expression; the message names the column."""


@dataclass(frozen=True)
class Token:
    kind: str  # "op" "lparen" "rparen" "string" "number" "path" "and" "or" "not" "const" "end"
    text: str
    column: int  # 1-based
    value: Any = None


def _error(expression: str, column: int, message: str) -> SearchError:
    caret = " " * (column - 1) + "^"
    return SearchError(f"column {column}: {message}\n  {expression}\n  {caret}",
                       Location(field="expression", column=column))


def tokenize(expression: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(expression)
    while i < n:
        if expression[i].isspace():
            i += 1
            continue
        token, i = _next_token(expression, i)
        tokens.append(token)
    tokens.append(Token("end", "", n + 1))
    return tokens


def _next_token(expression: str, i: int) -> tuple[Token, int]:
    """The token that starts at ``i`` (not a space), and where the next one may start."""
    c = expression[i]
    col = i + 1
    if c == "(":
        return Token("lparen", c, col), i + 1
    if c == ")":
        return Token("rparen", c, col), i + 1
    if expression.startswith(OPERATORS[:4], i) or c in "<>":
        op = expression[i:i + 2] if expression[i:i + 2] in OPERATORS else c
        return Token("op", op, col), i + len(op)
    if c == "=" or c == "!":
        raise _error(expression, col, f"unknown operator {c!r}; use ==, !=, <, <=, >, >=")
    if c in "\"'":
        value, end = _read_string(expression, i)
        return Token("string", expression[i:end], col, value), end
    if _starts_number(expression, i):
        return _read_number(expression, i)
    if c.isalpha() or c == "_" or c == "`":
        return _read_word(expression, i)
    raise _error(expression, col, f"unexpected character {c!r}")


def _starts_number(expression: str, i: int) -> bool:
    c = expression[i]
    return c.isdigit() or (c in "-+." and i + 1 < len(expression)
                           and (expression[i + 1].isdigit() or expression[i + 1] == "."))


def _read_number(expression: str, i: int) -> tuple[Token, int]:
    n = len(expression)
    j = i + 1
    while j < n and (expression[j].isalnum() or expression[j] in ".+-"):
        # stop a "1e-3" scan from eating a following operator-free token only
        if expression[j] in "+-" and expression[j - 1] not in "eE":
            break
        j += 1
    text = expression[i:j]
    col = i + 1
    try:
        number = float(text)
    except ValueError:
        raise _error(expression, col, f"malformed number {text!r}") from None
    if not math.isfinite(number):
        raise _error(expression, col, f"number {text!r} is not finite")
    return Token("number", text, col, number), j


def _read_word(expression: str, start: int) -> tuple[Token, int]:
    """A keyword, a constant (true, false, null) or a path."""
    segments, end = _read_path(expression, start)
    text = expression[start:end]
    col = start + 1
    word = text.lower()
    if len(segments) == 1 and not text.startswith("`") and word in KEYWORDS:
        if word in {"true", "false", "null"}:
            const = {"true": True, "false": False, "null": None}[word]
            return Token("const", text, col, const), end
        return Token(word, text, col), end
    return Token("path", text, col, tuple(segments)), end


def _read_string(expression: str, start: int) -> tuple[str, int]:
    quote = expression[start]
    out: list[str] = []
    i = start + 1
    escapes = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
    while i < len(expression):
        c = expression[i]
        if c == "\\" and i + 1 < len(expression):
            nxt = expression[i + 1]
            if nxt not in escapes:
                raise _error(expression, i + 1, f"unknown escape \\{nxt}")
            out.append(escapes[nxt])
            i += 2
        elif c == quote:
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise _error(expression, start + 1, "string is not closed")


def _read_path(expression: str, start: int) -> tuple[list[str], int]:
    segments: list[str] = []
    i = start
    n = len(expression)
    while True:
        segment, i = _read_segment(expression, i)
        segments.append(segment)
        if i < n and expression[i] == "." and i + 1 < n and not expression[i + 1].isspace():
            i += 1
            continue
        return segments, i


def _read_segment(expression: str, i: int) -> tuple[str, int]:
    """One name of a path: `any text` or [A-Za-z_][A-Za-z0-9_-]*."""
    n = len(expression)
    if i < n and expression[i] == "`":
        end = expression.find("`", i + 1)
        if end < 0 or end == i + 1:
            raise _error(expression, i + 1, "quoted name needs a closing ` and some text")
        return expression[i + 1:end], end + 1
    if i < n and (expression[i].isalpha() or expression[i] == "_"):
        j = i + 1
        while j < n and (expression[j].isalnum() or expression[j] in "_-"):
            j += 1
        return expression[i:j], j
    raise _error(expression, i + 1, "expected a name after '.'")


# -- syntax tree -----------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    path: tuple[str, ...]
    op: str
    value: Any  # str | float | bool | None


@dataclass(frozen=True)
class Truthy:
    path: tuple[str, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    # A whole chain in one node: "a or b or c ..." must not cost one stack frame per operand.
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Union[Compare, Truthy, BoolOp, Not]  # noqa: UP007 - a runtime alias used before 3.10
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = tokenize(expression)
        self.pos = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, token: Token, message: str) -> SearchError:
        return _error(self.expression, token.column, message)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "empty expression")
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(self.peek(), f"unexpected {self.peek().text!r}; expected 'and', "
                                         "'or' or the end")
        return node

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(token, f"nested deeper than {MAX_DEPTH} levels of '(' and 'not'")

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.peek().kind == "or":
            self.take()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while self.peek().kind == "and":
            self.take()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def not_expr(self) -> Node:
        if self.peek().kind == "not":
            self.enter(self.take())
            node: Node = Not(self.not_expr())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "lparen":
            self.enter(self.take())
            node = self.or_expr()
            closing = self.peek()
            if closing.kind != "rparen":
                raise self.fail(closing, f"expected ')' to close the '(' at column {token.column}")
            self.take()
            self.depth -= 1
            return node
        left = self.operand()
        if self.peek().kind != "op":
            if left.kind != "path":
                raise self.fail(left, "expected a comparison such as metrics.accuracy >= 0.9")
            return Truthy(self.checked_path(left))
        op = self.take()
        right = self.operand()
        if left.kind == "path" and right.kind != "path":
            path_token, literal, operator = left, right, op.text
        elif right.kind == "path" and left.kind != "path":
            path_token, literal, operator = right, left, _FLIP[op.text]
        elif left.kind == "path":
            raise self.fail(right, "compare a path with a value, not with another path")
        else:
            raise self.fail(left, "a comparison needs a path such as metrics.accuracy")
        if (literal.value is None or isinstance(literal.value, bool)) and operator not in {
            "==", "!="
        }:
            raise self.fail(op, f"{literal.text} can only be compared with == or !=")
        return Compare(self.checked_path(path_token), operator, literal.value)

    def operand(self) -> Token:
        token = self.peek()
        if token.kind in {"path", "string", "number", "const"}:
            return self.take()
        if token.kind == "end":
            raise self.fail(token, "expression ends where a value or path was expected")
        raise self.fail(token, f"unexpected {token.text!r}; expected a value or a path")

    def checked_path(self, token: Token) -> tuple[str, ...]:
        path: tuple[str, ...] = token.value
        root = path[0]
        if root in SCALAR_FIELDS:
            if len(path) > 1:
                raise self.fail(token, f"{root!r} has no sub-fields")
        elif root in MAP_FIELDS:
            if len(path) == 1:
                raise self.fail(token, f"name a key: {root}.NAME")
        else:
            known = ", ".join((*SCALAR_FIELDS, *(f"{m}.*" for m in MAP_FIELDS)))
            raise self.fail(token, f"unknown field {root!r}; known: {known}")
        return path


def parse(expression: str) -> Node:
    """Parse ``expression`` into a tree; raises SearchError naming the column."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        column = MAX_EXPRESSION_LENGTH + 1
        # Not echoed with a caret like other errors: the echo would be as long as the input.
        raise SearchError(
            f"column {column}: the expression is {len(expression)} characters long; "
            f"the limit is {MAX_EXPRESSION_LENGTH}",
            Location(field="expression", column=column),
        )
    return _Parser(expression).parse()


def needs_run(node: Node) -> bool:
    if isinstance(node, Compare | Truthy):
        return node.path[0] in RUN_ROOTS
    if isinstance(node, Not):
        return needs_run(node.operand)
    return any(needs_run(operand) for operand in node.operands)


# -- evaluation ------------------------------------------------------------------------
_MISSING = object()


def record(version: ModelVersion, run: RunInfo | None) -> dict[str, Any]:
    """The searchable view of one version: top-level fields plus nested maps."""
    approval = vars(version.approval) if version.approval is not None else {}
    tags: dict[str, Any] = dict(run.tags) if run is not None else {}
    tags.update(version.tags)  # the registry's own tags win over the run's
    return {
        "model": version.model,
        "version": version.version,
        "run_id": version.run_id,
        "created_at": version.created_at,
        "bundle_sha256": version.bundle_sha256,
        "archived": version.archived,
        "verdict": version.verdict,
        "aliases": list(version.aliases),
        "parent_run_id": run.parent_run_id if run is not None else None,
        "tags": tags,
        "params": dict(run.params) if run is not None else {},
        "metrics": dict(run.metrics) if run is not None else {},
        "approval": dict(approval),
        "run": {
            "run_id": run.run_id, "name": run.name, "parent_run_id": run.parent_run_id,
            "commit": run.commit,
        } if run is not None else {},
    }


def lookup(rec: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = rec
    i = 0
    while i < len(path):
        if not isinstance(value, Mapping):
            return _MISSING
        # Keys may contain dots themselves (MLflow params "optimizer.lr"): longest match wins.
        for j in range(len(path), i, -1):
            key = ".".join(path[i:j])
            if key in value:
                value = value[key]
                i = j
                break
        else:
            return _MISSING
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _compare(value: Any, op: str, literal: Any) -> bool:
    if value is _MISSING or value is None:
        if literal is None:
            return op == "=="
        return op == "!="
    if literal is None:
        return op == "!="
    if isinstance(value, list):
        inside = any(_compare(item, "==", literal) for item in value)
        return inside if op == "==" else (not inside if op == "!=" else False)
    if isinstance(literal, bool):
        return _compare_bool(value, op, literal)
    operands = _operands(value, literal)
    if operands is None:
        return op == "!="
    a, b = operands
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    return _ORDER[op](a, b)


def _compare_bool(value: Any, op: str, literal: bool) -> bool:
    """== / != with true or false; text such as MLflow's "True" counts, case-insensitively."""
    same = isinstance(value, bool) and value == literal
    if isinstance(value, str):
        same = value.lower() == str(literal).lower()
    return same if op == "==" else not same


def _operands(value: Any, literal: Any) -> tuple[Any, Any] | None:
    """The two sides as compared: numbers when both read as numbers, else text; None when the
    literal is a number and the value is not."""
    if isinstance(literal, float):
        number = _number(value)
        if number is None:
            return None
        return number, literal
    if isinstance(value, str):
        return value, literal
    number, other = _number(value), _number(literal)
    if number is None or other is None:
        return str(value), literal
    return number, other


def evaluate(node: Node, rec: Mapping[str, Any]) -> bool:
    if isinstance(node, Compare):
        return _compare(lookup(rec, node.path), node.op, node.value)
    if isinstance(node, Truthy):
        value = lookup(rec, node.path)
        return value is not _MISSING and bool(value)
    if isinstance(node, Not):
        return not evaluate(node.operand, rec)
    if node.op == "and":
        return all(evaluate(operand, rec) for operand in node.operands)
    return any(evaluate(operand, rec) for operand in node.operands)


def matches(expression: str, version: ModelVersion, run: RunInfo | None = None) -> bool:
    return evaluate(parse(expression), record(version, run))


def search_versions(
    registry: Registry,
    expression: str,
    *,
    model: str | None = None,
    parent_run_id: str | None = None,
) -> list[ModelVersion]:
    """Versions of ``model`` (or every model) that match; the expression is parsed before any
    registry call so a typo fails fast. An empty expression with ``parent_run_id`` lists trials."""
    node = parse(expression) if expression.strip() else None
    want_run = parent_run_id is not None or (node is not None and needs_run(node))
    models = [model] if model is not None else registry.list_models()
    found: list[ModelVersion] = []
    for name in models:
        for version in registry.list_versions(name):
            run = registry.run_info(version) if want_run else None
            if parent_run_id is not None and (run is None or run.parent_run_id != parent_run_id):
                continue
            if node is None or evaluate(node, record(version, run)):
                found.append(version)
    return found
