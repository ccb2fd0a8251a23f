"""Character sets (as in ``[a-z0-9]`` or ``[^"]``) and readable sampling from them."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_READABLE = string.ascii_lowercase + string.ascii_uppercase + string.digits + " .,-_"
_FALLBACK_CODEPOINTS = range(0x21, 0x2FFF)


@dataclass(frozen=True, slots=True)
class CharSet:
    """A set of characters given by inclusive code point ranges, optionally negated.

    Attributes:
        ranges: Inclusive ``(first, last)`` code point ranges.
        negated: When true the set is every character *not* in ``ranges``.
    """

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False

    def contains(self, char: str) -> bool:
        """Tell whether the single character ``char`` belongs to the set."""
        code = ord(char)
        inside = any(first <= code <= last for first, last in self.ranges)
        return inside != self.negated

    def sample(self, rng: random.Random) -> str:
        """Pick a member, preferring readable ASCII characters.

        Raises:
            ValueError: If the set is empty.
        """
        readable = [char for char in _READABLE if self.contains(char)]
        if self.contains(" ") and rng.random() < 0.2:
            return " "
        if readable:
            letters = [char for char in readable if char.isalnum()]
            return rng.choice(letters or readable)
        if not self.negated:
            spans = [(first, last) for first, last in self.ranges if first <= last]
            if not spans:
                raise ValueError("empty character class")
            first, last = rng.choice(spans)
            return chr(rng.randint(first, min(last, first + 25)))
        for code in _FALLBACK_CODEPOINTS:
            if self.contains(chr(code)):
                return chr(code)
        raise ValueError("empty character class")


DIGITS = CharSet(((ord("0"), ord("9")),))
WORD_CHARS = CharSet(
    ((ord("a"), ord("z")), (ord("A"), ord("Z")), (ord("0"), ord("9")), (ord("_"), ord("_")))
)
SPACE_CHARS = CharSet(((ord(" "), ord(" ")), (ord("\t"), ord("\r"))))
ANY_BUT_NEWLINE = CharSet(((ord("\n"), ord("\n")),), negated=True)


def negate(charset: CharSet) -> CharSet:
    """Return the complement of ``charset``."""
    return CharSet(charset.ranges, not charset.negated)


def union(parts: list[CharSet]) -> CharSet:
    """Return the union of non-negated sets, or a single (possibly negated) set unchanged.

    Raises:
        ValueError: If a negated set is combined with others (not representable here).
    """
    if len(parts) == 1:
        return parts[0]
    if any(part.negated for part in parts):
        raise ValueError("cannot combine a negated class with other items")
    return CharSet(tuple(item for part in parts for item in part.ranges))
