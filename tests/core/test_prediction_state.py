from __future__ import annotations

from typing import Any

import pytest
from lmstudio_core import (
    PromptProgress,
    ReasoningFragment,
    ServerError,
    TextFragment,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
    ToolCallNameReceived,
    ToolCallStarted,
    UnknownMessageWarning,
)
from lmstudio_core.prediction import PredictionState, prepare_predict
from lmstudio_core.structured import structured_output
from pydantic import BaseModel

INFO = {
    "type": "llm",
    "modelKey": "m",
    "format": "gguf",
    "displayName": "M",
    "path": "p/m",
    "sizeBytes": 1,
    "identifier": "m",
    "instanceReference": "r",
    "contextLength": 4096,
    "maxContextLength": 8192,
    "vision": False,
    "trainedForToolUse": True,
}


def fragment(text: str, kind: str = "none", structural: bool = False) -> dict[str, Any]:
    return {
        "type": "fragment",
        "fragment": {
            "content": text,
            "tokensCount": 1,
            "containsDrafted": False,
            "reasoningType": kind,
            "isStructural": structural,
        },
    }


def success(stop: str = "eosFound") -> dict[str, Any]:
    return {
        "type": "success",
        "stats": {"stopReason": stop, "tokensPerSecond": 10.0, "timeToFirstTokenSec": 0.1,
                  "promptTokensCount": 5, "predictedTokensCount": 3, "totalTokensCount": 8},
        "modelInfo": INFO,
        "loadModelConfig": {"fields": [{"key": "llm.load.contextLength", "value": 4096}]},
        "predictionConfig": {"fields": [{"key": "llm.prediction.temperature", "value": 0.7}]},
    }  # fmt: skip


def feed_all(state: PredictionState, messages: list[dict[str, Any]]) -> list[object]:
    return [event for message in messages for event in state.feed(message)]


def test_text_reasoning_and_stats() -> None:
    state = PredictionState()
    events = feed_all(
        state,
        [
            {"type": "promptProcessingProgress", "progress": 0.5},
            fragment("<think>", "reasoningStartTag", True),
            fragment("hmm", "reasoning"),
            fragment("</think>", "reasoningEndTag", True),
            fragment("Hello"),
            fragment(" world"),
            success(),
        ],
    )
    assert events == [
        PromptProgress(0.5),
        ReasoningFragment("hmm"),
        TextFragment("Hello"),
        TextFragment(" world"),
    ]
    result = state.result
    assert result is not None
    assert result.content == "Hello world"
    assert str(result) == "Hello world"
    assert result.reasoning == "hmm"
    assert result.stats.prompt_tokens == 5
    assert result.stats.tokens_per_second == 10.0
    assert result.stats.finish_reason == "stop"
    assert result.model_info is not None
    assert result.model_info.context_length == 4096
    assert result.load_config == {"context_length": 4096}
    assert result.prediction_config == {"temperature": 0.7}


def test_tool_call_events_and_ids() -> None:
    state = PredictionState()
    events = feed_all(
        state,
        [
            {"type": "toolCallGenerationStart", "toolCallId": "srv-1"},
            {"type": "toolCallGenerationNameReceived", "name": "add"},
            {"type": "toolCallGenerationArgumentFragmentGenerated", "content": '{"a": 1'},
            {"type": "toolCallGenerationEnd",
             "toolCallRequest": {"type": "function", "name": "add", "arguments": {"a": 1}}},
            {"type": "toolCallGenerationStart"},
            {"type": "toolCallGenerationEnd",
             "toolCallRequest": {"type": "function", "name": "mul", "arguments": {}}},
            {"type": "toolCallGenerationFailed", "error": {"title": "bad call"},
             "rawContent": "<tool_call>"},
            success("toolCalls"),
        ],
    )  # fmt: skip
    assert events[:3] == [
        ToolCallStarted(0, "srv-1"),
        ToolCallNameReceived(0, "srv-1", "add"),
        ToolCallArgumentsDelta(0, "srv-1", '{"a": 1'),
    ]
    ended = [e for e in events if isinstance(e, ToolCallEnded)]
    assert ended[0].request.id == "srv-1"
    synthesized = ended[1].request.id
    assert synthesized.startswith("call_")
    assert isinstance(events[4], ToolCallStarted)
    assert events[4].id == synthesized
    assert isinstance(events[-1], ToolCallFailed)
    assert events[-1].message == "bad call"
    result = state.result
    assert result is not None
    assert [c.name for c in result.tool_calls] == ["add", "mul"]
    assert result.stats.finish_reason == "tool_calls"
    assert result.tool_call_failures[0].raw_content == "<tool_call>"


class Answer(BaseModel):
    value: int


def test_structured_output_parsed_unless_cancelled() -> None:
    state = PredictionState(structured_output(Answer))
    feed_all(state, [fragment('{"value":'), fragment(" 4}"), success()])
    assert state.result is not None
    assert state.result.parsed == Answer(value=4)
    cancelled = PredictionState(structured_output(Answer))
    feed_all(cancelled, [fragment('{"value":'), success("userStopped")])
    assert cancelled.result is not None
    assert cancelled.result.parsed is None
    assert cancelled.result.parse_error is None


def test_in_band_error_raises_server_error() -> None:
    state = PredictionState()
    with pytest.raises(ServerError, match="Boom"):
        state.feed({"type": "error", "error": {"title": "Boom", "cause": "why"}})


def test_unknown_packet_warns_and_is_ignored() -> None:
    state = PredictionState()
    with pytest.warns(UnknownMessageWarning, match="futurePacket"):
        assert state.feed({"type": "futurePacket"}) == []
    assert state.feed(fragment("ok")) == [TextFragment("ok")]


def test_finish_cancelled_keeps_partial_text() -> None:
    state = PredictionState()
    state.feed(fragment("par"))
    state.finish_cancelled()
    assert state.result is not None
    assert state.result.content == "par"
    assert state.result.stop_reason == "userStopped"


def test_prepare_predict_layers() -> None:
    request = prepare_predict(
        {"type": "query", "query": {"identifier": "m"}}, "hi", options={"temperature": 0.1},
        config={"temperature": 0.9, "max_tokens": 3},
    )  # fmt: skip
    fields = request.parameter()["predictionConfigStack"]["layers"][0]["config"]["fields"]
    assert {f["key"]: f["value"] for f in fields} == {
        "llm.prediction.temperature": 0.1,
        "llm.prediction.maxPredictedTokens": {"checked": True, "value": 3},
    }
    completion = prepare_predict({}, "Once", options={}, completion=True)
    layers = completion.parameter()["predictionConfigStack"]["layers"]
    assert [layer["layerName"] for layer in layers] == ["apiOverride", "completeModeFormatting"]
    with pytest.raises(ValueError, match="cannot be combined"):
        prepare_predict({}, "x", options={}, response_format=Answer, tools=[{"name": "f"}])
    with pytest.raises(ValueError, match="empty"):
        prepare_predict({}, [], options={})
    with pytest.raises(TypeError, match="prompt string"):
        prepare_predict({}, ["x"], options={}, completion=True)  # type: ignore[list-item]
    preset = prepare_predict({}, "x", options={}, preset="p").parameter()
    assert preset["fuzzyPresetIdentifier"] == "p"


def test_tool_call_without_start_packet_still_announces_the_call() -> None:
    state = PredictionState()
    events = feed_all(
        state,
        [
            {"type": "toolCallGenerationNameReceived", "name": "add"},
            {"type": "toolCallGenerationEnd",
             "toolCallRequest": {"type": "function", "name": "add", "arguments": {}}},
            {"type": "toolCallGenerationEnd",
             "toolCallRequest": {"type": "function", "id": "srv-9", "name": "mul"}},
            success("toolCalls"),
        ],
    )  # fmt: skip
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    ended = [e for e in events if isinstance(e, ToolCallEnded)]
    assert [s.index for s in started] == [0, 1]
    assert isinstance(events[0], ToolCallStarted)
    assert ended[0].request.id == started[0].id
    assert started[1].id == "srv-9"
    assert ended[1].request.id == "srv-9"


def test_the_announced_tool_call_id_is_kept_when_the_end_packet_differs() -> None:
    state = PredictionState()
    events = feed_all(
        state,
        [
            {"type": "toolCallGenerationStart"},
            {"type": "toolCallGenerationEnd",
             "toolCallRequest": {"type": "function", "id": "late-id", "name": "add"}},
            success("toolCalls"),
        ],
    )  # fmt: skip
    started = events[0]
    assert isinstance(started, ToolCallStarted)
    assert state.result is not None
    assert state.result.tool_calls[0].id == started.id
    assert [e.request.id for e in events if isinstance(e, ToolCallEnded)] == [started.id]
