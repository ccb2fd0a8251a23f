"""The pure conversions of the LlamaIndex adapter, as tables (no server)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from lmstudio_core import (
    Chat,
    ImageData,
    PredictionEvent,
    PredictionResult,
    PredictionStats,
    PromptProgress,
    ReasoningFragment,
    TextFragment,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
    ToolCallNameReceived,
    ToolCallRequest,
    ToolCallStarted,
)

from lmstudio_integrations.llamaindex._convert import (
    ResponseBuilder,
    assistant_message,
    image_input,
    keep_first_tool_call,
    raw_from_result,
    to_history,
    tool_selections,
    usage_from_stats,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
DATA_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
PNG_IMAGE = ImageData(f"image-{hashlib.sha256(PNG).hexdigest()[:12]}.png", PNG)


def call_block(call_id: str | None, name: str, kwargs: dict[str, Any] | str) -> ToolCallBlock:
    return ToolCallBlock(tool_call_id=call_id, tool_name=name, tool_kwargs=kwargs)


HISTORY_CASES: list[tuple[str, ChatMessage, dict[str, Any]]] = [
    (
        "system",
        ChatMessage(role=MessageRole.SYSTEM, content="Be brief."),
        {"role": "system", "content": "Be brief."},
    ),
    (
        "developer is system",
        ChatMessage(role=MessageRole.DEVELOPER, content="Rules"),
        {"role": "system", "content": "Rules"},
    ),
    ("user", ChatMessage(content="Hi"), {"role": "user", "content": "Hi"}),
    (
        "text blocks joined by newlines",
        ChatMessage(blocks=[TextBlock(text="a"), TextBlock(text="b")]),
        {"role": "user", "content": "a\nb"},
    ),
    (
        "image bytes",
        ChatMessage(blocks=[TextBlock(text="What is this?"), ImageBlock(image=PNG)]),
        {"role": "user", "content": "What is this?", "images": [PNG_IMAGE]},
    ),
    (
        "image data URI",
        ChatMessage(blocks=[ImageBlock(url=DATA_URI)]),
        {"role": "user", "content": "", "images": [PNG_IMAGE]},
    ),
    (
        "chatbot is assistant",
        ChatMessage(role=MessageRole.CHATBOT, content="Hello"),
        {"role": "assistant", "content": "Hello"},
    ),
    (
        "thinking is sent as reasoning, cache points are not sent",
        ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[
                ThinkingBlock(content="hmm"),
                TextBlock(text="4"),
                CachePoint(cache_control=CacheControl(type="ephemeral")),
            ],
        ),
        {"role": "assistant", "content": "4", "reasoning_content": "hmm"},
    ),
    (
        "thinking of other roles is not sent",
        ChatMessage(
            role=MessageRole.USER, blocks=[ThinkingBlock(content="x"), TextBlock(text="q")]
        ),
        {"role": "user", "content": "q"},
    ),
    (
        "assistant tool calls",
        ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[
                TextBlock(text=""),
                call_block("call_1", "add", {"a": 1}),
                call_block("call_2", "add", '{"a": 2}'),
            ],
        ),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "call_1", "name": "add", "arguments": {"a": 1}},
                {"id": "call_2", "name": "add", "arguments": {"a": 2}},
            ],
        },
    ),
    (
        "OpenAI-style tool calls in additional_kwargs",
        ChatMessage(
            role=MessageRole.ASSISTANT,
            content="",
            additional_kwargs={
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]
            },
        ),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
    ),
    (
        "tool result",
        ChatMessage(role=MessageRole.TOOL, content="3", additional_kwargs={"tool_call_id": "c1"}),
        {"role": "tool", "content": "3", "tool_call_id": "c1"},
    ),
    (
        "function role is tool, with its name",
        ChatMessage(
            role=MessageRole.FUNCTION,
            content="3",
            additional_kwargs={"tool_call_id": "c1", "name": "add"},
        ),
        {"role": "tool", "content": "3", "tool_call_id": "c1", "name": "add"},
    ),
    (
        "citable content is flattened",
        ChatMessage(blocks=[CitableBlock(title="t", source="s", content="cited")]),
        {"role": "user", "content": "cited"},
    ),
]


@pytest.mark.parametrize(
    ("message", "expected"),
    [case[1:] for case in HISTORY_CASES],
    ids=[case[0] for case in HISTORY_CASES],
)
def test_to_history(message: ChatMessage, expected: dict[str, Any]) -> None:
    assert to_history([message]) == [expected]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (ChatMessage(blocks=[AudioBlock(audio=b"RIFF")]), "AudioBlock"),
        (ChatMessage(blocks=[ImageBlock(url="https://example.com/cat.png")]), "cannot fetch"),
        (
            ChatMessage(role=MessageRole.ASSISTANT, blocks=[call_block("c", "f", "{not json")]),
            "not valid JSON",
        ),
    ],
    ids=["audio", "image URL", "bad tool arguments"],
)
def test_to_history_refuses(message: ChatMessage, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        to_history([message])


def test_image_input_path(tmp_path: Path) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    assert image_input(ImageBlock(path=path)) == ImageData("pixel.png", PNG)


STATS = PredictionStats(
    stop_reason="eosFound",
    tokens_per_second=50.0,
    time_to_first_token=0.1,
    prompt_tokens=10,
    predicted_tokens=5,
    total_tokens=15,
)


@pytest.mark.parametrize(
    ("stats", "usage"),
    [
        (STATS, {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}),
        (
            PredictionStats(prompt_tokens=3, predicted_tokens=4),
            {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        ),
        (PredictionStats(), {}),
    ],
    ids=["full", "total computed", "none"],
)
def test_usage_from_stats(stats: PredictionStats, usage: dict[str, int]) -> None:
    assert usage_from_stats(stats) == usage


def test_raw_from_result() -> None:
    raw = raw_from_result(PredictionResult(content="x", stats=STATS))
    assert raw["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert raw["stop_reason"] == "eosFound"
    assert raw["finish_reason"] == "stop"
    assert raw["stats"]["tokens_per_second"] == 50.0
    assert raw["stats"]["time_to_first_token"] == 0.1


ADD = ToolCallRequest("call_a", "add", {"a": 1, "b": 2})

# (event, delta, thinking_delta, text so far, thinking so far, tool calls so far)
STREAM_TABLE: list[tuple[PredictionEvent, str | None, str | None, str, str | None, list[Any]]] = [
    (PromptProgress(0.5), None, None, "", None, []),
    (ReasoningFragment("Let me "), "", "Let me ", "", "Let me ", []),
    (ReasoningFragment("think."), "", "think.", "", "Let me think.", []),
    (TextFragment("The "), "The ", None, "The ", "Let me think.", []),
    (TextFragment("sum."), "sum.", None, "The sum.", "Let me think.", []),
    (ToolCallStarted(0, "call_a"), "", None, "The sum.", "Let me think.", [("call_a", "", "")]),
    (
        ToolCallNameReceived(0, "call_a", "add"),
        "",
        None,
        "The sum.",
        "Let me think.",
        [("call_a", "add", "")],
    ),
    (
        ToolCallArgumentsDelta(0, "call_a", '{"a": 1, '),
        "",
        None,
        "The sum.",
        "Let me think.",
        [("call_a", "add", '{"a": 1, ')],
    ),
    (
        ToolCallEnded(0, ADD),
        "",
        None,
        "The sum.",
        "Let me think.",
        [("call_a", "add", {"a": 1, "b": 2})],
    ),
    (
        ToolCallFailed(1, "unparsable"),
        "",
        None,
        "The sum.",
        "Let me think.",
        [("call_a", "add", {"a": 1, "b": 2})],
    ),
]


def test_response_builder_table() -> None:
    builder = ResponseBuilder()
    for event, delta, thinking, text, reasoning, calls in STREAM_TABLE:
        response = builder.feed(event)
        if delta is None:
            assert response is None, event
            continue
        assert response is not None
        assert response.delta == delta, event
        assert response.additional_kwargs.get("thinking_delta") == thinking, event
        assert response.message.role == MessageRole.ASSISTANT
        assert response.message.content == text, event
        thinking_blocks = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
        assert [b.content for b in thinking_blocks] == ([reasoning] if reasoning else [])
        got = [
            (b.tool_call_id, b.tool_name, b.tool_kwargs)
            for b in response.message.blocks
            if isinstance(b, ToolCallBlock)
        ]
        assert got == calls, event


def test_response_builder_finish() -> None:
    builder = ResponseBuilder()
    builder.feed(ReasoningFragment("hmm", tokens=2))
    result = PredictionResult(content="4", reasoning="hmm", tool_calls=[ADD], stats=STATS)
    final = builder.finish(result)
    assert final.delta == ""
    assert final.message.content == "4"
    thinking = final.message.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.content, thinking.num_tokens) == ("hmm", 2)
    assert final.additional_kwargs == {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
    }
    assert final.raw is not None
    assert final.raw["usage"] == final.additional_kwargs
    assert final.message.additional_kwargs["tool_calls"] == [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
        }
    ]


SELECTION_CASES: list[tuple[str, list[ToolCallBlock], list[tuple[str, dict[str, Any]]]]] = [
    ("none", [], []),
    ("dict arguments", [call_block("c1", "add", {"a": 1})], [("add", {"a": 1})]),
    ("partial JSON", [call_block("c1", "add", '{"a": 1, "b": ')], [("add", {"a": 1, "b": None})]),
    ("empty arguments", [call_block("c1", "now", "")], [("now", {})]),
    (
        "same tool twice",
        [call_block("c1", "add", {"a": 1}), call_block("c2", "add", {"a": 2})],
        [("add", {"a": 1}), ("add", {"a": 2})],
    ),
]


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [case[1:] for case in SELECTION_CASES],
    ids=[case[0] for case in SELECTION_CASES],
)
def test_tool_selections(
    blocks: list[ToolCallBlock], expected: list[tuple[str, dict[str, Any]]]
) -> None:
    message = assistant_message("", tool_calls=blocks)
    selections = tool_selections(message)
    assert [(s.tool_name, s.tool_kwargs) for s in selections] == expected
    assert [s.tool_id for s in selections] == [b.tool_call_id for b in blocks]


def test_tool_selection_ids_are_made_once_and_unique() -> None:
    message = assistant_message(
        "", tool_calls=[call_block(None, "add", {}), call_block(None, "add", {})]
    )
    first = [s.tool_id for s in tool_selections(message)]
    assert len(set(first)) == 2
    assert "add" not in first
    assert [s.tool_id for s in tool_selections(message)] == first


def test_keep_first_tool_call() -> None:
    message = assistant_message(
        "x", tool_calls=[call_block("c1", "add", {"a": 1}), call_block("c2", "mul", {})]
    )
    keep_first_tool_call(message)
    assert [s.tool_id for s in tool_selections(message)] == ["c1"]
    assert [c["id"] for c in message.additional_kwargs["tool_calls"]] == ["c1"]
    assert message.content == "x"


def test_round_trip_of_an_assistant_response() -> None:
    builder = ResponseBuilder()
    result = PredictionResult(content="", reasoning="r", tool_calls=[ADD], stats=STATS)
    response: ChatResponse = builder.finish(result)
    assert to_history([response.message]) == [
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "r",
            "tool_calls": [{"id": "call_a", "name": "add", "arguments": {"a": 1, "b": 2}}],
        }
    ]


def test_thinking_goes_back_in_think_tags() -> None:
    message = ChatMessage(
        role=MessageRole.ASSISTANT, blocks=[ThinkingBlock(content="2+2"), TextBlock(text="4")]
    )
    wire = Chat.from_history(to_history([message])).to_wire()
    assert wire["messages"][0]["content"] == [{"type": "text", "text": "<think>2+2</think>4"}]
