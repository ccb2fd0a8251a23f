"""Default tool calling: picking tools, filling arguments, answering from tool results."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from engine_wire import (
    ADD,
    MULTIPLY,
    WEATHER,
    assistant,
    calls_of,
    function_tool,
    text_of,
    tool_results,
    user,
)
from jsonschema import Draft202012Validator
from lmstudio_core.emulator._engine import (
    DeterministicEngine,
    GenerationRequest,
    Piece,
    ToolCallPiece,
)
from pydantic import BaseModel, Field

CALL_ID = re.compile(r"call_[a-z0-9]{9}")


def _generate(text: str, tools: list[dict[str, Any]], **options: Any) -> list[Piece]:
    request = GenerationRequest("m", [user(text)], tools=tools, **options)
    return list(DeterministicEngine().generate(request))


def _arguments(call: ToolCallPiece) -> Any:
    return json.loads(call.arguments_json)


def test_plus_question_calls_add_with_the_numbers_in_order() -> None:
    pieces = _generate("What is 3 plus 5?", [MULTIPLY, ADD])

    [call] = calls_of(pieces)
    assert call.name == "add"
    assert _arguments(call) == {"a": 3, "b": 5}
    assert CALL_ID.fullmatch(call.call_id)
    assert text_of(pieces) == ""


def test_tool_name_mention_is_case_and_separator_insensitive() -> None:
    tool = function_tool("lookup_order_status", "", {"order": {"type": "string"}})

    for text in ("Please LOOKUP ORDER STATUS", "use lookup-order-status", "lookupOrderStatus?"):
        assert [call.name for call in calls_of(_generate(text, [tool]))] == [tool_name(tool)]


def tool_name(tool: dict[str, Any]) -> str:
    return str(tool["function"]["name"])


def test_two_description_words_are_enough_to_call_a_tool() -> None:
    tool = function_tool("fx", "Convert currency amounts between exchange rates", {})

    [call] = calls_of(_generate("What are today's exchange rates for my currency?", [tool]))
    assert call.name == "fx"
    assert _arguments(call) == {}


def test_auto_answers_in_text_when_no_tool_matches() -> None:
    pieces = _generate("Tell me a joke about penguins", [ADD, WEATHER])

    assert calls_of(pieces) == []
    assert "penguins" in text_of(pieces)


def test_required_always_calls_a_tool_and_none_never_does() -> None:
    required = calls_of(_generate("Tell me a joke", [WEATHER, ADD], tool_choice="required"))
    none = _generate("What is 3 plus 5?", [ADD], tool_choice="none")

    assert [call.name for call in required] == ["get_current_weather"]
    assert calls_of(none) == []
    assert text_of(none).endswith(".")


def test_arguments_use_quoted_strings_proper_nouns_and_enum_mentions() -> None:
    quoted = calls_of(_generate('Get the weather for "New York" in celsius', [WEATHER]))
    named = calls_of(_generate("What's the weather like in Paris, in fahrenheit?", [WEATHER]))

    assert _arguments(quoted[0]) == {"location": "New York", "unit": "celsius"}
    assert _arguments(named[0]) == {"location": "Paris", "unit": "fahrenheit"}


def test_numbers_outside_the_bounds_are_skipped() -> None:
    tool = function_tool(
        "set_volume", "", {"level": {"type": "integer", "minimum": 0, "maximum": 10}}
    )

    [call] = calls_of(_generate("set volume: channel 42, level 7", [tool]))
    assert _arguments(call) == {"level": 7}


def test_two_requests_joined_by_and_give_one_call_each() -> None:
    pieces = _generate("What is 3 plus 5 and what is 4 times 2?", [ADD, MULTIPLY])

    calls = calls_of(pieces)
    assert [(call.name, _arguments(call)) for call in calls] == [
        ("add", {"a": 3, "b": 5}),
        ("multiply", {"a": 4, "b": 2}),
    ]
    assert len({call.call_id for call in calls}) == 2


def test_same_tool_requested_twice_is_called_twice() -> None:
    calls = calls_of(_generate("Add 1 and 2, then add 10 and 20", [ADD]))

    assert [_arguments(call) for call in calls] == [{"a": 1, "b": 2}, {"a": 10, "b": 20}]


def test_two_tool_names_mentioned_give_two_calls() -> None:
    clock = function_tool("get_time", "Current time in a city", {"city": {"type": "string"}})

    calls = calls_of(_generate("Use get_current_weather and get_time for Tokyo", [WEATHER, clock]))

    assert [call.name for call in calls] == ["get_current_weather", "get_time"]
    assert _arguments(calls[0])["location"] == "Tokyo"
    assert _arguments(calls[1]) == {"city": "Tokyo"}


def test_tools_without_parameters_get_empty_arguments() -> None:
    bare = {"type": "function", "function": {"name": "ping"}}
    empty = {"type": "function", "function": {"name": "pong", "parameters": {}}}

    calls = calls_of(_generate("ping and pong", [bare, empty]))

    assert [(call.name, call.arguments_json) for call in calls] == [("ping", "{}"), ("pong", "{}")]


def test_call_ids_are_deterministic() -> None:
    first = calls_of(_generate("What is 3 plus 5?", [ADD]))
    second = calls_of(_generate("What is 3 plus 5?", [ADD]))

    assert first == second


class Address(BaseModel):
    street: str
    city: str


class Order(BaseModel):
    quantity: int = Field(ge=1, le=20)
    address: Address
    gift: bool | None = None


def test_arguments_validate_against_pydantic_parameters_with_defs() -> None:
    schema = Order.model_json_schema()
    tool = {
        "type": "function",
        "function": {"name": "place_order", "description": "Order", "parameters": schema},
    }

    for seed in range(10):
        pieces = _generate("Call place_order for 3 books to Lisbon", [tool], seed=seed)
        arguments = _arguments(calls_of(pieces)[0])
        assert Draft202012Validator(schema).is_valid(arguments)
        assert arguments["quantity"] == 3


def test_tool_result_is_reported_verbatim() -> None:
    history = [
        user("What is 3 plus 5?"),
        assistant("", {"type": "function", "id": "call_1", "name": "add", "arguments": {}}),
        tool_results(("call_1", "8")),
    ]

    pieces = list(DeterministicEngine().generate(GenerationRequest("m", history, tools=[ADD])))

    assert calls_of(pieces) == []
    assert text_of(pieces) == "The result is 8."


def test_several_tool_results_are_named_in_the_answer() -> None:
    history = [
        user("What is 3 plus 5 and 4 times 2?"),
        assistant(
            "",
            {"type": "function", "id": "a", "name": "add", "arguments": {"a": 3, "b": 5}},
            {"type": "function", "name": "multiply", "arguments": {"a": 4, "b": 2}},
        ),
        tool_results(("a", "8"), (None, "8.0")),
    ]
    request = GenerationRequest("m", history, tools=[ADD, MULTIPLY])

    text = text_of(list(DeterministicEngine().generate(request)))

    assert text == "Here are the results: add returned 8 and multiply returned 8.0."


def test_reasoning_model_thinks_before_calling_and_before_answering() -> None:
    calling = [_text(p) for p in _generate("What is 3 plus 5?", [ADD], reasoning=True)]
    history = [user("What is 3 plus 5?"), assistant(""), tool_results((None, '"eight"'))]
    request = GenerationRequest("m", history, reasoning=True)
    answering = [_text(p) for p in DeterministicEngine().generate(request)]

    assert calling[0] == "<think>"
    assert "add" in "".join(calling[: calling.index("</think>")])
    assert calling[-1] == "call:add"
    assert answering[0] == "<think>"
    assert "".join(answering[answering.index("</think>") + 1 :]) == 'The result is "eight".'


def _text(piece: Piece) -> str:
    return f"call:{piece.name}" if isinstance(piece, ToolCallPiece) else piece.text


@pytest.mark.parametrize("tool_choice", ["auto", "required"])
def test_tools_are_only_called_after_a_user_message(tool_choice: Any) -> None:
    history = [user("What is 3 plus 5?"), assistant("Let me think.")]
    request = GenerationRequest("m", history, tools=[ADD], tool_choice=tool_choice)

    assert calls_of(list(DeterministicEngine().generate(request))) == []


def test_required_after_results_calls_a_requested_tool_not_called_yet() -> None:
    answer = function_tool("Answer", "The final answer", {"text": {"type": "string"}})
    question = "What is 3 plus 5 and the weather in Paris?"
    add_call = {"type": "function", "id": "call_1", "name": "add", "arguments": {"a": 3, "b": 5}}
    history = [user(question), assistant("", add_call), tool_results(("call_1", "8"))]
    tools = [ADD, WEATHER, answer]

    def forced(history: list[dict[str, Any]]) -> list[ToolCallPiece]:
        request = GenerationRequest("m", history, tools=tools, tool_choice="required")
        return calls_of(list(DeterministicEngine().generate(request)))

    [weather] = forced(history)
    assert weather.name == "get_current_weather"
    assert _arguments(weather)["location"] == "Paris"

    weather_call = {"type": "function", "id": "call_2", "name": weather.name, "arguments": {}}
    history += [assistant("", weather_call), tool_results(("call_2", "sunny"))]
    [final] = forced(history)
    assert final.name == "Answer"  # every requested tool ran: the answer tool, offered last
