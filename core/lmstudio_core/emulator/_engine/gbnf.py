"""A GBNF (llama.cpp grammar format) parser and a deterministic sampler.

Supported: rules ``name ::= alternatives`` (a rule may span several lines; the next rule
starts at ``name ::=``), string literals with escapes (``\\n \\r \\t \\\\ \\" \\xHH \\uHHHH
\\UHHHHHHHH``), character classes (``[a-z0-9]``, ``[^"\\\\]``), ``.`` (any character), grouping,
alternation ``|``, repetition ``* + ?`` and ``{m}``, ``{m,}``, ``{m,n}``, ``{,n}``, rule
references and ``#`` comments. Not supported: token-level constructs such as ``<[1000]>`` and
``!`` negations introduced by newer llama.cpp versions.
"""

from __future__ import annotations

from typing import NoReturn

from .charset import CharSet
from .grammar import (
    CharClass,
    Choice,
    Concat,
    GrammarSampler,
    Literal,
    Node,
    Repeat,
    RuleRef,
)

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "[": "[", "]": "]"}
_HEX_ESCAPE_LENGTHS = {"x": 2, "u": 4, "U": 8}
_ANY_CHAR = CharSet((), negated=True)


def parse_gbnf(grammar: str) -> dict[str, Node]:
    """Parse a GBNF grammar into its rules.

    Args:
        grammar: The grammar text.

    Returns:
        The rules by name, in definition order.

    Raises:
        ValueError: ``"invalid GBNF grammar: ..."`` when the text cannot be parsed, a rule is
            defined twice or a referenced rule is missing.
    """
    rules = _GbnfReader(grammar).read_rules()
    for body in rules.values():
        for name in _referenced_names(body):
            if name not in rules:
                raise ValueError(f"invalid GBNF grammar: undefined rule {name!r}")
    return rules


def generate_from_gbnf(grammar: str, *, seed: int) -> str:
    """Produce one string of the language of ``grammar``, starting from its ``root`` rule.

    The walk is random but seeded (same grammar and seed, same output) and bounded: it
    prefers terminating alternatives as depth and length grow.

    Args:
        grammar: A GBNF grammar with a ``root`` rule.
        seed: Seed of the walk.

    Returns:
        A string matched by the grammar.

    Raises:
        ValueError: ``"invalid GBNF grammar: ..."`` when the grammar cannot be parsed, has no
            ``root`` rule, or its ``root`` rule derives no finite string.
    """
    rules = parse_gbnf(grammar)
    if "root" not in rules:
        raise ValueError("invalid GBNF grammar: no 'root' rule")
    sampler = GrammarSampler(rules, seed=seed)
    if not sampler.can_terminate(rules["root"]):
        raise ValueError("invalid GBNF grammar: rule 'root' derives no finite string")
    return sampler.sample(RuleRef("root"))


def _referenced_names(node: Node) -> list[str]:
    if isinstance(node, RuleRef):
        return [node.name]
    if isinstance(node, Concat):
        return [name for item in node.items for name in _referenced_names(item)]
    if isinstance(node, Choice):
        return [name for option in node.options for name in _referenced_names(option)]
    if isinstance(node, Repeat):
        return _referenced_names(node.item)
    return []


class _GbnfReader:
    """Recursive-descent reader over the grammar text."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def read_rules(self) -> dict[str, Node]:
        rules: dict[str, Node] = {}
        self._skip_space()
        while self.pos < len(self.text):
            name = self._read_name()
            if not name:
                self._fail("expected a rule name")
            self._skip_space()
            if not self.text.startswith("::=", self.pos):
                self._fail(f"expected '::=' after rule name {name!r}")
            self.pos += 3
            if name in rules:
                self._fail(f"rule {name!r} is defined twice")
            rules[name] = self._read_alternatives()
            self._skip_space()
        return rules

    def _fail(self, message: str) -> NoReturn:
        line = self.text.count("\n", 0, self.pos) + 1
        column = self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1
        raise ValueError(f"invalid GBNF grammar: {message} at line {line}, column {column}")

    def _skip_space(self) -> None:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def _read_name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def _at_rule_start(self) -> bool:
        saved = self.pos
        name = self._read_name()
        self._skip_space()
        found = bool(name) and self.text.startswith("::=", self.pos)
        self.pos = saved
        return found

    def _read_alternatives(self) -> Node:
        options = [self._read_sequence()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self._read_sequence())
        return options[0] if len(options) == 1 else Choice(tuple(options))

    def _read_sequence(self) -> Node:
        items: list[Node] = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text) or self.text[self.pos] in "|)":
                break
            if self._at_rule_start():
                break
            items.append(self._read_quantified(self._read_primary()))
        if len(items) == 1:
            return items[0]
        return Concat(tuple(items)) if items else Literal("")

    def _read_primary(self) -> Node:
        char = self.text[self.pos]
        if char == '"':
            return Literal(self._read_literal())
        if char == "[":
            return CharClass(self._read_class())
        if char == ".":
            self.pos += 1
            return CharClass(_ANY_CHAR)
        if char == "(":
            self.pos += 1
            inner = self._read_alternatives()
            self._skip_space()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                self._fail("expected ')'")
            self.pos += 1
            return inner
        name = self._read_name()
        if not name:
            self._fail(f"unexpected character {char!r}")
        return RuleRef(name)

    def _read_quantified(self, item: Node) -> Node:
        while True:
            saved = self.pos
            self._skip_space()
            char = self.text[self.pos] if self.pos < len(self.text) else ""
            if char in ("*", "+", "?") and char:
                self.pos += 1
                minimum, maximum = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
                item = Repeat(item, minimum, maximum)
            elif char == "{":
                item = Repeat(item, *self._read_braces())
            else:
                self.pos = saved
                return item

    def _read_braces(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.pos)
        if end < 0:
            self._fail("unterminated '{'")
        body = self.text[self.pos + 1 : end].replace(" ", "")
        low, comma, high = body.partition(",")
        if not (low.isdigit() or (comma and not low)) or (high and not high.isdigit()):
            self._fail(f"invalid repetition {{{body}}}")
        self.pos = end + 1
        minimum = int(low) if low else 0
        maximum = (int(high) if high else None) if comma else minimum
        if maximum is not None and maximum < minimum:
            self._fail(f"invalid repetition {{{body}}}")
        return minimum, maximum

    def _read_literal(self) -> str:
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != '"':
            if self.text[self.pos] == "\n":
                self._fail("unterminated string literal")
            chars.append(self._read_char())
        if self.pos >= len(self.text):
            self._fail("unterminated string literal")
        self.pos += 1
        return "".join(chars)

    def _read_class(self) -> CharSet:
        self.pos += 1
        negated = self.pos < len(self.text) and self.text[self.pos] == "^"
        self.pos += int(negated)
        ranges: list[tuple[int, int]] = []
        while self.pos < len(self.text) and self.text[self.pos] != "]":
            first = self._read_char()
            last = first
            if self.text.startswith("-", self.pos) and not self.text.startswith("-]", self.pos):
                self.pos += 1
                last = self._read_char()
            if ord(last) < ord(first):
                self._fail(f"invalid range {first!r}-{last!r}")
            ranges.append((ord(first), ord(last)))
        if self.pos >= len(self.text):
            self._fail("unterminated character class")
        self.pos += 1
        return CharSet(tuple(ranges), negated)

    def _read_char(self) -> str:
        if self.pos >= len(self.text):
            self._fail("unexpected end of grammar")
        char = self.text[self.pos]
        self.pos += 1
        if char != "\\":
            return char
        if self.pos >= len(self.text):
            self._fail("unexpected end of grammar after '\\'")
        code = self.text[self.pos]
        self.pos += 1
        if code in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[code]
        if code in _HEX_ESCAPE_LENGTHS:
            digits = self.text[self.pos : self.pos + _HEX_ESCAPE_LENGTHS[code]]
            if (
                len(digits) != _HEX_ESCAPE_LENGTHS[code]
                or not _is_hex(digits)
                or int(digits, 16) > 0x10FFFF
            ):
                self._fail(f"invalid escape '\\{code}{digits}'")
            self.pos += len(digits)
            return chr(int(digits, 16))
        return code


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdefABCDEF" for char in text)
