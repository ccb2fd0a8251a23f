"""Raw completions: the prompt is continued instead of answered."""

from __future__ import annotations

from typing import Any

import pytest
from engine_wire import ADD, calls_of, text_of, user
from lmstudio_core.emulator._engine import DeterministicEngine, GenerationRequest


def _continue(prompt: str, **options: Any) -> str:
    request = GenerationRequest("m", [user(prompt)], completion=True, **options)
    pieces = list(DeterministicEngine().generate(request))
    assert calls_of(pieces) == []
    return text_of(pieces)


@pytest.mark.parametrize(
    ("prompt", "continuation"),
    [
        ("1, 2, 3, 4,", " 5, 6, 7, 8,"),
        ("1, 2, 3, 4", ", 5, 6, 7, 8"),
        ("10, 20, 30, ", "40, 50, 60, 70,"),
        ("2 4 8 16", " 32 64 128 256"),
        ("1, 1, 2, 3, 5,", " 8, 13, 21, 34,"),
        ("Count down: 9, 7, 5,", " 3, 1, -1, -3,"),
        ("a, b, c,", " d, e, f, g,"),
    ],
)
def test_sequences_are_continued(prompt: str, continuation: str) -> None:
    assert _continue(prompt) == continuation


def test_a_sentence_is_continued_with_the_prompt_words() -> None:
    text = _continue("The capital of France is")

    assert text.startswith(" ")
    assert text[1].islower()
    assert "France" in text
    assert text.endswith(".")
    assert not text.lstrip().startswith(("Sure", "Good", "Happy", "Of course", "Let me", "Great"))


@pytest.mark.parametrize(("article", "vowel"), [("a", False), ("an", True)])
def test_an_article_gets_a_matching_word(article: str, vowel: bool) -> None:
    for seed in range(6):
        text = _continue(f"Once upon a time there was {article}", seed=seed)
        assert (text[1] in "aeiou") is vowel


def test_after_a_full_stop_a_new_sentence_starts() -> None:
    text = _continue("The meeting ended.")

    assert text.startswith(" ")
    assert text[1].isupper()


def test_a_trailing_space_is_not_doubled() -> None:
    assert not _continue("The weather today is ").startswith(" ")


def test_completions_are_reproducible_and_follow_the_seed() -> None:
    assert _continue("My favourite colour", seed=1) == _continue("My favourite colour", seed=1)
    assert {_continue("My favourite colour", seed=seed) for seed in range(4)} != {""}


def test_length_roughly_follows_reply_tokens() -> None:
    short = _continue("The history of Rome", reply_tokens=8)
    long = _continue("The history of Rome", reply_tokens=60)

    assert len(long) > len(short)


def test_completions_never_call_tools_and_chat_is_unchanged() -> None:
    engine = DeterministicEngine()
    completion = GenerationRequest("m", [user("What is 3 plus 5?")], tools=[ADD], completion=True)
    chat = GenerationRequest("m", [user("What is 3 plus 5?")], tools=[ADD])

    assert calls_of(list(engine.generate(completion))) == []
    assert [call.name for call in calls_of(list(engine.generate(chat)))] == ["add"]
