"""Readable string values for JSON Schema ``string`` types.

Strings follow ``format`` (date, date-time, time, email, uri, uuid, hostname, ipv4, ipv6,
duration), then ``pattern`` (readable candidates first, then a sampled match; see
:mod:`.regex_pattern` for the supported subset), then the property name and the prompt hints
(``"title"`` -> ``"The Silver Harbor"``, ``"city"`` -> a proper noun of the prompt, ...).
``minLength``/``maxLength`` are always honoured, even if that bends a format.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from . import vocabulary as vocab
from .hints import HintPool
from .regex_pattern import sample_pattern
from .schema_refs import SchemaError

_NAME_PART_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_PERSON = {"name", "author", "person", "user", "username", "owner", "character", "hero"}
_PERSON |= {"artist", "director", "customer", "contact", "firstname", "lastname", "fullname"}
_PLACE = {"city", "location", "place", "destination", "origin", "town", "where"}
_STREET = {"street", "address", "road"}
_LONG_TEXT = {"description", "summary", "text", "content", "body", "reason", "answer"}
_LONG_TEXT |= {"explanation", "message", "comment", "note", "notes", "plot", "bio", "review"}
_LONG_TEXT |= {"details", "instructions", "response", "story", "reasoning", "overview"}
_LONG_TEXT |= {"step", "instruction", "tip", "idea", "fact", "sentence", "point", "paragraph"}
_TITLE = {"title", "headline", "heading", "subject", "caption"}
_LABEL = {"category", "genre", "type", "kind", "topic", "tag", "keyword", "label", "word"}
_LABEL |= {"ingredient", "item", "skill", "hobby", "interest", "term"}
_PATTERN_ATTEMPTS = 3


def string_value(
    schema: Mapping[str, Any], rng: random.Random, hints: HintPool, path: tuple[str, ...]
) -> str:
    """Return a string for ``schema`` that honours its format, pattern and length limits.

    Args:
        schema: A string schema (``$ref``/combinators already resolved).
        rng: Source of randomness.
        hints: Prompt hints.
        path: Property names leading to the value (last item: the value's own name).

    Raises:
        SchemaError: If ``minLength`` exceeds ``maxLength``.
    """
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if high is not None and low > high:
        raise SchemaError("minLength is greater than maxLength")
    fmt = schema.get("format")
    pattern = schema.get("pattern")
    text = format_value(fmt, rng, hints, path) if isinstance(fmt, str) else None
    if text is None:
        text = name_value(rng, hints, path)
    if isinstance(pattern, str) and not _matches(pattern, text):
        text = _pattern_value(pattern, rng, hints, low, high) or text
    return fit_length(text, low, high, rng)


def fit_length(text: str, low: int, high: int | None, rng: random.Random) -> str:
    """Pad ``text`` with words up to ``low`` characters and cut it to ``high`` characters."""
    while len(text) < low:
        text = f"{text} {rng.choice(vocab.NOUNS)}" if text else rng.choice(vocab.NOUNS)
    if high is not None and len(text) > high:
        text = text[:high]
        if len(text.rstrip()) >= low:
            text = text.rstrip()
    return text


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _pattern_value(
    pattern: str, rng: random.Random, hints: HintPool, low: int, high: int | None
) -> str | None:
    candidates = [*hints.keywords, *hints.proper_nouns, *rng.sample(vocab.NOUNS, 4)]
    candidates += [word.capitalize() for word in candidates] + [word.upper() for word in candidates]
    for candidate in candidates:
        fits = low <= len(candidate) and (high is None or len(candidate) <= high)
        if fits and _matches(pattern, candidate):
            return candidate
    fallback: str | None = None
    for attempt in range(_PATTERN_ATTEMPTS):
        sampled = sample_pattern(pattern, seed=rng.randrange(2**32) + attempt)
        if sampled is None:
            break
        fallback = fallback or sampled
        if low <= len(sampled) and (high is None or len(sampled) <= high):
            return sampled
    return fallback


def name_parts(name: str) -> list[str]:
    """Split a property name such as ``"firstName"`` or ``"first_name"`` into lowercase words."""
    return [part.lower() for part in _NAME_PART_RE.findall(name)]


def format_value(
    fmt: str, rng: random.Random, hints: HintPool, path: tuple[str, ...]
) -> str | None:
    """Return a realistic value for a ``format``, or ``None`` for unknown formats."""
    maker = _FORMATS.get(fmt)
    return maker(rng, hints, path) if maker is not None else None


def _date(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    day = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(730))
    return day.isoformat()


def _time(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    return f"{rng.randrange(8, 20):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


def _date_time(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    return f"{_date(rng, hints, path)}T{_time(rng, hints, path)}"


def _email(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    person = _person(rng, hints).lower()
    local = ".".join(re.findall(r"[a-z0-9]+", person)) or "contact"
    return f"{local}@{rng.choice(vocab.DOMAINS)}"


def _uri(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    slug = (hints.keyword(rng) or rng.choice(vocab.NOUNS)).lower()
    return f"https://www.{rng.choice(vocab.DOMAINS)}/{re.sub(r'[^a-z0-9]+', '-', slug)}"


def _hostname(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    return f"{rng.choice(vocab.NOUNS)}.{rng.choice(vocab.DOMAINS)}"


def _uuid(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_Maker = Callable[[random.Random, HintPool, tuple[str, ...]], str]
_FORMATS: dict[str, _Maker] = {
    "date": _date,
    "time": _time,
    "date-time": _date_time,
    "email": _email,
    "idn-email": _email,
    "uri": _uri,
    "iri": _uri,
    "url": _uri,
    "uri-reference": _uri,
    "iri-reference": _uri,
    "hostname": _hostname,
    "idn-hostname": _hostname,
    "uuid": _uuid,
    "ipv4": lambda rng, hints, path: f"192.0.2.{rng.randrange(1, 255)}",
    "ipv6": lambda rng, hints, path: f"2001:db8::{rng.randrange(1, 0xFFFF):x}",
    "duration": lambda rng, hints, path: f"PT{rng.randrange(1, 60)}M",
    "json-pointer": lambda rng, hints, path: "/" + "/".join(path or ("value",)),
    "regex": lambda rng, hints, path: "^[a-z]+$",
}


def name_value(rng: random.Random, hints: HintPool, path: tuple[str, ...]) -> str:
    """Return a readable value suggested by the property name and the prompt hints."""
    parts = set(name_parts(path[-1])) if path else set()
    parent = set(name_parts(path[-2])) if len(path) > 1 else set()
    for fmt, words in _FORMAT_NAMES:
        if parts & words:
            return _FORMATS[fmt](rng, hints, path)
    if parts & {"id", "identifier", "slug", "code", "key", "sku"}:
        return f"{(hints.keyword(rng) or rng.choice(vocab.NOUNS))[:12]}-{rng.randrange(100, 999)}"
    if parts & {"country", "nation"}:
        return hints.proper_noun() or rng.choice(vocab.COUNTRIES)
    if parts & _STREET:
        return f"{rng.randrange(1, 200)} {rng.choice(vocab.NOUNS).capitalize()} Street"
    if parts & _PLACE:
        return hints.proper_noun() or rng.choice(vocab.CITIES)
    if parts & _PERSON and (not parent or parent & _PERSON or "name" not in parts):
        return _person(rng, hints)
    return _descriptive_value(parts, rng, hints)


_FORMAT_NAMES: tuple[tuple[str, set[str]], ...] = (
    ("email", {"email", "mail"}),
    ("uri", {"url", "uri", "link", "website", "homepage", "href"}),
    ("uuid", {"uuid", "guid"}),
    ("date-time", {"timestamp", "datetime"}),
    ("date", {"date", "birthday", "deadline", "dob"}),
)


def _descriptive_value(parts: set[str], rng: random.Random, hints: HintPool) -> str:
    if parts & {"color", "colour"}:
        return _from_hints_or(vocab.COLORS, rng, hints)
    if parts & {"language", "lang", "locale"}:
        return _from_hints_or(vocab.LANGUAGES, rng, hints)
    if parts & {"status", "state"}:
        return rng.choice(vocab.STATUSES)
    if parts & _TITLE:
        return _title(rng, hints)
    if "name" in parts:
        return (hints.keyword(rng) or rng.choice(vocab.NOUNS)).capitalize()
    if parts & _LONG_TEXT:
        return _sentence(rng, hints)
    if parts & _LABEL:
        keyword = hints.keyword(rng) if rng.random() < 0.6 else None
        return keyword or rng.choice(vocab.CATEGORIES)
    keyword = hints.keyword(rng)
    if keyword is not None and rng.random() < 0.7:
        return keyword
    return f"{rng.choice(vocab.ADJECTIVES)} {rng.choice(vocab.NOUNS)}"


def _from_hints_or(choices: tuple[str, ...], rng: random.Random, hints: HintPool) -> str:
    lowered = {choice.lower(): choice for choice in choices}
    for word in [*hints.keywords, *(noun.lower() for noun in hints.proper_nouns)]:
        if word in lowered:
            return lowered[word]
    return rng.choice(choices)


def _person(rng: random.Random, hints: HintPool) -> str:
    for phrase in hints.phrases:
        if all(word[:1].isupper() for word in phrase.split()):
            return phrase
    places = {*vocab.CITIES, *vocab.COUNTRIES}
    people = [noun for noun in hints.proper_nouns if noun not in places]
    if people:
        return people[rng.randrange(len(people))]
    return f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"


def _title(rng: random.Random, hints: HintPool) -> str:
    topics = hints.topic_words(1)
    topic = (topics[0] if topics else rng.choice(vocab.NOUNS)).capitalize()
    places = [noun for noun in hints.proper_nouns if noun not in _known_people()]
    if places and rng.random() < 0.6:
        return f"The {topic} of {places[0]}"
    return f"The {rng.choice(vocab.ADJECTIVES).capitalize()} {topic}"


def _known_people() -> frozenset[str]:
    return frozenset((*vocab.FIRST_NAMES, *vocab.LAST_NAMES))


def _sentence(rng: random.Random, hints: HintPool) -> str:
    topics = hints.topic_words(2) or [rng.choice(vocab.NOUNS)]
    subject = topics[0] if hints.topics or len(topics) == 1 else " and ".join(topics)
    template = rng.choice(
        (
            "{A} {adjective} overview of {subject}.",
            "A short note about {subject}.",
            "{Subject}, described in a few {adjective} words.",
            "Everything important about {subject}, kept {adjective} and clear.",
        )
    )
    adjective = rng.choice(vocab.ADJECTIVES)
    article = "An" if adjective[0] in "aeiou" else "A"
    text = template.format(adjective=adjective, subject=subject, Subject=subject, A=article)
    return text[:1].upper() + text[1:]
