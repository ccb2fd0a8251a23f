"""Readable JSON objects for schemas that leave the keys open (JSON mode without a schema).

``{"type": "object"}`` (and object schemas without ``properties`` whose
``additionalProperties`` is not ``false``) would be satisfied by ``{}``; a model in JSON
mode writes a small object instead. The keys come from the prompt when it names them
(quoted words such as ``'setup'`` and ``"punchline"``, "keys X and Y", "with fields X,
Y"), otherwise ``answer`` and ``topic``; string values are built from the prompt.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import vocabulary as vocab
from ._text import quoted_strings_in, stable_hash
from .hints import HintPool
from .phrases import noun_phrase, prepositional_phrases
from .replies import topic_words
from .schema_instance import generate_instance
from .schema_strings import name_parts, string_value
from .schema_validation import is_valid
from .vocabulary import word_list

MAX_KEYS = 8
_SHORT_PHRASE_WORDS = 4
_OPEN_OBJECT_KEYWORDS = frozenset(
    word_list(
        """type properties additionalProperties required minProperties maxProperties title
    description $schema $id $comment default"""
    )
)
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][\w-]{0,39}")
_KEY_WORDS_RE = re.compile(
    r"\b(?:keys?|fields?|properties|property|attributes?|members?|entries)\b", re.IGNORECASE
)
_ITEM_RE = re.compile(
    r"\s*(?:(?:,|&|\band\b|\bor\b)\s*)*(?:(?:the|a|an)\s+)?[`'\"]?(\w[\w-]*)[`'\"]?"
)
_AFTER_TRIGGER_RE = re.compile(r"\s*(?:(?:called|named|like|such as)\b|:)?")
_BEFORE_TRIGGER_RE = re.compile(
    r"\b(?:with|containing|having|including|has|have|use|using)\s+(?:(?:the|a|an)\s+)?"
    r"((?:[`'\"]?\w[\w-]*[`'\"]?(?:\s*,\s*|\s*&\s*|\s+and\s+|\s+or\s+)?)+?)\s*$",
    re.IGNORECASE,
)
_NOT_KEYS = frozenset(
    word_list(
        """for of in to with that which the a an like such as is are be and or each every
    all some json object format following these those its their named called"""
    )
)
_KEY_CONTEXT = frozenset(word_list("json key keys field fields property properties object"))
_STRING_KEYS: dict[str, str] = {
    "setup": "Why did the {single} bring {a_noun} to the {place}?",
    "punchline": "Because it wanted to see the {adjective} side of {topic}!",
    "joke": "Why did the {single} bring {a_noun} to the {place}? To see the {adjective} side!",
    "question": "What makes {topic} so {adjective}?",
    "answer": "In short, {topic} comes down to {a_adjective} {noun} and a few simple ideas.",
    "summary": "A {adjective} overview of {topic} and why it matters.",
    "explanation": "Think of {topic} as {a_adjective} {noun}: simple parts that fit together.",
    "reason": "Because {topic} is {adjective} and worth a closer look.",
    "description": "{A_adjective} description of {topic}.",
}
_NUMERIC_KEYS: dict[str, tuple[int, int] | tuple[float, float]] = {
    "age": (18, 70),
    "year": (1990, 2024),
    "count": (1, 12),
    "quantity": (1, 12),
    "total": (1, 100),
    "score": (1, 10),
    "rating": (1, 5),
    "confidence": (0.6, 0.99),
    "probability": (0.1, 0.9),
}
_LABEL_KEYS = frozenset(word_list("topic subject keyword keywords category tag theme"))
_TYPED_KEYS = frozenset(
    word_list(
        """name city location country place date email url uri link title color colour
    language author person user id status website address street"""
    )
)


def is_open_object(schema: Any) -> bool:
    """Tell whether ``schema`` is an object schema that leaves its keys open."""
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return False
    if any(key not in _OPEN_OBJECT_KEYWORDS for key in schema):
        return False
    properties = schema.get("properties")
    if properties is not None and (not isinstance(properties, Mapping) or properties):
        return False
    return schema.get("additionalProperties", True) is not False


def requested_keys(text: str) -> list[str]:
    """Return the JSON keys that ``text`` asks for, in order (at most :data:`MAX_KEYS`)."""
    keys: list[str] = []
    for match in _KEY_WORDS_RE.finditer(text):
        keys += _listed_after(text, match.end())
        keys += _listed_before(text[: match.start()])
    mentions_keys = bool(_KEY_CONTEXT & {word.lower() for word in re.findall(r"\w+", text)})
    for quoted in [*quoted_strings_in(text), *re.findall(r"`([^`\n]+)`", text)]:
        identifier = _IDENTIFIER_RE.fullmatch(quoted.strip())
        if identifier and (mentions_keys or quoted[:1].islower() or "_" in quoted):
            keys.append(quoted.strip())
    unique = [key for key in dict.fromkeys(keys) if key.lower() not in _NOT_KEYS]
    return unique[:MAX_KEYS]


def _listed_after(text: str, position: int) -> list[str]:
    position = _AFTER_TRIGGER_RE.match(text, position).end()  # type: ignore[union-attr]
    items: list[str] = []
    while True:
        match = _ITEM_RE.match(text, position)
        if match is None or match.group(1).lower() in _NOT_KEYS:
            break
        separated = not items or re.search(r",|&|\band\b|\bor\b", match.group(0)) is not None
        if not separated:
            break
        items.append(match.group(1))
        position = match.end()
    return items


def _listed_before(text: str) -> list[str]:
    match = _BEFORE_TRIGGER_RE.search(text)
    if match is None:
        return []
    items = re.findall(r"\w[\w-]*", match.group(1))
    return [item for item in items if item.lower() not in ("and", "or")]


def open_object_instance(
    schema: Mapping[str, Any],
    user_text: str,
    instructions: str,
    *,
    seed: int,
    hints: Sequence[str],
) -> dict[str, Any] | None:
    """Return a small readable object for an open object ``schema``, or ``None``.

    Keys come from ``user_text`` or, failing that, ``instructions`` (system prompts);
    ``None`` means no such object validates (the caller then generates one itself).
    """
    keys = requested_keys(user_text) or requested_keys(instructions) or ["answer", "topic"]
    required = [str(key) for key in schema.get("required", ())]
    keys = list(dict.fromkeys([*required, *keys]))
    low = int(schema.get("minProperties", 0))
    high = schema.get("maxProperties")
    for extra_key in ("answer", "topic", "details", "notes", "source", "example", "summary"):
        if len(keys) >= low:
            break
        if extra_key not in keys:
            keys.append(extra_key)
    if high is not None:
        keys = keys[: max(int(high), len(required))]
    extra = schema.get("additionalProperties", True)
    rng = random.Random(seed)
    ignored = {key.lower() for key in keys} | _KEY_CONTEXT
    hints = [hint for hint in hints if hint.lower() not in ignored]
    pool = HintPool(hints)
    topic = _topic(user_text, ignored)
    result: dict[str, Any] = {}
    for index, key in enumerate(keys):
        value = _value_for(key, topic, rng, pool)
        if not is_valid(value, extra, schema):
            value = generate_instance(extra, seed=stable_hash(seed, index), hints=hints)
        result[key] = value
    return result if is_valid(result, schema, schema) else None


def _topic(text: str, ignored: set[str]) -> str:
    heads = frozenset({"about", "on", "regarding", "concerning", "for"})
    for phrase in prepositional_phrases(text, heads=heads):
        if phrase.lower() not in ignored and phrase.lower().split()[0] not in ignored:
            return phrase
    noun = noun_phrase(text)
    if noun is not None and len(noun.split()) <= _SHORT_PHRASE_WORDS:
        return noun
    ignored = ignored | {"respond", "return", "reply", "output"}
    words = [word for word in topic_words(text) if word.lower() not in ignored]
    return words[0] if words else "the question"


def _value_for(key: str, topic: str, rng: random.Random, hints: HintPool) -> Any:
    for part in name_parts(key):
        if part in _NUMERIC_KEYS:
            low, high = _NUMERIC_KEYS[part]
            if isinstance(low, int) and isinstance(high, int):
                return rng.randint(low, high)
            return round(rng.uniform(low, high), 2)
    return _string_for(key, topic, rng, hints)


def _string_for(key: str, topic: str, rng: random.Random, hints: HintPool) -> str:
    parts = name_parts(key)
    if set(parts) & _LABEL_KEYS:
        return topic
    if set(parts) & _TYPED_KEYS:
        return string_value({"type": "string"}, rng, hints, (key,))
    template = next((_STRING_KEYS[part] for part in parts if part in _STRING_KEYS), None)
    adjective = rng.choice(vocab.ADJECTIVES)
    article = "an" if adjective[:1] in "aeiou" else "a"
    if template is None:
        words = " ".join(parts) or "detail"
        template = rng.choice(
            (
                "{A_adjective} " + words + " about {topic}.",
                "The " + words + " of {topic}, kept {adjective} and clear.",
                "{Topic}: {a_adjective} " + words + ".",
            )
        )
    last = topic.split()[-1] if topic.split() else "idea"
    noun = rng.choice(vocab.NOUNS)
    text = template.format(
        topic=topic,
        Topic=topic[:1].upper() + topic[1:],
        single=_singular(last.lower() if not last[:1].isupper() else last),
        noun=noun,
        a_noun=f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}",
        place=rng.choice(("party", "library", "meeting", "beach", "museum")),
        adjective=adjective,
        a_adjective=f"{article} {adjective}",
        A_adjective=f"{article.capitalize()} {adjective}",
    )
    return text[:1].upper() + text[1:]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word
