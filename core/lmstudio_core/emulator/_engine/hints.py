"""Words and numbers taken from a user prompt, offered to the value generators."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from ._text import STOPWORDS, is_proper_noun, words_of

_TOPIC_MARKERS = frozenset({"about", "on", "regarding", "of", "for", "concerning"})
_ARTICLES = frozenset({"a", "an", "the", "some", "my", "your", "our", "their", "his", "her"})


class HintPool:
    """Hints split by kind: keywords, proper nouns, phrases and numbers.

    Multi-word names among the phrases ("New York City") count as proper nouns and come
    before the single capitalised words.

    Numbers are handed out in prompt order (each at most once; a number that does not fit a
    field stays available for the next), so the numbers of a prompt such as "What is 3 plus
    5?" fill numeric fields in the order they were written.
    """

    __slots__ = (
        "_next_noun",
        "_used_numbers",
        "keywords",
        "numbers",
        "phrases",
        "proper_nouns",
        "topics",
    )

    def __init__(self, hints: Sequence[str]) -> None:
        """Classify ``hints`` (single words or multi-word strings from a prompt)."""
        self.keywords: list[str] = []
        self.proper_nouns: list[str] = []
        self.phrases: list[str] = []
        self.numbers: list[int | float] = []
        self.topics: list[str] = []
        self._used_numbers: set[int] = set()
        self._next_noun = 0
        seen: set[str] = set()
        after_marker = False
        for position, hint in enumerate(hints):
            added = self._add(hint.strip(), position, seen)
            if after_marker and added is not None and added in self.keywords:
                self.topics.append(added)
            if added is not None or hint.lower() not in _ARTICLES:
                after_marker = hint.lower() in _TOPIC_MARKERS
        self._promote_names()

    def _promote_names(self) -> None:
        """Put multi-word names ("San Francisco") before the proper nouns they contain."""
        names = [phrase for phrase in self.phrases if _is_name(phrase)]
        if not names:
            return
        inside = {word for name in names for word in words_of(name)}
        self.proper_nouns = [*names, *(noun for noun in self.proper_nouns if noun not in inside)]

    def _add(self, hint: str, position: int, seen: set[str]) -> str | None:
        number = _as_number(hint)
        if number is not None:
            self.numbers.append(number)
            return None
        if not hint or hint.lower() in seen:
            return None
        seen.add(hint.lower())
        if len(words_of(hint)) > 1:
            self.phrases.append(hint)
            return hint
        if len(hint) < 3 or hint.lower() in STOPWORDS or not hint.isalpha():
            return None
        if is_proper_noun(hint, position):
            self.proper_nouns.append(hint)
            return hint
        self.keywords.append(hint.lower())
        return hint.lower()

    def take_number(self, accepts: Callable[[int | float], bool]) -> int | float | None:
        """Return (and use up) the first unused number that ``accepts`` approves, if any."""
        for index, number in enumerate(self.numbers):
            if index not in self._used_numbers and accepts(number):
                self._used_numbers.add(index)
                return number
        return None

    def proper_noun(self) -> str | None:
        """Return the proper nouns of the prompt in turn (cycling), or ``None`` if none."""
        if not self.proper_nouns:
            return None
        noun = self.proper_nouns[self._next_noun % len(self.proper_nouns)]
        self._next_noun += 1
        return noun

    def keyword(self, rng: random.Random) -> str | None:
        """Return a keyword (or a proper noun when there is no keyword), if there is one."""
        pool = self.keywords or self.proper_nouns
        return rng.choice(pool) if pool else None

    def topic_words(self, count: int) -> list[str]:
        """Return up to ``count`` words that describe the prompt's topic, best first.

        Words after "about", "on", "of", ... come first, then other keywords in prompt order.
        """
        others = [word for word in self.keywords if word not in self.topics]
        return [*self.topics, *others][:count]


def _is_name(phrase: str) -> bool:
    words = words_of(phrase)
    return len(words) > 1 and all(word[:1].isupper() or word.isdigit() for word in words)


def _as_number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
