"""Multi-word phrases taken from a prompt: names, prepositional phrases and noun phrases.

They fill string arguments of tool calls ("weather in San Francisco" -> ``"San Francisco"``)
and name keys and values of schemaless JSON objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import STOPWORDS, quoted_strings_in
from .vocabulary import word_list

_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*|[^\w\s]|_+")
_BREAK_PUNCTUATION = frozenset(',.;:!?()[]{}"\u201c\u201d')
_NAME_JOINERS = frozenset(word_list("of de du la le van von der da di del y and &"))
_HEAD_PREPOSITIONS = frozenset(
    word_list("in for about of on at near from to regarding concerning called named titled")
)
_PHRASE_STOPS = frozenset(
    word_list(
        """in for to with using via by from at on into and then but or so because while
    please if when where which who that as than"""
    )
)
_TRAILING_FILLER = frozenset(
    word_list("today tomorrow tonight now currently right please thanks again first")
)
_LEADING_FILLER = frozenset(
    word_list(
        """a an the some any my your our their this that these those me us it all of
    current latest"""
    )
)
_COMMAND_WORDS = frozenset(
    word_list(
        """please can could would you will kindly look up search lookup find fetch get
    retrieve check tell show give me us what what's whats who is are was were which how
    do does did i want need like to use call run the a an tool tools function for about
    on of in at me my let's lets quickly now some information info"""
    )
)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_word(self) -> bool:
        return self.text[:1].isalnum()

    @property
    def is_capitalised(self) -> bool:
        return self.text[:1].isupper()


def _tokens(text: str) -> list[_Token]:
    return [_Token(match.group(0), match.start()) for match in _TOKEN_RE.finditer(text)]


def _sentence_initial(tokens: list[_Token], index: int) -> bool:
    return index == 0 or tokens[index - 1].text in {".", "!", "?", ":", '"', "\u201c"}


def capitalised_names(text: str, *, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Return runs of capitalised words, longest names first within prompt order.

    ``"Weather in San Francisco or New York City?"`` gives ``["San Francisco", "New York
    City"]``; single capitalised words that do not start a sentence come after the
    multi-word names (``"Paris"``). Words in ``exclude`` (lowercase) never start a name.
    """
    tokens = _tokens(text)
    multi: list[str] = []
    single: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        starts = token.is_word and token.is_capitalised and token.lower not in exclude
        if starts and (token.lower in STOPWORDS or token.lower in _COMMAND_WORDS):
            starts = not _sentence_initial(tokens, index) and token.lower not in STOPWORDS
        if not starts:
            index += 1
            continue
        end = index + 1
        while end < len(tokens):
            nxt = tokens[end]
            if nxt.is_word and nxt.is_capitalised and nxt.lower not in exclude:
                end += 1
            elif (
                nxt.lower in _NAME_JOINERS
                and end + 1 < len(tokens)
                and tokens[end + 1].is_capitalised
                and tokens[end + 1].is_word
            ):
                end += 2
            else:
                break
        words = [tok.text for tok in tokens[index:end]]
        if len(words) > 1:
            multi.append(" ".join(words))
        elif not _sentence_initial(tokens, index) and not token.text.isdigit():
            single.append(words[0])
        index = end
    return list(dict.fromkeys([*multi, *single]))


def prepositional_phrases(
    text: str, *, heads: frozenset[str] = _HEAD_PREPOSITIONS, exclude: frozenset[str] = frozenset()
) -> list[str]:
    """Return the phrases after ``heads`` ("in", "for", "about", ...) up to punctuation.

    A phrase also stops at a conjunction or another preposition ("in San Francisco in
    celsius" -> ``"San Francisco"``); "of" stays inside ("about the history of Rome" ->
    ``"history of Rome"``). Leading articles and trailing fillers ("today") are dropped.
    """
    tokens = _tokens(text)
    found: list[str] = []
    for index, token in enumerate(tokens):
        if token.lower not in heads:
            continue
        words: list[str] = []
        for nxt in tokens[index + 1 :]:
            if nxt.text in _BREAK_PUNCTUATION or (not nxt.is_word and nxt.text != "'"):
                break
            if (nxt.lower in _PHRASE_STOPS and words) or nxt.lower in exclude:
                break
            words.append(nxt.text)
        phrase = _trim(words)
        if phrase and phrase not in found:
            found.append(phrase)
    return found


def noun_phrase(text: str, *, exclude: frozenset[str] = frozenset()) -> str | None:
    """Return the main noun phrase of a request, without the command words around it.

    ``"Please look up the population of France"`` -> ``"population of France"``.
    """
    best: list[str] = []
    for clause in re.split(r"[,.;:!?()\"\u201c\u201d]+", text):
        words = [tok.text for tok in _tokens(clause) if tok.is_word]
        start = 0
        while start < len(words) and (
            words[start].lower() in _COMMAND_WORDS or words[start].lower() in exclude
        ):
            start += 1
        candidate = _trim(words[start:])
        if candidate and len(candidate.split()) > len(best):
            best = candidate.split()
    return " ".join(best) or None


def _trim(words: list[str]) -> str:
    start, end = 0, len(words)
    while start < end and words[start].lower() in _LEADING_FILLER:
        start += 1
    while end > start and (words[end - 1].lower() in _TRAILING_FILLER | STOPWORDS):
        end -= 1
    return " ".join(words[start:end])


_PLACE_NAMES = frozenset(
    word_list("location city place destination origin town where region area address country")
)
_PERSON_NAMES = frozenset(word_list("name person user username author owner who"))
_QUERY_NAMES = frozenset(
    word_list(
        """query q search term terms keyword keywords question prompt text input topic
    subject phrase string message content"""
    )
)
_EXPRESSION_NAMES = frozenset(word_list("expression expr formula equation calculation math"))
PHRASE_PARAMETER_WORDS = _PLACE_NAMES | _PERSON_NAMES | _QUERY_NAMES | _EXPRESSION_NAMES
_EXPRESSION_RE = re.compile(r"-?\d+(?:\.\d+)?(?:\s*[-+*/x^%]\s*-?\d+(?:\.\d+)?)+")


def string_candidates(
    text: str, name_parts: list[str], *, exclude: frozenset[str] = frozenset()
) -> list[str]:
    """Return phrases of ``text`` that could fill a string parameter, best first.

    The order depends on what the parameter's name (split into ``name_parts``) asks for:
    places and people prefer capitalised names, queries prefer the phrase after
    "for"/"about" or the request's noun phrase, expressions prefer arithmetic such as
    ``"12 + 30"``. Words in ``exclude`` (lowercase, e.g. the tool name) are skipped.
    """
    parts = set(name_parts)
    quoted = quoted_strings_in(text)
    names = capitalised_names(text, exclude=exclude)
    phrases = prepositional_phrases(text, exclude=exclude)
    topic = prepositional_phrases(text, heads=frozenset({"for", "about", "regarding"}))
    noun = noun_phrase(text, exclude=exclude)
    nouns = [noun] if noun else []
    if parts & _EXPRESSION_NAMES:
        ordered = [*quoted, *_EXPRESSION_RE.findall(text), *phrases, *nouns]
    elif parts & _QUERY_NAMES:
        ordered = [*quoted, *topic, *nouns, *names, *phrases]
    elif parts & (_PLACE_NAMES | _PERSON_NAMES):
        ordered = [*quoted, *names, *phrases, *nouns]
    else:
        multi = [name for name in names if " " in name]
        single = [name for name in names if " " not in name]
        ordered = [*quoted, *multi, *phrases, *single, *nouns]
    return [phrase for phrase in dict.fromkeys(ordered) if phrase.strip()]
