"""Stable hashing and small text utilities shared by the engine modules."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .vocabulary import word_list

_WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED_RE = re.compile(
    r"(?<!\w)\"([^\"\n]+)\"(?!\w)|(?<!\w)'([^'\n]+)'(?!\w)|\u201c([^\u201d\n]+)\u201d"
)

STOPWORDS: frozenset[str] = frozenset(
    word_list(
        """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just let me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own please same she should so some such
    than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves tell give show get use using call make want
    know like need one two three four five six seven eight nine ten number numbers value
    values thing things something anything whats hey hello hi thanks thank ok okay yes
    write create generate describe explain list provide produce return find say answer
    short brief quick simple example sure reply respond
    """
    )
)


def stable_hash(*parts: object) -> int:
    """Return a 64-bit hash of ``parts`` that is identical across processes and runs.

    Args:
        *parts: JSON-serialisable values (anything else is rendered with ``repr``).

    Returns:
        A non-negative integer below 2**64.
    """
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=repr)
    digest = hashlib.blake2b(payload.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def words_of(text: str) -> list[str]:
    """Split ``text`` into words (letters and digits, inner apostrophes kept), in order."""
    return _WORD_RE.findall(text)


def significant_words(text: str) -> list[str]:
    """Return the words of ``text`` that carry meaning: no stopwords, no short or numeric words.

    Duplicates (case-insensitive) are dropped; the first spelling and the order are kept.
    """
    seen: set[str] = set()
    result: list[str] = []
    for word in words_of(text):
        lowered = word.lower().replace("\u2019", "'")
        base = lowered.split("'")[0]
        if len(base) < 3 or base in STOPWORDS or base.isdigit() or base in seen:
            continue
        seen.add(base)
        result.append(word.split("'")[0].split("\u2019")[0])
    return result


def numbers_in(text: str) -> list[int | float]:
    """Return the numbers written in ``text`` with digits, in order (``"2.5"`` -> 2.5)."""
    found: list[int | float] = []
    for match in _NUMBER_RE.finditer(text):
        literal = match.group(0)
        found.append(float(literal) if "." in literal else int(literal))
    return found


def quoted_strings_in(text: str) -> list[str]:
    """Return the strings quoted with ``"..."``, ``'...'`` or curly quotes in ``text``, in order."""
    found: list[str] = []
    for match in _QUOTED_RE.finditer(text):
        found.append(next(group for group in match.groups() if group is not None))
    return found


def stem(word: str) -> str:
    """Return a crude stem of a lowercase word (plural and verb endings removed)."""
    for suffix, minimum in (("ies", 5), ("ing", 6), ("es", 5), ("ed", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= minimum:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def is_proper_noun(word: str, position: int) -> bool:
    """Tell whether ``word`` looks like a proper noun (capitalised, not sentence-initial)."""
    return position > 0 and word[:1].isupper() and word.lower() not in STOPWORDS


def json_compact(value: Any) -> str:
    """Serialise ``value`` as readable one-line JSON (``", "`` and ``": "`` separators)."""
    return json.dumps(value, ensure_ascii=False)
