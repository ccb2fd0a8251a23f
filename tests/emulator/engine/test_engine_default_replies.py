"""Without a script, replies are reproducible, relevant and shaped by the request."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from engine_wire import assistant, calls_of, system, text_of, user
from jsonschema import Draft202012Validator
from lmstudio_core.emulator._engine import (
    DeterministicEngine,
    GenerationRequest,
    TextPiece,
    Tokenizer,
)

QUESTION = "Why do volcanoes erupt near tectonic plates?"


def _reply(request: GenerationRequest) -> list[TextPiece]:
    pieces = list(DeterministicEngine().generate(request))
    assert calls_of(pieces) == []
    return [piece for piece in pieces if isinstance(piece, TextPiece)]


def test_reply_mentions_user_words_and_ends_with_a_period() -> None:
    text = text_of(_reply(GenerationRequest("m", [user(QUESTION)])))

    assert "volcanoes" in text.lower()
    assert text.endswith(".")
    assert re.fullmatch(r"[A-Z][^<>]*\.", text)


def test_reply_is_reproducible_and_depends_on_history_and_seed() -> None:
    request = GenerationRequest("m", [system("Be brief."), user(QUESTION)], seed=1)

    first = text_of(_reply(request))

    assert first == text_of(_reply(request))
    assert first != text_of(_reply(GenerationRequest("m", [user(QUESTION)], seed=1)))
    assert first != text_of(
        _reply(GenerationRequest("m", [system("Be brief."), user(QUESTION)], seed=2))
    )


@pytest.mark.parametrize("target", [8, 24, 60])
def test_reply_length_roughly_follows_reply_tokens(target: int) -> None:
    request = GenerationRequest("m", [user(QUESTION)], reply_tokens=target)

    count = len(_reply(request))

    assert target // 2 <= count <= target * 3 // 2 + 2


def test_pieces_are_tokenizer_pieces() -> None:
    pieces = _reply(GenerationRequest("m", [user(QUESTION)]))
    text = text_of(pieces)

    assert [piece.text for piece in pieces] == Tokenizer().pieces(text)


def test_reasoning_models_think_first_about_the_question() -> None:
    pieces = [p.text for p in _reply(GenerationRequest("m", [user(QUESTION)], reasoning=True))]

    assert pieces[0] == "<think>"
    end = pieces.index("</think>")
    assert "volcanoes" in "".join(pieces[1:end])
    answer = "".join(pieces[end + 1 :])
    assert answer.endswith(".")
    assert "<think>" not in answer


def test_non_reasoning_models_do_not_think() -> None:
    assert "<think>" not in text_of(_reply(GenerationRequest("m", [user(QUESTION)])))


def test_reply_to_an_image_mentions_the_image() -> None:
    image = {
        "type": "file",
        "name": "cat.png",
        "identifier": "file-1",
        "sizeBytes": 10,
        "fileType": "image",
    }
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}

    assert "image" in text_of(_reply(GenerationRequest("m", [message])))


def test_reply_after_an_assistant_message_is_text() -> None:
    request = GenerationRequest("m", [user("Hello"), assistant("Hi! How can I help?")])

    assert text_of(_reply(request)).endswith(".")


def test_empty_history_still_gives_a_sentence() -> None:
    assert text_of(_reply(GenerationRequest("m", []))).endswith(".")


def test_json_schema_reply_is_valid_json_without_think_block() -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title", "year", "tags"],
    }
    request = GenerationRequest(
        "m",
        [user("Recommend a novel about pirates published in 1999")],
        json_schema=schema,
        reasoning=True,
    )

    text = text_of(_reply(request))
    value = json.loads(text)

    assert Draft202012Validator(schema).is_valid(value)
    assert value["year"] == 1999
    assert "Pirates" in value["title"]
    assert text == json.dumps(value, ensure_ascii=False)


def test_gbnf_reply_follows_the_grammar_and_json_schema_wins() -> None:
    grammar = 'root ::= "Oh no, " [a-z ]+ "!"'
    gbnf_only = GenerationRequest("m", [user("Complain")], gbnf_grammar=grammar, reasoning=True)
    both = GenerationRequest(
        "m", [user("Complain")], gbnf_grammar=grammar, json_schema={"type": "boolean"}
    )

    assert re.fullmatch(r"Oh no, [a-z ]+!", text_of(_reply(gbnf_only)))
    assert text_of(_reply(both)) in ("true", "false")


def test_invalid_structured_settings_raise_value_error() -> None:
    engine = DeterministicEngine()

    with pytest.raises(ValueError, match="invalid GBNF grammar"):
        engine.generate(GenerationRequest("m", [user("x")], gbnf_grammar="nonsense"))
    with pytest.raises(ValueError, match="minimum"):
        engine.generate(
            GenerationRequest("m", [user("x")], json_schema={"minimum": 3, "maximum": 1})
        )


@pytest.mark.parametrize(
    "settings", [{"reply_tokens": 0}, {"tool_choice": "sometimes"}], ids=["tokens", "choice"]
)
def test_requests_reject_impossible_settings(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"reply_tokens|tool_choice"):
        GenerationRequest("m", [user("x")], **settings)
