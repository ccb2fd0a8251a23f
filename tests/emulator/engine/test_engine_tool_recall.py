"""Tool choice "auto": natural prompts call the right tool, chit-chat does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_wire import ADD, WEATHER, calls_of, function_tool, user
from jsonschema import Draft202012Validator
from lmstudio_core.emulator._engine import DeterministicEngine, GenerationRequest

MAGIC = function_tool(
    "magic_function", "Applies a magic function to an input.", {"input": {"type": "integer"}}
)
ADD_TRACKED = function_tool(
    "add_tracked", "Add two numbers.", {"a": {"type": "integer"}, "b": {"type": "integer"}}
)
GET_WEATHER = function_tool(
    "get_weather", "Get the weather for a location", {"location": {"type": "string"}}
)
GET_TIME = function_tool("get_time", "Get the current time", {})
LOOKUP = function_tool("lookup", "Look up information", {"query": {"type": "string"}})
SEARCH = function_tool("search", "Search the web for information", {"query": {"type": "string"}})
ALL = [MAGIC, ADD_TRACKED, GET_WEATHER, GET_TIME, SEARCH]


def _calls(text: str, tools: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    request = GenerationRequest("m", [user(text)], tools=tools)
    pieces = list(DeterministicEngine().generate(request))
    return [(call.name, json.loads(call.arguments_json)) for call in calls_of(pieces)]


@pytest.mark.parametrize(
    ("text", "tools", "expected"),
    [
        ("What is the value of magic_function(3)?", [MAGIC], ("magic_function", {"input": 3})),
        ("Use the tool to add 12 and 30", [ADD], ("add", {"a": 12, "b": 30})),
        ("What is 12 + 30? Use the tool.", [ADD_TRACKED], ("add_tracked", {"a": 12, "b": 30})),
        ("What is 12 + 30?", [ADD_TRACKED], ("add_tracked", {"a": 12, "b": 30})),
        ("what's the weather like in Paris", [GET_WEATHER], ("get_weather", {"location": "Paris"})),
        ("Call get_time", [GET_TIME], ("get_time", {})),
        (
            "Please look up the population of France",
            [LOOKUP],
            ("lookup", {"query": "population of France"}),
        ),
        (
            "Please look up the population of France",
            [SEARCH],
            ("search", {"query": "population of France"}),
        ),
        (
            "Search the web for LM Studio release notes",
            ALL,
            ("search", {"query": "LM Studio release notes"}),
        ),
    ],
)
def test_natural_requests_call_the_tool(
    text: str, tools: list[dict[str, Any]], expected: tuple[str, Any]
) -> None:
    assert _calls(text, tools) == [expected]


@pytest.mark.parametrize(
    "text", ["Hi there", "Tell me a joke", "Hello! How are you today?", "Write a haiku"]
)
def test_chit_chat_does_not_call_tools(text: str) -> None:
    assert _calls(text, ALL) == []


def test_an_explicit_request_for_the_tool_picks_one_even_without_overlap() -> None:
    tool = function_tool("frobnicate", "Frobnicates things.", {"x": {"type": "integer"}})

    assert _calls("Please use the tool on 7", [tool]) == [("frobnicate", {"x": 7})]


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("What's the weather in San Francisco?", "San Francisco"),
        ("How warm is it in New York City today?", "New York City"),
        ("weather for Rio de Janeiro, please", "Rio de Janeiro"),
        ("Is it raining in the Lake District right now?", "Lake District"),
        ("What's the weather like in paris today?", "paris"),
    ],
)
def test_place_arguments_take_the_whole_name(text: str, location: str) -> None:
    [(name, arguments)] = _calls(text, [GET_WEATHER])

    assert name == "get_weather"
    assert arguments == {"location": location}


def test_quoted_strings_win_and_enum_mentions_stay() -> None:
    [(_, arguments)] = _calls('Weather for "Paris, Texas" in San Diego in celsius', [WEATHER])

    assert arguments == {"location": "Paris, Texas", "unit": "celsius"}


def test_two_string_parameters_take_different_phrases() -> None:
    tool = function_tool(
        "book_flight",
        "Book a flight",
        {"origin": {"type": "string"}, "destination": {"type": "string"}},
    )

    [(_, arguments)] = _calls("Book a flight from New York to San Francisco", [tool])

    assert arguments == {"origin": "New York", "destination": "San Francisco"}


def test_expression_parameters_take_the_arithmetic() -> None:
    tool = function_tool(
        "calculator", "Evaluate a math expression", {"expression": {"type": "string"}}
    )

    assert _calls("Use the calculator: what is 12 * 7 + 3?", [tool]) == [
        ("calculator", {"expression": "12 * 7 + 3"})
    ]


def test_phrases_that_break_the_schema_are_not_used() -> None:
    schema = {"type": "string", "maxLength": 5, "pattern": "^[A-Za-z ]+$"}
    tool = function_tool("get_weather", "Weather", {"location": schema})

    [(_, arguments)] = _calls("What's the weather in San Francisco?", [tool])

    assert Draft202012Validator(tool["function"]["parameters"]).is_valid(arguments)
    assert arguments["location"] != "San Francisco"


def test_optional_generic_strings_are_not_filled_with_prompt_phrases() -> None:
    parameters = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "note": {"type": "string"}},
        "required": ["city"],
    }
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": parameters}}

    for seed in range(5):
        request = GenerationRequest(
            "m", [user("Weather in Buenos Aires please")], tools=[tool], seed=seed
        )
        [call] = calls_of(list(DeterministicEngine().generate(request)))
        arguments = json.loads(call.arguments_json)
        assert arguments["city"] == "Buenos Aires"
        assert arguments.get("note") != "Buenos Aires"
