"""Wire chats to llama.cpp messages, tool plans and the streaming answer decoder (no model)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lmstudio_core.emulator import EmulatorError
from lmstudio_core.emulator.real._chat import AnswerStream, plan_tools, to_openai_messages

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ADD = {"type": "function", "function": {"name": "add", "parameters": {}}}


def _text(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


def test_messages_are_flattened_to_strings() -> None:
    call = {"type": "function", "name": "add", "id": "1", "arguments": {"a": 1}}
    messages = [
        _text("system", "Be brief."),
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "toolCallRequest", "toolCallRequest": call}]},
        {
            "role": "tool",
            "content": [{"type": "toolCallResult", "content": "2", "toolCallId": "1"}],
        },
    ]

    result = to_openai_messages(messages)

    assert result[:2] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "ab"},
    ]
    assert json.loads(result[2]["content"]) == {"tool_call": {"name": "add", "arguments": {"a": 1}}}
    assert result[3] == {"role": "tool", "content": "2"}


def test_images_are_refused() -> None:
    image = {
        "type": "file",
        "name": "a.png",
        "identifier": "f",
        "sizeBytes": 1,
        "fileType": "image",
    }

    with pytest.raises(EmulatorError, match="does not support images"):
        to_openai_messages([{"role": "user", "content": [image]}])


def test_no_plan_without_tools_or_with_tool_choice_none() -> None:
    assert plan_tools([], "auto") is None
    assert plan_tools([WEATHER], "none") is None


def test_required_plan_constrains_to_one_call_per_tool() -> None:
    plan = plan_tools([WEATHER, ADD], "required")

    assert plan is not None
    assert plan.mode == "required"
    names = [option["properties"]["name"]["enum"] for option in plan.schema["anyOf"]]
    assert names == [["get_weather"], ["add"]]
    assert plan.schema["anyOf"][0]["properties"]["arguments"]["required"] == ["city"]
    assert plan.schema["anyOf"][1]["properties"]["arguments"] == {
        "type": "object",
        "properties": {},
    }


def test_auto_plan_offers_a_call_or_an_answer_and_describes_the_tools() -> None:
    plan = plan_tools([WEATHER], "auto")

    assert plan is not None
    assert plan.mode == "auto"
    keys = [next(iter(option["properties"])) for option in plan.schema["anyOf"]]
    assert keys == ["tool_call", "answer"]
    assert "get_weather: Weather in a city" in plan.instructions
    merged = to_openai_messages([_text("system", "Sys."), _text("user", "Hi")], plan)
    assert merged[0]["content"].startswith("Sys.\n\nYou can call these tools:")
    added = to_openai_messages([_text("user", "Hi")], plan)
    assert [m["role"] for m in added] == ["system", "user"]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_answer_stream_decodes_the_json_string_piece_by_piece(size: int) -> None:
    answer = 'He said "hi"\\ and left.\nBye \u00e9 \U0001f600'
    raw = "{\n  " + '"answer"  :  ' + json.dumps(answer) + "\n}"
    stream = AnswerStream()

    shown = "".join(stream.feed(raw[i : i + size]) for i in range(0, len(raw), size))

    assert stream.kind == "answer"
    assert shown == answer
    assert stream.raw == raw


def test_answer_stream_shows_nothing_of_a_tool_call() -> None:
    stream = AnswerStream()
    raw = '{"tool_call": {"name": "add", "arguments": {"a": "x"}}}'

    shown = "".join(stream.feed(char) for char in raw)

    assert shown == ""
    assert stream.kind == "tool_call"
