"""The llama.cpp engine on SmolLM2-135M, driven directly (no server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from lmstudio_core.emulator import EmulatorError, TextChunk, TextRequest, ToolCallChunk
from lmstudio_core.emulator.real import (
    SMOLLM2_KEY,
    LlamaTextEngine,
    PredictionStats,
    RealEngines,
    SamplingRequest,
)

pytestmark = pytest.mark.usefixtures("real")  # skips when the real engines are missing

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "London", "Rome"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def _user(text: str) -> tuple[dict[str, Any], ...]:
    return ({"role": "user", "content": [{"type": "text", "text": text}]},)


def _request(text: str, **fields: Any) -> SamplingRequest:
    return SamplingRequest(model_key=SMOLLM2_KEY, messages=_user(text), **fields)


def _text(pieces: Iterator[Any]) -> str:
    return "".join(piece.text for piece in pieces)


def _drain(pieces: Iterator[Any]) -> tuple[list[Any], PredictionStats]:
    out = []
    while True:
        try:
            out.append(next(pieces))
        except StopIteration as stop:
            return out, stop.value


@pytest.fixture
def llm(real: RealEngines) -> LlamaTextEngine:
    return real.llm


def test_reply_streams_in_pieces_with_llama_cpp_stats(llm: LlamaTextEngine) -> None:
    pieces, stats = _drain(llm.generate(_request("What is the capital of France?", max_tokens=24)))

    assert len(pieces) > 1
    assert all(isinstance(p, TextChunk) and p.text for p in pieces)
    assert "".join(p.text for p in pieces).strip()
    assert stats.stop_reason in ("eosFound", "maxPredictedTokensReached")
    assert stats.predicted_tokens >= len(pieces) - 1
    assert stats.prompt_tokens is not None
    assert stats.prompt_tokens > 5
    assert stats.tokens_per_second is not None
    assert stats.tokens_per_second > 0
    assert stats.time_to_first_token_sec is not None
    assert 0 < stats.time_to_first_token_sec <= stats.total_time_sec
    assert llm.last_stats == stats
    wire = stats.to_wire()
    assert wire["totalTokensCount"] == stats.prompt_tokens + stats.predicted_tokens


def test_plain_text_request_is_greedy_and_deterministic(llm: LlamaTextEngine) -> None:
    request = TextRequest(model_key=SMOLLM2_KEY, messages=_user("Name three colours."))

    first = _text(llm.generate(request))
    second = _text(llm.generate(request))

    assert first
    assert first == second


def test_max_tokens_stops_generation(llm: LlamaTextEngine) -> None:
    pieces, stats = _drain(
        llm.generate(_request("Write a long story about a dragon.", max_tokens=6))
    )

    assert stats.stop_reason == "maxPredictedTokensReached"
    assert stats.predicted_tokens == 6
    assert len(pieces) <= 6


def test_stop_string_ends_the_reply_before_it(llm: LlamaTextEngine) -> None:
    text = _text(llm.generate(_request("Count: 1, 2, 3, 4, 5, 6", max_tokens=40)))
    stop = text.strip()[:3]
    assert stop, "the model said nothing"

    stopped = _text(llm.generate(_request("Count: 1, 2, 3, 4, 5, 6", stop_strings=(stop,))))

    assert stop not in stopped
    assert len(stopped) < len(text)


def test_closing_the_iterator_stops_llama_cpp(llm: LlamaTextEngine) -> None:
    requested = 200
    pieces = llm.generate(
        _request("Tell me a very long story about a knight.", max_tokens=requested)
    )
    for _ in range(3):
        next(pieces)

    pieces.close()  # what the emulator does on cancel, stop strings and maxPredictedTokens

    assert llm.wait_idle(10)
    stats = llm.last_stats
    assert stats is not None
    assert stats.stop_reason == "userStopped"
    assert 3 <= stats.predicted_tokens < 20 < requested


def test_json_schema_output_validates(llm: LlamaTextEngine) -> None:
    request = _request("Describe a person as JSON.", json_schema=PERSON, max_tokens=60)

    text = _text(llm.generate(request))

    jsonschema.validate(json.loads(text), PERSON)


def test_gbnf_grammar_output_matches(llm: LlamaTextEngine) -> None:
    request = _request("Is the sky blue?", gbnf_grammar='root ::= "yes" | "no"')

    assert _text(llm.generate(request)) in ("yes", "no")


@pytest.mark.parametrize(
    ("field", "value"), [("json_schema", {"type": "bogus"}), ("gbnf_grammar", "root ::= ???")]
)
def test_invalid_constraint_fails_the_prediction(
    llm: LlamaTextEngine, field: str, value: Any
) -> None:
    with pytest.raises(EmulatorError, match="Failed to constrain generation") as info:
        list(llm.generate(_request("Hi", **{field: value})))
    assert info.value.cause


def test_required_tool_choice_yields_a_valid_tool_call(llm: LlamaTextEngine) -> None:
    request = _request("What is the weather in Paris?", tools=(WEATHER,), tool_choice="required")

    pieces, stats = _drain(llm.generate(request))

    assert len(pieces) == 1
    assert isinstance(pieces[0], ToolCallChunk)
    call = pieces[0]
    assert call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments_json), WEATHER["function"]["parameters"])
    assert call.call_id.isdigit()
    assert stats.stop_reason == "toolCalls"


def test_auto_tool_choice_yields_either_a_tool_call_or_text(llm: LlamaTextEngine) -> None:
    request = _request("What is the weather in Rome?", tools=(WEATHER,), max_tokens=40)

    pieces, stats = _drain(llm.generate(request))

    calls = [p for p in pieces if isinstance(p, ToolCallChunk)]
    texts = [p for p in pieces if isinstance(p, TextChunk)]
    if calls:
        assert not texts
        assert stats.stop_reason == "toolCalls"
        assert calls[0].name == "get_weather"
    else:
        assert "".join(p.text for p in texts)
        assert "{" not in texts[0].text  # the JSON wrapper is not shown


def test_tokenizer_and_template_are_the_models_own(llm: LlamaTextEngine) -> None:
    tokens = llm.tokenize("Hello world")

    assert tokens == [19556, 905]
    assert llm.count_tokens("Hello world") == 2
    assert llm.detokenize(tokens) == "Hello world"
    assert llm.tokenize("<|im_start|>") == [1]  # special tokens are parsed
    prompt = llm.apply_prompt_template(_user("Hi"))
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    with_tools = llm.apply_prompt_template(_user("Hi"), (WEATHER,))
    assert "get_weather" in with_tools
