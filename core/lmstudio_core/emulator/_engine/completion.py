"""Continuations of raw prompts (text completion instead of chat).

A prompt such as ``"1, 2, 3, 4,"`` continues its sequence (``" 5, 6, 7, 8,"``); any other
prompt continues its last sentence with a clause that fits the last word ("is" -> "one of
the most ...", "a" -> "quiet ...") and then adds sentences about the prompt's words.
"""

from __future__ import annotations

import itertools
import random
import re
from fractions import Fraction

from . import vocabulary as vocab
from .replies import topic_words
from .tokenizer import Tokenizer
from .vocabulary import word_list

SEQUENCE_TERMS = 4
_MIN_TERMS = 3
_TAIL_RE = re.compile(r"(?P<terms>-?\d+(?:(?P<sep>\s*[,;]\s*|\s+)-?\d+){2,})(?P<end>\s*[,;]?\s*)$")
_LETTERS_RE = re.compile(r"(?P<terms>\b[a-zA-Z](?:(?P<sep>,\s*|\s+)[a-zA-Z]\b){2,})(?P<end>,?\s*)$")
_LINKING_VERBS = frozenset(word_list("is are was were be been becomes became seems means"))
_ARTICLES = frozenset(word_list("a an the"))
_PREPOSITIONS = frozenset(word_list("of in on at to for with from by about into over under"))
_CONJUNCTIONS = frozenset(word_list("and or but so because while although that which"))
_FILLER = frozenset(word_list("upon once there dear favourite favorite ever really"))
_PRONOUNS = frozenset(word_list("i you we they he she it"))
_LINK_CLAUSES = (
    "one of the most {adjective} parts of {topic}",
    "{a_adjective} {noun} that {verb} {topic}",
    "known for {a_adjective} {noun} and {a_adjective2} {noun2}",
    "often described as {a_adjective} {noun}",
)
_ARTICLE_CLAUSES = ("{adjective} {noun} that {verb} {topic}", "{adjective} {noun} near the {noun2}")
_PREPOSITION_CLAUSES = ("the {adjective} {noun} of {topic}", "{topic} and the {noun} beyond it")
_OTHER_CLAUSES = ("{verb} {a_adjective} {noun}", "and the {noun} {verb} {topic}")
_FOLLOW_UPS = (
    "It {verb} {a_adjective} {noun} in many ways.",
    "Many people still think of {topic} as {a_adjective} {noun}.",
    "Over time, {topic} became {adjective} and familiar.",
    "The {noun} nearby {verb} the same {adjective} story.",
    "In the end, {topic} {verb} {a_adjective} {noun2}.",
)


def continue_text(prompt: str, rng: random.Random, tokenizer: Tokenizer, target: int) -> str:
    """Return a continuation of ``prompt`` of about ``target`` tokens (sequences: 4 terms)."""
    sequence = continue_sequence(prompt)
    if sequence is not None:
        return sequence
    return _continue_sentence(prompt, rng, tokenizer, target)


def continue_sequence(prompt: str) -> str | None:
    """Continue a trailing arithmetic, geometric or Fibonacci-like sequence (or letters)."""
    match = _TAIL_RE.search(prompt)
    if match is not None:
        terms = [int(term) for term in re.findall(r"-?\d+", match.group("terms"))]
        following = _next_numbers(terms, SEQUENCE_TERMS)
        if following is not None:
            return _layout([str(n) for n in following], match.group("sep"), match.group("end"))
    letters = _LETTERS_RE.search(prompt)
    if letters is not None:
        found: list[str] = re.findall(r"[a-zA-Z]", letters.group("terms"))
        steps = {ord(b) - ord(a) for a, b in itertools.pairwise(found)}
        if len(steps) == 1 and (step := steps.pop()) != 0:
            last, base = ord(found[-1]), ord("a" if found[-1].islower() else "A")
            chars = [chr(last + step * i) for i in range(1, SEQUENCE_TERMS + 1)]
            if all(base <= ord(char) < base + 26 for char in chars):
                return _layout(chars, letters.group("sep"), letters.group("end"))
    return None


def _next_numbers(terms: list[int], count: int) -> list[int] | None:
    if len(terms) < _MIN_TERMS:
        return None
    differences = {b - a for a, b in itertools.pairwise(terms)}
    if len(differences) == 1:
        step = differences.pop()
        return [terms[-1] + step * i for i in range(1, count + 1)]
    if all(terms[:-1]):
        ratios = {Fraction(b, a) for a, b in itertools.pairwise(terms)}
        ratio = ratios.pop() if len(ratios) == 1 else None
        if ratio is not None and ratio.denominator == 1:
            return [terms[-1] * int(ratio) ** i for i in range(1, count + 1)]
    if all(terms[i] == terms[i - 1] + terms[i - 2] for i in range(2, len(terms))):
        values = list(terms)
        for _ in range(count):
            values.append(values[-1] + values[-2])
        return values[len(terms) :]
    return None


def _layout(terms: list[str], separator: str, end: str) -> str:
    """Write ``terms`` so that they follow the prompt's own spacing and separators."""
    joined = separator.join(terms)
    if end.strip():  # the prompt ended with a separator ("4,"): continue likewise
        lead = "" if end.endswith((" ", "\n")) else separator[len(separator.rstrip()) :] or " "
        return lead + joined + end.rstrip()
    if end:  # trailing whitespace only ("1 2 3 ")
        return joined + end
    return separator + joined


def _continue_sentence(prompt: str, rng: random.Random, tokenizer: Tokenizer, target: int) -> str:
    found = [word for word in topic_words(prompt) if word.lower() not in _FILLER]
    names = [word for word in found if word[:1].isupper()]
    topics = [*names, *(word for word in found if word not in names)] or [rng.choice(vocab.NOUNS)]
    stripped = prompt.rstrip()
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", stripped)
    last = words[-1].lower() if words else ""
    if not stripped or prompt.endswith("\n") or stripped.endswith((".", "!", "?", ":", '"')):
        parts: list[str] = []
    else:
        options: tuple[str, ...]
        if last in _LINKING_VERBS:
            options = _LINK_CLAUSES
        elif last in _ARTICLES:
            options = _ARTICLE_CLAUSES
        elif last in _PREPOSITIONS:
            options = _PREPOSITION_CLAUSES
        elif last in _CONJUNCTIONS or last in _PRONOUNS:
            options = ("{topic} {verb} {a_adjective} {noun}",)
        else:
            options = _OTHER_CLAUSES
        clause = _fill(rng.choice(options), rng, topics)
        if last == "a" and clause[:1] in "aeiou":
            clause = (
                rng.choice([adj for adj in vocab.ADJECTIVES if adj[0] not in "aeiou"])
                + (clause[clause.index(" ") :])
            )
        elif last == "an" and clause[:1] not in "aeiou":
            clause = (
                rng.choice([adj for adj in vocab.ADJECTIVES if adj[0] in "aeiou"])
                + (clause[clause.index(" ") :])
            )
        parts = [clause + "."]
    follow_ups = list(_FOLLOW_UPS)
    rng.shuffle(follow_ups)
    index = 0
    while not parts or (tokenizer.count(" ".join(parts)) < target and index < len(follow_ups)):
        parts.append(_fill(follow_ups[index], rng, topics[index % len(topics) :] or topics))
        index += 1
    text = " ".join(parts)
    lead = "" if prompt[-1:].isspace() or not prompt else " "
    if prompt.endswith("\n"):
        lead = ""
    return lead + text


def _fill(template: str, rng: random.Random, topics: list[str]) -> str:
    adjective, adjective2 = rng.sample(vocab.ADJECTIVES, 2)
    noun, noun2 = rng.sample(vocab.NOUNS, 2)
    text = template.format(
        topic=topics[0],
        adjective=adjective,
        a_adjective=_with_article(adjective),
        a_adjective2=_with_article(adjective2),
        noun=noun,
        noun2=noun2,
        verb=rng.choice(vocab.VERBS),
    )
    return text


def _with_article(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
