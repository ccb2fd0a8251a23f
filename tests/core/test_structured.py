from __future__ import annotations

import pytest
from lmstudio_core import GbnfGrammar
from lmstudio_core.structured import structured_output
from pydantic import BaseModel


class Person(BaseModel):
    name: str
    age: int


def test_pydantic_model() -> None:
    out = structured_output(Person)
    assert out is not None
    assert out.setting["type"] == "json"
    assert out.setting["jsonSchema"]["required"] == ["name", "age"]
    parsed, error = out.parse('{"name": "A", "age": 3}')
    assert parsed == Person(name="A", age=3)
    assert error is None
    parsed, error = out.parse('{"name": "A"}')
    assert parsed is None
    assert error is not None
    assert "Person" in error


def test_json_schema_dict() -> None:
    out = structured_output({"type": "object", "properties": {"x": {"type": "integer"}}})
    assert out is not None
    assert out.parse('{"x": 1}') == ({"x": 1}, None)
    parsed, error = out.parse("not json")
    assert parsed is None
    assert error is not None


def test_settings_passthrough_and_openai_style() -> None:
    setting = {"type": "json", "jsonSchema": {"type": "object"}}
    assert structured_output(setting).setting == setting  # type: ignore[union-attr]
    openai = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    assert structured_output(openai).setting == setting  # type: ignore[union-attr]


def test_grammar() -> None:
    out = structured_output(GbnfGrammar('root ::= "yes" | "no"'))
    assert out is not None
    assert out.setting["type"] == "gbnf"
    assert out.parse("yes") == ("yes", None)
    with pytest.raises(ValueError, match="empty"):
        structured_output(GbnfGrammar(" "))


@pytest.mark.parametrize(
    "bad", [{}, {"foo": 1}, {"type": "thing"}, {"type": "object", "properties": [1]}]
)
def test_invalid_schema(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="schema"):
        structured_output(bad)


def test_wrong_type() -> None:
    with pytest.raises(TypeError, match="response_format"):
        structured_output(int)  # type: ignore[arg-type]
    assert structured_output(None) is None
