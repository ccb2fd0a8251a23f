"""Strings matching simple regular expressions (the ``pattern`` keyword of JSON Schema).

Supported: literals and escaped literals, ``.``, classes (``[a-z]``, ``[^,]``, with ``\\d \\w
\\s`` inside), ``\\d \\D \\w \\W \\s \\S``, groups ``( )``, ``(?: )`` and named groups,
alternation, quantifiers ``? * + {n} {n,} {n,m}`` (lazy/possessive suffixes ignored) and the
anchors ``^ $ \\b \\B`` (treated as empty). Not supported: back-references, lookarounds,
inline flags and Unicode property classes; :func:`sample_pattern` returns ``None`` for those.
"""

from __future__ import annotations

import re
from typing import NoReturn

from .charset import ANY_BUT_NEWLINE, DIGITS, SPACE_CHARS, WORD_CHARS, CharSet, negate, union
from .grammar import CharClass, Choice, Concat, GrammarSampler, Literal, Node, Repeat

_CLASS_ESCAPES = {"d": DIGITS, "w": WORD_CHARS, "s": SPACE_CHARS}
_CHAR_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v", "0": "\0"}
_EMPTY_ESCAPES = frozenset("bBAzZ")
_ATTEMPTS = 8


class UnsupportedPatternError(ValueError):
    """The pattern uses a construct the sampler does not implement."""


def sample_pattern(pattern: str, *, seed: int) -> str | None:
    """Return a string that ``re.search(pattern, ...)`` accepts, or ``None`` if not found.

    Args:
        pattern: A regular expression in the common ECMA-262 / Python subset.
        seed: Seed of the sampler.
    """
    try:
        node = _PatternReader(pattern).read()
        compiled = re.compile(pattern)
    except (UnsupportedPatternError, re.error):
        return None
    for attempt in range(_ATTEMPTS):
        candidate = GrammarSampler({}, seed=seed + attempt, length_limit=80).sample(node)
        if compiled.search(candidate):
            return candidate
    return None


class _PatternReader:
    __slots__ = ("pattern", "pos")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def read(self) -> Node:
        node = self._alternatives()
        if self.pos != len(self.pattern):
            self._unsupported("unbalanced ')'")
        return node

    def _unsupported(self, what: str) -> NoReturn:
        raise UnsupportedPatternError(f"unsupported pattern {self.pattern!r}: {what}")

    def _peek(self) -> str:
        return self.pattern[self.pos] if self.pos < len(self.pattern) else ""

    def _alternatives(self) -> Node:
        options = [self._sequence()]
        while self._peek() == "|":
            self.pos += 1
            options.append(self._sequence())
        return options[0] if len(options) == 1 else Choice(tuple(options))

    def _sequence(self) -> Node:
        items: list[Node] = []
        while self._peek() not in ("", "|", ")"):
            items.append(self._quantified(self._atom()))
        return Concat(tuple(items)) if len(items) != 1 else items[0]

    def _atom(self) -> Node:
        char = self._peek()
        self.pos += 1
        if char == "(":
            return self._group()
        if char == "[":
            return CharClass(self._class())
        if char == ".":
            return CharClass(ANY_BUT_NEWLINE)
        if char in "^$":
            return Literal("")
        if char == "\\":
            return self._escape()
        if char in "*+?":
            self._unsupported("nothing to repeat")
        return Literal(char)

    def _group(self) -> Node:
        if self.pattern.startswith("?:", self.pos):
            self.pos += 2
        elif self.pattern.startswith(("?P<", "?<"), self.pos) and not self.pattern.startswith(
            ("?<=", "?<!"), self.pos
        ):
            self.pos = self.pattern.index(">", self.pos) + 1
        elif self._peek() == "?":
            self._unsupported("lookaround or inline flag")
        inner = self._alternatives()
        if self._peek() != ")":
            self._unsupported("missing ')'")
        self.pos += 1
        return inner

    def _escape(self) -> Node:
        code = self._peek()
        self.pos += 1
        if code in _CLASS_ESCAPES:
            return CharClass(_CLASS_ESCAPES[code])
        if code.lower() in _CLASS_ESCAPES:
            return CharClass(negate(_CLASS_ESCAPES[code.lower()]))
        if code in _EMPTY_ESCAPES:
            return Literal("")
        if (code.isdigit() and code != "0") or code in ("p", "P", "k", ""):
            self._unsupported(f"escape '\\{code}'")
        return Literal(self._escaped_char(code))

    def _escaped_char(self, code: str) -> str:
        if code in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[code]
        if code in ("x", "u"):
            length = 2 if code == "x" else 4
            digits = self.pattern[self.pos : self.pos + length]
            if len(digits) != length or any(c not in "0123456789abcdefABCDEF" for c in digits):
                self._unsupported(f"escape '\\{code}{digits}'")
            self.pos += length
            return chr(int(digits, 16))
        return code

    def _class(self) -> CharSet:
        negated = self._peek() == "^"
        self.pos += int(negated)
        parts: list[CharSet] = []
        while self._peek() != "]":
            if not self._peek():
                self._unsupported("unterminated class")
            parts.append(self._class_item())
        self.pos += 1
        merged = union(parts) if parts else CharSet(())
        return negate(merged) if negated else merged

    def _class_item(self) -> CharSet:
        char = self._peek()
        self.pos += 1
        if char == "\\":
            code = self._peek()
            self.pos += 1
            if code in _CLASS_ESCAPES:
                return _CLASS_ESCAPES[code]
            if code.lower() in _CLASS_ESCAPES:
                return negate(_CLASS_ESCAPES[code.lower()])
            char = "\b" if code == "b" else self._escaped_char(code)
        if self._peek() == "-" and self.pattern[self.pos + 1 : self.pos + 2] not in ("]", ""):
            self.pos += 1
            last = self._peek()
            self.pos += 1
            if last == "\\":
                last = self._escaped_char(self._peek())
                self.pos += 1
            if ord(last) < ord(char):
                self._unsupported("reversed range")
            return CharSet(((ord(char), ord(last)),))
        return CharSet(((ord(char), ord(char)),))

    def _quantified(self, item: Node) -> Node:
        while True:
            char = self._peek()
            if char in ("*", "+", "?") and char:
                self.pos += 1
                minimum, maximum = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
            elif char == "{" and (bounds := self._braces()) is not None:
                minimum, maximum = bounds
            else:
                return item
            if self._peek() in ("?", "+") and self._peek():
                self.pos += 1
            item = Repeat(item, minimum, maximum)

    def _braces(self) -> tuple[int, int | None] | None:
        match = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.pattern, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        minimum = int(match.group(1))
        if match.group(2) is None:
            return minimum, minimum
        return minimum, int(match.group(3)) if match.group(3) else None
