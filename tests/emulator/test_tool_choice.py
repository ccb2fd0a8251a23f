"""``llm.prediction.toolChoice`` over raw frames: a forced choice holds after tool results.

LangChain's ``create_agent(..., response_format=ToolStrategy(Schema))`` offers the schema
as one more tool and forces a tool call on every turn, expecting the model to call the
schema tool once it has the tool results. With ``"auto"`` the model answers in text then.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from emulator_wire import LLM_KEY, REASONING_KEY, Wire, predict_params, text_of
from lmstudio_core.emulator import EmulatorThread

QUESTION = "What is the weather in Paris?"


def _tool(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": list(properties)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


GET_WEATHER = _tool(
    "get_weather", "Get the current weather in a city.", {"city": {"type": "string"}}
)
# What LangChain's ToolStrategy sends for a pydantic schema: the schema as a tool, last.
CITY_REPORT = _tool(
    "CityReport",
    "A short report about a city.",
    {
        "city": {"type": "string", "description": "the city"},
        "temperature": {"type": "integer", "description": "degrees Celsius"},
        "conditions": {"type": "string", "description": "what it is like there"},
    },
)
ADD = _tool("add", "Add two numbers", {"a": {"type": "integer"}, "b": {"type": "integer"}})
ANSWER = _tool("Answer", "The final answer.", {"value": {"type": "number"}})


def _fields(tools: list[dict[str, Any]], mode: str | None) -> list[dict[str, Any]]:
    fields = [{"key": "llm.prediction.tools", "value": {"type": "toolArray", "tools": tools}}]
    if mode is not None:
        choice = {"type": "generic", "mode": mode}
        fields.append({"key": "llm.prediction.toolChoice", "value": choice})
    return fields


def _predict(
    llm: Wire,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    mode: str | None,
    model: str = LLM_KEY,
) -> list[dict[str, Any]]:
    params = predict_params(messages=messages, fields=_fields(tools, mode), model=model)
    packets, end = llm.stream("predict", params)
    assert end["type"] == "channelClose", end
    return packets


def _calls(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["toolCallRequest"] for p in packets if p["type"] == "toolCallGenerationEnd"]


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _round(question: str, request: dict[str, Any], result: str) -> list[dict[str, Any]]:
    """The history after one tool round: question, the call, its result."""
    return [
        _user(question),
        {"role": "assistant", "content": [{"type": "toolCallRequest", "toolCallRequest": request}]},
        {
            "role": "tool",
            "content": [{"type": "toolCallResult", "content": result, "toolCallId": request["id"]}],
        },
    ]


def _valid(call: dict[str, Any], tool: dict[str, Any]) -> bool:
    schema = tool["function"]["parameters"]
    return not list(jsonschema.Draft202012Validator(schema).iter_errors(call["arguments"]))


def test_required_after_a_tool_result_calls_the_schema_tool(llm: Wire) -> None:
    tools = [GET_WEATHER, CITY_REPORT]
    [first] = _calls(_predict(llm, [_user(QUESTION)], tools, "required"))
    assert first["name"] == "get_weather"
    assert first["arguments"] == {"city": "Paris"}

    result = json.dumps({"temperature": 24, "conditions": "sunny"})
    packets = _predict(llm, _round(QUESTION, first, result), tools, "required")

    [second] = _calls(packets)
    assert second["name"] == "CityReport"
    assert _valid(second, CITY_REPORT)
    # The model copies what the tool told it into the schema's fields.
    assert second["arguments"] == {"city": "Paris", "temperature": 24, "conditions": "sunny"}
    assert second["id"] != first["id"]
    assert text_of(packets) == ""
    assert packets[-1]["stats"]["stopReason"] == "toolCalls"


def test_auto_after_a_tool_result_answers_in_text(llm: Wire) -> None:
    tools = [GET_WEATHER, CITY_REPORT]
    [first] = _calls(_predict(llm, [_user(QUESTION)], tools, "auto"))
    history = _round(QUESTION, first, "It is sunny and 24 degrees in Paris.")

    for mode in ("auto", None):  # None: the client sent no choice, auto is LM Studio's default
        packets = _predict(llm, history, tools, mode)

        assert _calls(packets) == []
        assert "It is sunny and 24 degrees in Paris." in text_of(packets)
        assert packets[-1]["stats"]["stopReason"] == "eosFound"


def test_a_plain_text_result_fills_the_answer_tool(llm: Wire) -> None:
    tools = [ADD, ANSWER]
    [first] = _calls(_predict(llm, [_user("What is 3 plus 5?")], tools, "required"))
    assert (first["name"], first["arguments"]) == ("add", {"a": 3, "b": 5})

    packets = _predict(llm, _round("What is 3 plus 5?", first, "8"), tools, "required")

    [second] = _calls(packets)
    assert (second["name"], second["arguments"]) == ("Answer", {"value": 8})


def test_a_single_named_tool_is_called_again(llm: Wire) -> None:
    # Naming one tool, the SDKs send it alone with "required": every turn calls it.
    [first] = _calls(_predict(llm, [_user("What is 3 plus 5?")], [ADD], "required"))
    history = _round("What is 3 plus 5?", first, "8")

    [again] = _calls(_predict(llm, history, [ADD], "required"))

    assert again["name"] == "add"
    assert _valid(again, ADD)


def test_a_reasoning_model_thinks_then_calls_the_schema_tool(
    emu: EmulatorThread, llm: Wire
) -> None:
    emu.load_model(REASONING_KEY)
    tools = [GET_WEATHER, CITY_REPORT]
    request = {"type": "function", "id": "call_1", "name": "get_weather", "arguments": {}}
    history = _round(QUESTION, request, "It is sunny and 24 degrees in Paris.")

    packets = _predict(llm, history, tools, "required", model=REASONING_KEY)

    reasoning = [p for p in packets if p["type"] == "fragment"]
    assert reasoning[0]["fragment"]["reasoningType"] == "reasoningStartTag"
    [call] = _calls(packets)
    assert call["name"] == "CityReport"
    assert _valid(call, CITY_REPORT)
    assert call["arguments"]["temperature"] == 24
