"""The Pratt parser of mapping expressions: tokens to a syntax tree. Nothing here evaluates
anything; no Python ``eval``/``exec``/``compile`` or ``ast`` is ever applied to the user's
text."""

from __future__ import annotations

from dataclasses import replace

from .expr_ast import (
    FUNCTIONS,
    LITERALS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_LIST,
    MAX_TEXT_GROWTH,
    Binary,
    BoolLit,
    Call,
    DateLit,
    ExpressionError,
    InList,
    IsEmpty,
    Name,
    Node,
    NullLit,
    NumberLit,
    TextLit,
    Unary,
    text_growth,
    too_deep,
)
from .expr_lexer import COMPARE, Token, tokenize

# -- parser ---------------------------------------------------------------------------------
# binding powers (left, right): higher binds tighter
_INFIX: dict[str, tuple[int, int]] = {
    "or": (1, 2),
    "and": (3, 4),
    **{op: (7, 8) for op in COMPARE},
    "in": (7, 8),
    "not": (7, 8),  # "not in"
    "is": (7, 8),
    "&": (9, 10),
    "+": (11, 12),
    "-": (11, 12),
    "*": (13, 14),
    "/": (13, 14),
}
_NOT_BP = 5  # `not a = b and c` is `(not (a = b)) and c`
_UNARY_BP = 15
_COMPARISON_BP = 7


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.toks = tokens
        self.pos = 0
        self.depth = 0

    # helpers
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def take(self) -> Token:
        tok = self.toks[self.pos]
        self.pos = min(self.pos + 1, len(self.toks) - 1)
        return tok

    def fail(self, reason: str, tok: Token, hint: str = "") -> ExpressionError:
        return ExpressionError(reason, self.text, tok.start, tok.end, hint)

    def is_op(self, tok: Token, *ops: str) -> bool:
        return tok.kind == "op" and tok.text in ops

    def expect(self, op: str, what: str) -> Token:
        tok = self.peek()
        if not self.is_op(tok, op):
            raise self.fail(f"expected {op!r} {what}, found {_describe(tok)}", tok)
        return self.take()

    # grammar
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("the expression is empty", self.text, 0)
        node = self.expr(0)
        tok = self.peek()
        if tok.kind != "end":
            raise self._unexpected(tok)
        return node

    def _unexpected(self, tok: Token) -> ExpressionError:
        if self.is_op(tok, "("):
            return self.fail(
                "'(' here would call something that is not a function",
                tok,
                hint="functions are called by name: round(x, 2); put an operator between values",
            )
        if self.is_op(tok, "["):
            return self.fail("a list [...] can only follow 'in' or 'not in'", tok)
        if tok.kind == "end":
            return self.fail("the expression ends too early", tok)
        return self.fail(
            f"expected an operator (+ - * / & = < > and or ...) or the end, found {_describe(tok)}",
            tok,
        )

    def expr(self, min_bp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested too deeply (over {MAX_DEPTH})", self.peek())
        left = self.prefix()
        compared = False
        while True:
            tok = self.peek()
            key = tok.text if tok.kind in ("op", "kw") else ""
            if key not in _INFIX:
                break
            lbp, rbp = _INFIX[key]
            if lbp < min_bp:
                break
            if lbp == _COMPARISON_BP:
                if compared:
                    raise self.fail(
                        "comparisons cannot be chained",
                        tok,
                        hint="join them with 'and': a < b and b < c",
                    )
                compared = True
            self.take()
            if key == "in" or key == "not":
                left = self.in_list(left, tok, negated=key == "not")
            elif key == "is":
                left = self.is_empty(left)
            else:
                right = self.expr(rbp)
                left = Binary(left.start, right.end, key, left, right)
        self.depth -= 1
        return left

    def in_list(self, left: Node, tok: Token, negated: bool) -> Node:
        if negated:
            nxt = self.peek()
            if not (nxt.kind == "kw" and nxt.text == "in"):
                raise self.fail("expected 'in' after 'not'", nxt, hint="write: x not in ['a', 'b']")
            self.take()
        self.expect("[", "to open the list of values after 'in'")
        items: list[Node] = []
        while True:
            tok = self.peek()
            if self.is_op(tok, "]") and not items:
                raise self.fail("the list is empty", tok)
            items.append(self.list_item())
            if len(items) > MAX_LIST:
                raise self.fail(f"a list may hold at most {MAX_LIST} values", tok)
            if self.is_op(self.peek(), ","):
                self.take()
                continue
            end = self.expect("]", "to close the list")
            return InList(left.start, end.end, left, tuple(items), negated)

    def list_item(self) -> Node:
        tok = self.peek()
        sign = 1
        if self.is_op(tok, "-", "+"):
            sign = -1 if tok.text == "-" else 1
            self.take()
            if self.peek().kind != "num":
                raise self.fail("expected a number after the sign", self.peek())
        item = self.prefix() if self.peek().kind in ("num", "str", "date", "kw") else None
        if item is None or not isinstance(item, LITERALS) or isinstance(item, NullLit):
            raise self.fail(
                "a list holds fixed values: numbers, 'text', date'YYYY-MM-DD', true or false",
                tok,
                hint="to test for an empty value use: x is empty",
            )
        if isinstance(item, NumberLit) and sign < 0:
            return NumberLit(tok.start, item.end, -item.coef, item.scale)
        return item

    def is_empty(self, left: Node) -> Node:
        negated = False
        tok = self.peek()
        if tok.kind == "kw" and tok.text == "not":
            self.take()
            negated = True
            tok = self.peek()
        if not (tok.kind == "kw" and tok.text == "empty"):
            raise self.fail(
                "expected 'empty' after 'is'", tok, hint="write: x is empty, or x is not empty"
            )
        self.take()
        return IsEmpty(left.start, tok.end, left, negated)

    def prefix(self) -> Node:
        tok = self.take()
        k = tok.kind
        if k == "num":
            coef, scale = tok.number
            return NumberLit(tok.start, tok.end, coef, scale)
        if k == "str":
            return TextLit(tok.start, tok.end, tok.text)
        if k == "date":
            return DateLit(tok.start, tok.end, tok.days)
        if k == "qname":
            return Name(tok.start, tok.end, tok.text)
        if k == "name":
            if self.is_op(self.peek(), "("):
                return self.call(tok)
            return Name(tok.start, tok.end, tok.text)
        if k == "kw":
            if tok.text in ("true", "false"):
                return BoolLit(tok.start, tok.end, tok.text == "true")
            if tok.text == "null":
                return NullLit(tok.start, tok.end)
            if tok.text == "not":
                operand = self.expr(_NOT_BP)
                return Unary(tok.start, operand.end, "not", operand)
            raise self.fail(f"expected a value, found the word '{tok.text}'", tok)
        if k == "op":
            if tok.text in ("-", "+"):
                operand = self.expr(_UNARY_BP)
                if tok.text == "+":
                    return operand
                return Unary(tok.start, operand.end, "-", operand)
            if tok.text == "(":
                inner = self.expr(0)
                close = self.expect(")", "to close '('")
                return _reposition(inner, tok.start, close.end)
            if tok.text == "[":
                raise self.fail("a list [...] can only follow 'in' or 'not in'", tok)
        if k == "end":
            raise self.fail("the expression ends too early: a value is missing", tok)
        raise self.fail(f"expected a value, found {_describe(tok)}", tok)

    def call(self, name_tok: Token) -> Node:
        fname = name_tok.text.lower()
        sig = FUNCTIONS.get(fname)
        if sig is None:
            raise self.fail(
                f"unknown function '{name_tok.text}'",
                name_tok,
                hint="the functions are: " + ", ".join(sorted(FUNCTIONS)),
            )
        self.take()  # (
        args: list[Node] = []
        kwargs: list[tuple[str, Node]] = []
        if not self.is_op(self.peek(), ")"):
            while True:
                tok = self.peek()
                if (
                    tok.kind == "name"
                    and tok.text.lower() in sig.keywords
                    and self.is_op(self.peek(1), "=")
                ):
                    key = tok.text.lower()
                    if any(k == key for k, _ in kwargs):
                        raise self.fail(f"'{key}' is given twice", tok)
                    self.take()
                    self.take()
                    kwargs.append((key, self.expr(0)))
                else:
                    if kwargs:
                        raise self.fail("a plain argument cannot follow a named one", tok)
                    args.append(self.expr(0))
                if self.is_op(self.peek(), ","):
                    self.take()
                    continue
                break
        close = self.expect(")", f"to close {fname}(")
        if kwargs and not args:
            raise ExpressionError(
                f"{fname}() needs the value it works on first, before "
                + ", ".join(f"{k}=" for k, _ in kwargs),
                self.text,
                name_tok.start,
                close.end,
                hint=f"for example {fname}(amount, {kwargs[0][0]}=',')",
            )
        count = len(args) + len(kwargs)
        if len(args) > sig.max_args or count > sig.max_args or count < sig.min_args:
            want = (
                str(sig.min_args)
                if sig.min_args == sig.max_args
                else f"{sig.min_args} to {sig.max_args}"
            )
            raise ExpressionError(
                f"{fname}() takes {want} argument{'s' if want != '1' else ''}, not {count}",
                self.text,
                name_tok.start,
                close.end,
            )
        return Call(name_tok.start, close.end, fname, tuple(args), tuple(kwargs))


def _reposition(node: Node, start: int, end: int) -> Node:
    """A parenthesised node keeps its meaning; its span grows to cover the parentheses."""
    return replace(node, start=start, end=end)


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "the end of the expression"
    if tok.kind == "str":
        return "a text in quotes"
    if tok.kind == "num":
        return f"the number {tok.text}"
    if tok.kind in ("name", "qname"):
        return f"the name '{tok.text}'"
    return f"'{tok.text}'"


def parse_node(text: str) -> Node:
    """Parse an expression into its AST root; ExpressionError with a position on failure."""
    if not isinstance(text, str):
        raise TypeError("an expression is text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}",
            text[: MAX_LENGTH + 1],
            MAX_LENGTH,
            hint="split the work over several fields, or simplify the formula",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ExpressionError(
            f"unexpected character U+{ord(text[e.start]):04X}", text, e.start
        ) from None
    root = _Parser(text, tokenize(text)).parse()
    deep = too_deep(root)
    if deep is not None:
        raise ExpressionError(
            f"the expression has more than {MAX_DEPTH} levels of operations inside one another",
            text,
            deep.start,
            deep.end,
            hint="split the work over several fields, or simplify the formula",
        )
    factor, _ = text_growth(root)
    if factor > MAX_TEXT_GROWTH:
        raise ExpressionError(
            f"this expression could make text up to {factor} times as long as its input; "
            f"the limit is {MAX_TEXT_GROWTH}",
            text,
            root.start,
            root.end,
            hint="repeat values less often, or use a shorter replacement text",
        )
    return root
