"""JSON mode without a schema: small readable objects instead of ``{}``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_wire import system, text_of, user
from jsonschema import Draft202012Validator
from lmstudio_core.emulator._engine import DeterministicEngine, GenerationRequest

OBJECT = {"type": "object"}


def _value(messages: list[dict[str, Any]], schema: Any, seed: int | None = None) -> Any:
    request = GenerationRequest("m", messages, json_schema=schema, seed=seed)
    text = text_of(list(DeterministicEngine().generate(request)))
    value = json.loads(text)
    assert Draft202012Validator(schema).is_valid(value)
    return value


@pytest.mark.parametrize(
    ("prompt", "keys"),
    [
        (
            "Tell me a joke about cats. Respond in JSON with 'setup' and 'punchline'.",
            ["setup", "punchline"],
        ),
        ('Answer as JSON: {"question": ..., "answer": ...}', ["question", "answer"]),
        ("Return a JSON object with keys name and age for a pirate captain", ["name", "age"]),
        ("Give me JSON with fields title, year, genre about a movie", ["title", "year", "genre"]),
        ("Describe Paris as JSON with city and country fields", ["city", "country"]),
        ("Use the keys `first_name` and `last_name`", ["first_name", "last_name"]),
    ],
)
def test_keys_named_in_the_prompt_are_used(prompt: str, keys: list[str]) -> None:
    value = _value([user(prompt)], OBJECT)

    assert list(value) == keys
    assert all(item not in ("", None) for item in value.values())


def test_joke_values_are_strings_about_the_topic() -> None:
    value = _value([user("Tell me a joke about cats as JSON with 'setup' and 'punchline'")], OBJECT)

    assert isinstance(value["setup"], str)
    assert "cat" in value["setup"]
    assert isinstance(value["punchline"], str)
    assert value["punchline"] != value["setup"]


def test_without_named_keys_the_object_answers_and_names_the_topic() -> None:
    value = _value([user("Tell me about volcanoes")], OBJECT)

    assert list(value) == ["answer", "topic"]
    assert value["topic"] == "volcanoes"
    assert "volcanoes" in value["answer"]


def test_keys_can_come_from_the_system_prompt() -> None:
    messages = [
        system("Always answer in JSON with the keys `answer` and `confidence`."),
        user("What is the capital of France?"),
    ]

    value = _value(messages, OBJECT)

    assert list(value) == ["answer", "confidence"]
    assert 0 < value["confidence"] < 1


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {}},
        {"type": "object", "additionalProperties": True},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        {"type": "object", "minProperties": 4, "maxProperties": 5},
        {"type": "object", "maxProperties": 1},
        {"type": "object", "required": ["id"]},
        {"type": "object", "title": "Anything", "description": "free-form"},
    ],
)
def test_open_object_variants_stay_valid_and_non_empty(schema: dict[str, Any]) -> None:
    for seed in range(5):
        value = _value([user("Tell me about dogs with fields name and breed")], schema, seed)
        assert value


def test_closed_or_constrained_objects_keep_the_schema_driven_generation() -> None:
    closed = {"type": "object", "additionalProperties": False}
    patterned = {"type": "object", "patternProperties": {"^x": {"type": "integer"}}}

    assert _value([user("with keys a and b")], closed) == {}
    assert isinstance(_value([user("with keys a and b")], patterned), dict)


def test_open_objects_are_reproducible() -> None:
    messages = [user("Give me JSON with fields title and summary about whales")]

    assert _value(messages, OBJECT) == _value(messages, OBJECT)


def test_schema_fields_for_places_use_multi_word_names() -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }

    assert _value([user("Describe San Francisco in one line")], schema) == {"city": "San Francisco"}
