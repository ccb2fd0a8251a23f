"""Natural-looking reply and reasoning texts derived from the prompt."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from . import vocabulary as vocab
from ._text import STOPWORDS, words_of
from .chat_history import ToolResult
from .tokenizer import Tokenizer
from .tool_selection import PlannedCall


def topic_words(text: str) -> list[str]:
    """Return the meaningful words of ``text``, lowercased unless they look like names.

    Words right after "about", "on", "regarding", ... (the announced topic) come first.
    """
    seen: set[str] = set()
    announced: list[str] = []
    others: list[str] = []
    after_marker = False
    for position, word in enumerate(words_of(text)):
        base = word.split("'")[0].split("\u2019")[0]
        lowered = base.lower()
        marker, after_marker = after_marker, lowered in _TOPIC_MARKERS
        if len(base) < 3 or lowered in STOPWORDS or base.isdigit() or lowered in seen:
            after_marker = after_marker or (marker and lowered in _ARTICLES)
            continue
        seen.add(lowered)
        keep_case = base.isupper() or (position > 0 and base[:1].isupper())
        (announced if marker else others).append(base if keep_case else lowered)
    return [*announced, *others]


_TOPIC_MARKERS = frozenset({"about", "on", "regarding", "concerning"})
_ARTICLES = frozenset({"a", "an", "the", "some", "my", "your", "our", "their"})


def free_text_reply(
    user_text: str,
    files: Sequence[Mapping[str, Any]],
    rng: random.Random,
    tokenizer: Tokenizer,
    target_tokens: int,
) -> str:
    """Return an answer of about ``target_tokens`` tokens mentioning the prompt's words.

    Whole sentences are added until the target is reached; the last one is dropped when
    that lands closer to the target, and the text is cut at a word boundary only when it
    is still far too long (tiny targets).
    """
    topics = topic_words(user_text) or [rng.choice(vocab.NOUNS)]
    sentences = [rng.choice(vocab.OPENERS)]
    if any(part.get("fileType") == "image" for part in files):
        sentences.append(f"The image shows {_with_article(rng.choice(vocab.ADJECTIVES))} scene.")
    templates = list(vocab.REPLY_TEMPLATES)
    rng.shuffle(templates)
    index = 0
    while index == 0 or tokenizer.count(" ".join(sentences)) < target_tokens:
        topic = topics[index % len(topics)]
        other = topics[(index + 1) % len(topics)] if len(topics) > 1 else rng.choice(vocab.NOUNS)
        template = templates[index % len(templates)]
        sentences.append(_sentence(rng, template, topic, other, connect=index > 0))
        index += 1
    over = tokenizer.count(" ".join(sentences)) - target_tokens
    under = target_tokens - tokenizer.count(" ".join(sentences[:-1]))
    if index > 1 and under < over:
        sentences.pop()
    text = " ".join(sentences)
    if tokenizer.count(text) > target_tokens * 3 // 2 + 2:
        text = truncate_to_tokens(text, tokenizer, target_tokens)
    return text


def _sentence(rng: random.Random, template: str, topic: str, other: str, *, connect: bool) -> str:
    adjective = rng.choice(vocab.ADJECTIVES)
    sentence = template.format(
        topic=topic,
        other=other,
        adjective=adjective,
        a_adjective=_with_article(adjective),
        A_adjective=_with_article(adjective).capitalize(),
        noun=rng.choice(vocab.NOUNS),
        verb=rng.choice(vocab.VERBS),
    )
    sentence = sentence[:1].upper() + sentence[1:]
    if connect and rng.random() < 0.3:
        connector = rng.choice(vocab.CONNECTORS)
        keep_case = sentence.startswith(topic) and topic[:1].isupper()
        start = sentence[:1] if keep_case else sentence[:1].lower()
        sentence = f"{connector} {start}{sentence[1:]}"
    return sentence


def _with_article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def truncate_to_tokens(text: str, tokenizer: Tokenizer, limit: int) -> str:
    """Cut ``text`` at a word boundary to at most about ``limit`` tokens; end it with a period."""
    pieces = tokenizer.pieces(text)
    if len(pieces) > limit:
        cut = max(
            (index for index in range(1, limit + 1) if pieces[index].startswith(" ")),
            default=limit,
        )
        text = "".join(pieces[:cut]).rstrip(" ,;:-")
    if not text.endswith((".", "!", "?")):
        text += "."
    return text


def think_text(user_text: str, rng: random.Random) -> str:
    """Return a short reasoning text about the question."""
    topics = topic_words(user_text) or ["the question"]
    listed = " and ".join(topics[:2])
    return rng.choice(vocab.THINK_TEMPLATES).format(topics=listed, topic=topics[0])


def tool_call_thought(user_text: str, calls: Sequence[PlannedCall]) -> str:
    """Return a short reasoning text explaining the planned tool calls."""
    names = " and ".join(dict.fromkeys(call.tool.name for call in calls))
    topics = topic_words(user_text)
    subject = f"about {' and '.join(topics[:2])}" if topics else "for help"
    return f"The user is asking {subject}. I should call {names} to answer this."


def tool_results_reply(results: Sequence[ToolResult]) -> str:
    """Return an answer that reports the tool results verbatim."""
    if not results:
        return "The tool did not return any result."
    if len(results) == 1:
        return f"The result is {_clean(results[0].content)}."
    described = [
        f"{result.name or f'call {index}'} returned {_clean(result.content)}"
        for index, result in enumerate(results, start=1)
    ]
    return "Here are the results: " + ", ".join(described[:-1]) + f" and {described[-1]}."


def tool_results_thought(results: Sequence[ToolResult]) -> str:
    """Return a short reasoning text about received tool results."""
    names = " and ".join(dict.fromkeys(result.name for result in results if result.name))
    source = names or "the tool"
    return f"I received the output of {source}. Now I can answer using the result."


def _clean(content: str) -> str:
    stripped = content.strip()
    return stripped[:-1] if stripped.endswith(".") and len(stripped) > 1 else stripped
