"""Scripted turns replace the default generation, in order and per model."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from engine_wire import ADD, calls_of, text_of, user
from lmstudio_core.emulator._engine import (
    DeterministicEngine,
    GenerationRequest,
    Piece,
    ScriptedError,
    ScriptedFailure,
    ScriptedToolCall,
    ScriptedTurn,
    TextPiece,
    ToolCallPiece,
)


def _run(engine: DeterministicEngine, model_key: str = "model-a", **options: Any) -> list[Piece]:
    request = GenerationRequest(model_key, [user("What is 3 plus 5?")], **options)
    return list(engine.generate(request))


def test_scripted_reply_is_emitted_exactly_as_token_pieces() -> None:
    engine = DeterministicEngine()
    engine.script_reply("Hello there, general Kenobi!")

    pieces = _run(engine, tools=[ADD])

    assert text_of(pieces) == "Hello there, general Kenobi!"
    assert [piece.text for piece in pieces if isinstance(piece, TextPiece)] == (
        engine.tokenizer.pieces("Hello there, general Kenobi!")
    )
    assert calls_of(pieces) == []


def test_scripted_turns_are_consumed_first_in_first_out() -> None:
    engine = DeterministicEngine()
    engine.script_reply("first")
    engine.script_reply("second")

    replies = [text_of(_run(engine)) for _ in range(3)]

    assert replies[:2] == ["first", "second"]
    assert replies[2] not in ("first", "second")
    assert replies[2].endswith(".")


def test_turns_scripted_for_a_model_are_kept_for_that_model() -> None:
    engine = DeterministicEngine()
    engine.script("model-b", ScriptedTurn(text="for b"))
    engine.script(None, ScriptedTurn(text="for anyone"))

    assert text_of(_run(engine, "model-a")) == "for anyone"
    assert engine.scripted_turns_pending == 1
    assert text_of(_run(engine, "model-b")) == "for b"
    assert engine.scripted_turns_pending == 0


def test_clear_script_restores_default_generation() -> None:
    engine = DeterministicEngine()
    engine.script_reply("scripted", model_key="model-a")
    engine.clear_script()

    assert engine.scripted_turns_pending == 0
    assert text_of(_run(engine)) == text_of(_run(DeterministicEngine()))


def test_scripted_reasoning_text_and_tool_calls_come_in_order() -> None:
    engine = DeterministicEngine()
    engine.script(
        None,
        ScriptedTurn(
            text="Let me add.",
            reasoning="Adding is easy.",
            tool_calls=[
                ScriptedToolCall("add", {"a": 1, "b": 2}),
                ScriptedToolCall("add", {"a": 3, "b": 4}, id="my-id"),
            ],
        ),
    )

    pieces = _run(engine)

    texts = [piece.text for piece in pieces if isinstance(piece, TextPiece)]
    assert texts[0] == "<think>"
    assert "".join(texts[1 : texts.index("</think>")]) == "Adding is easy."
    assert "".join(texts[texts.index("</think>") + 1 :]) == "Let me add."
    calls = [piece for piece in pieces if isinstance(piece, ToolCallPiece)]
    assert pieces[-2:] == calls
    assert re.fullmatch(r"call_[a-z0-9]{9}", calls[0].call_id)
    assert calls[1].call_id == "my-id"
    assert [json.loads(call.arguments_json) for call in calls] == [
        {"a": 1, "b": 2},
        {"a": 3, "b": 4},
    ]


def test_scripted_error_raises_and_is_consumed() -> None:
    engine = DeterministicEngine()
    error = ScriptedError("Model crashed", cause="Out of memory", suggestion="Use a smaller model")
    engine.script("model-a", ScriptedTurn(error=error))

    with pytest.raises(ScriptedFailure, match="Model crashed") as caught:
        _run(engine)

    assert caught.value.error == error
    assert engine.scripted_turns_pending == 0
    assert text_of(_run(engine)).endswith(".")


def test_scripted_reply_ignores_structured_output_settings() -> None:
    engine = DeterministicEngine()
    engine.script_reply("not json")

    assert text_of(_run(engine, json_schema={"type": "object"})) == "not json"
