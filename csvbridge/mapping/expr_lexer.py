"""The tokenizer of mapping expressions: text to tokens, refusing anything outside the
language with a position and a hint (no exponents, no attribute access, no power operator)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .expr_ast import KEYWORDS, MAX_DIGITS, ExpressionError

COMPARE = {"=", "!=", "<", "<=", ">", ">=", "~"}
_ALIASES = {"−": "-", "×": "*", "÷": "/", "≠": "!=", "≤": "<=", "≥": ">=", "==": "=", "<>": "!="}
_SINGLE = set("+-*/&=<>~()[],")
_CURLY = "“”‘’„«»"


# -- tokens ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # num str date name qname op kw end
    text: str  # operator/keyword spelling, name, or decoded text
    start: int
    end: int
    number: tuple[int, int] = (0, 0)  # a number's (coefficient, scale)
    days: int = 0  # a date literal's days since 1970-01-01


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _name_start(c: str) -> bool:
    return c == "_" or c.isalpha()


def _name_char(c: str) -> bool:
    return c == "_" or c.isalnum()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out: list[Token] = []

    def fail(self, reason: str, start: int, end: int | None = None, hint: str = "") -> None:
        raise ExpressionError(reason, self.text, start, end, hint)

    def run(self) -> list[Token]:
        t = self.text
        while self.i < len(t):
            c = t[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif _is_digit(c) or (c == "." and self.i + 1 < len(t) and _is_digit(t[self.i + 1])):
                self.number()
            elif _name_start(c):
                self.word()
            elif c == "`":
                self.backtick()
            elif c in "'\"":
                s = self.i
                value = self.quoted(c)
                self.out.append(Token("str", value, s, self.i))
            else:
                self.operator(c)
        self.out.append(Token("end", "", len(t), len(t)))
        return self.out

    def number(self) -> None:
        t, s = self.text, self.i
        j = s
        while j < len(t) and _is_digit(t[j]):
            j += 1
        whole = t[s:j]
        frac = ""
        if j < len(t) and t[j] == ".":
            k = j + 1
            while k < len(t) and _is_digit(t[k]):
                k += 1
            frac = t[j + 1 : k]
            if not frac:
                self.fail("a number cannot end with '.'", s, k, hint="write 12 or 12.0")
            j = k
        if j < len(t) and (t[j] == "." or _name_char(t[j])):
            k = j
            while k < len(t) and (t[k] == "." or _name_char(t[k])):
                k += 1
            self.fail(
                f"'{t[s:k]}' is not a number: numbers are digits with at most one '.' "
                "(no exponents like 1e5, no letters, no thousands separators)",
                s,
                k,
            )
        if len((whole + frac).lstrip("0")) > MAX_DIGITS:
            self.fail(f"a number may have at most {MAX_DIGITS} digits", s, j)
        if len(frac) > MAX_DIGITS:
            self.fail(f"a number may have at most {MAX_DIGITS} decimal places", s, j)
        coef = int((whole + frac).lstrip("0") or "0")
        self.out.append(Token("num", t[s:j], s, j, number=(coef, len(frac))))
        self.i = j

    def word(self) -> None:
        t, s = self.text, self.i
        j = s
        while j < len(t) and _name_char(t[j]):
            j += 1
        word = t[s:j]
        low = word.lower()
        if low == "date" and j < len(t) and t[j] in "'\"":
            self.i = j
            raw = self.quoted(t[j])
            self.out.append(Token("date", raw, s, self.i, days=self._date(raw, s)))
            return
        if j < len(t) and t[j] == ".":
            self.fail(
                f"'.' cannot follow the name '{word}': there is no attribute access",
                j,
                hint=f"a column name with dots or spaces goes in backticks: `{word}.…`",
            )
        self.i = j
        if low in KEYWORDS:
            self.out.append(Token("kw", low, s, j))
        else:
            self.out.append(Token("name", word, s, j))

    def _date(self, raw: str, start: int) -> int:
        parts = raw.split("-")
        bad = len(parts) != 3 or [len(p) for p in parts] != [4, 2, 2]
        if bad or not all(p.isascii() and p.isdigit() for p in parts):
            self.fail(f"date'{raw}' must be written date'YYYY-MM-DD'", start, self.i)
        try:
            day = _dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            self.fail(f"date'{raw}' is not a real calendar date", start, self.i)
        return (day - _dt.date(1970, 1, 1)).days

    def backtick(self) -> None:
        t, s = self.text, self.i
        j = s + 1
        chars: list[str] = []
        while True:
            if j >= len(t) or t[j] in "\r\n":
                self.fail("this column name has no closing backtick `", s, j)
            if t[j] == "`":
                if j + 1 < len(t) and t[j + 1] == "`":
                    chars.append("`")
                    j += 2
                    continue
                break
            chars.append(t[j])
            j += 1
        name = "".join(chars)
        if not name.strip():
            self.fail("a column name in backticks cannot be empty", s, j + 1)
        self.out.append(Token("qname", name, s, j + 1))
        self.i = j + 1

    def quoted(self, q: str) -> str:
        t, s = self.text, self.i
        j = s + 1
        chars: list[str] = []
        while True:
            if j >= len(t):
                self.fail(
                    f"this text has no closing quote {q}",
                    s,
                    hint=f"to put a {q} inside the text, write it twice: {q}{q}",
                )
            if t[j] == q:
                if j + 1 < len(t) and t[j + 1] == q:
                    chars.append(q)
                    j += 2
                    continue
                break
            chars.append(t[j])
            j += 1
        self.i = j + 1
        return "".join(chars)

    def operator(self, c: str) -> None:
        t, s = self.text, self.i
        two = t[s : s + 2]
        if two in ("**",) or c == "^":
            self.fail(
                "there is no power operator; multiply instead (x * x)", s, s + len(two.strip())
            )
        if two in ("<=", ">=", "!=", "<>", "=="):
            self.out.append(Token("op", _ALIASES.get(two, two), s, s + 2))
            self.i = s + 2
            return
        if c in _ALIASES:
            c = _ALIASES[c]
        if c in _SINGLE or c in ("!=", "<=", ">="):
            self.out.append(Token("op", c, s, s + 1))
            self.i = s + 1
            return
        hints = {
            ".": "there is no attribute access; a column name with a dot goes in backticks",
            "!": "write 'not', or != for 'is not equal to'",
            ":": "':' is not part of expressions",
            ";": "an expression is a single formula; there are no statements",
            "{": "braces belong to templates; in an expression write the column name, or "
            "`Column Name` in backticks",
            "}": "braces belong to templates",
            "|": "write 'or'",
            "%": "there is no % operator; divide by 100",
            "\\": "a backslash belongs inside 'text' (for example in a regular expression)",
        }
        if c in _CURLY:
            self.fail(f"curly quote {c} is not a text quote", s, hint="use straight quotes ' or \"")
        shown = c if c.isprintable() else f"U+{ord(c):04X}"
        self.fail(f"unexpected character '{shown}'", s, hint=hints.get(c, ""))


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; ExpressionError on anything outside the language."""
    return _Lexer(text).run()
