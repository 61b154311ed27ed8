"""The syntax tree of mapping expressions, the limits that keep them harmless, and the error
raised for anything the language refuses. See ``expressions.py`` for the language reference."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import MappingError

# -- limits ---------------------------------------------------------------------------------
MAX_LENGTH = 2_000  # characters in one expression
MAX_DEPTH = 64  # levels of the syntax tree (operators, calls, parentheses)
MAX_DIGITS = 18  # digits in a number (literal, cell or result)
MAX_LIST = 200  # values in one `in [...]` list
MAX_ARGS = 32  # arguments of one function call
MAX_TEXT_GROWTH = 64  # a text result is at most this many times its longest input cell


class ExpressionError(MappingError):
    """An expression that cannot be used: bad syntax, a limit exceeded, or a type mismatch.

    ``position`` is the 0-based offset in ``text`` and ``column`` the 1-based column shown to a
    person; ``reason`` is the one-line explanation without the caret picture."""

    code = "expression-invalid"

    def __init__(
        self, reason: str, text: str, position: int, end: int | None = None, hint: str = ""
    ) -> None:
        self.reason = reason
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.end = self.position + 1 if end is None else max(end, self.position + 1)
        self.column = self.position + 1
        super().__init__(
            f"{reason} (at column {self.column})\n{self.caret()}", hint=hint, code=self.code
        )

    def caret(self) -> str:
        """The expression (or the part around the problem) with a caret line under it."""
        width = 72
        start = max(0, self.position - width // 2) if len(self.text) > width else 0
        piece = self.text[start : start + width]
        shown = "".join(c if c.isprintable() else " " for c in piece)
        left = "…" if start > 0 else ""
        right = "…" if start + width < len(self.text) else ""
        pad = len(left) + self.position - start
        marks = max(1, min(self.end - self.position, len(shown) - (self.position - start)))
        return f"    {left}{shown}{right}\n    {' ' * pad}{'^' * marks}"


# -- AST ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """Base of AST nodes; ``start``/``end`` are offsets into the expression text."""

    start: int
    end: int


@dataclass(frozen=True)
class NumberLit(Node):
    """An exact number: ``coef / 10**scale``."""

    coef: int
    scale: int


@dataclass(frozen=True)
class TextLit(Node):
    value: str


@dataclass(frozen=True)
class DateLit(Node):
    days: int  # since 1970-01-01


@dataclass(frozen=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True)
class NullLit(Node):
    pass


@dataclass(frozen=True)
class Name(Node):
    """A column, or an already-computed field, read by name."""

    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / & = != < <= > >= ~ and or
    left: Node
    right: Node


@dataclass(frozen=True)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class IsEmpty(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True)
class Call(Node):
    name: str  # lower case, one of FUNCTIONS
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = field(default=())


LITERALS = (NumberLit, TextLit, DateLit, BoolLit, NullLit)


@dataclass(frozen=True)
class Signature:
    """How many arguments a function takes, and its keyword parameters."""

    min_args: int
    max_args: int
    keywords: tuple[str, ...] = ()


FUNCTIONS: dict[str, Signature] = {
    "round": Signature(1, 2),
    "abs": Signature(1, 1),
    "min": Signature(2, MAX_ARGS),
    "max": Signature(2, MAX_ARGS),
    "coalesce": Signature(1, MAX_ARGS),
    "if": Signature(3, 3),
    "upper": Signature(1, 1),
    "lower": Signature(1, 1),
    "trim": Signature(1, 1),
    "substr": Signature(2, 3),
    "replace": Signature(3, 3),
    "extract": Signature(2, 3),
    "len": Signature(1, 1),
    "concat": Signature(1, MAX_ARGS),
    "text": Signature(1, 2),
    "date": Signature(1, 9),
    "number": Signature(1, 3, ("decimal", "thousands")),
}

KEYWORDS = {"and", "or", "not", "in", "is", "empty", "true", "false", "null"}


_SHORT = (0, 40)  # numbers, dates and true/false written as text are short


def text_growth(node: Node) -> tuple[int, int]:
    """A static bound on the length of the node's value as text: ``k * M + c`` characters,
    where M is the longest input cell. Checked so that no expression can blow a chunk up
    (``x & x & x ...``, or a long replacement for every character)."""
    if isinstance(node, Name):
        return 1, 0
    if isinstance(node, TextLit):
        return 0, len(node.value)
    if isinstance(node, Binary) and node.op == "&":
        (a, b), (c, d) = text_growth(node.left), text_growth(node.right)
        return a + c, b + d
    if not isinstance(node, Call):
        return _SHORT
    args = [text_growth(a) for a in node.args]
    if node.name == "concat":
        return sum(k for k, _ in args), sum(c for _, c in args)
    if node.name in ("trim", "substr", "extract"):
        return args[0]
    if node.name in ("upper", "lower"):  # case mapping can lengthen a character up to 3 times
        return 3 * args[0][0], 3 * args[0][1]
    if node.name in ("if", "coalesce", "min", "max"):
        pick = args[1:] if node.name == "if" else args
        return max(k for k, _ in pick), max(c for _, c in pick)
    if node.name == "replace":
        repl = node.args[2]
        per = (len(repl.value) + 1) if isinstance(repl, TextLit) else 1
        return args[0][0] * per, args[0][1] * per
    if node.name == "text" and len(node.args) > 1 and isinstance(node.args[1], TextLit):
        return 0, len(node.args[1].value) + 40
    if node.name == "text":
        return args[0] if args[0] != (0, 0) else _SHORT
    return _SHORT


def too_deep(root: Node) -> Node | None:
    """The first node below the depth limit, if any (iterative: no recursion limit)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        stack += [(child, depth + 1) for child in _children(node)]
    return None


def _children(n: Node) -> list[Node]:
    if isinstance(n, Unary | IsEmpty):
        return [n.operand]
    if isinstance(n, Binary):
        return [n.left, n.right]
    if isinstance(n, InList):
        return [n.operand, *n.items]
    if isinstance(n, Call):
        return [*n.args, *(v for _, v in n.kwargs)]
    return []


def walk(node: Node) -> list[Node]:
    """Every node of a tree, parents before children (iterative: no recursion limit)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack += reversed(_children(n))
    return out
