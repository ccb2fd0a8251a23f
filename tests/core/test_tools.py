from __future__ import annotations

from typing import Literal

import pytest
from lmstudio_core import Tool
from lmstudio_core.tools import format_tool_output, to_tool, tool_config_fields
from pydantic import BaseModel


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Get the current weather.

    Args:
        city: The city name.
        unit: Temperature unit.
    """
    return f"sunny in {city}"


class Search(BaseModel):
    """Search the web."""

    query: str
    limit: int = 5


def test_tool_from_callable() -> None:
    tool = to_tool(get_weather)
    assert tool.name == "get_weather"
    assert tool.description == "Get the current weather."
    assert tool.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city name."},
            "unit": {"enum": ["c", "f"], "type": "string", "default": "c",
                     "description": "Temperature unit."},
        },
        "required": ["city"],
    }  # fmt: skip
    assert tool.implementation is get_weather
    assert tool.bind_arguments({"city": "Oslo"}) == {"city": "Oslo", "unit": "c"}
    with pytest.raises(ValueError, match="invalid arguments"):
        tool.bind_arguments({"unit": "k"})


def test_tool_from_pydantic_model() -> None:
    tool = to_tool(Search)
    assert tool.name == "Search"
    assert tool.description == "Search the web."
    assert tool.parameters["required"] == ["query"]
    assert "title" not in tool.parameters
    assert tool.implementation is None


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "function", "function": {"name": "f", "description": "d",
                                          "parameters": {"type": "object", "properties": {}}}},
        {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}},
    ],
)  # fmt: skip
def test_tool_from_dict(spec: dict[str, object]) -> None:
    assert to_tool(spec).to_wire() == {
        "type": "function",
        "function": {"name": "f", "description": "d",
                     "parameters": {"type": "object", "properties": {}}},
    }  # fmt: skip


def test_bad_tools() -> None:
    with pytest.raises(ValueError, match="needs a 'name'"):
        to_tool({"description": "x"})
    with pytest.raises(TypeError):
        to_tool(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\*args"):
        to_tool(lambda *a: None)
    with pytest.raises(ValueError, match="invalid tool name"):
        to_tool(Tool("has space"))


def test_tool_choice() -> None:
    tools = [to_tool(get_weather), to_tool(Search)]
    fields = tool_config_fields(tools, None)
    assert [f["key"] for f in fields] == ["llm.prediction.tools"]
    assert len(fields[0]["value"]["tools"]) == 2
    required = tool_config_fields(tools, "required")
    assert required[1]["value"] == {"type": "generic", "mode": "required"}
    none = tool_config_fields(tools, "none")
    assert none[0]["value"] == {"type": "none"}
    named = tool_config_fields(tools, "Search")
    assert [t["function"]["name"] for t in named[0]["value"]["tools"]] == ["Search"]
    assert named[1]["value"]["mode"] == "required"
    openai = tool_config_fields(tools, {"type": "function", "function": {"name": "get_weather"}})
    assert len(openai[0]["value"]["tools"]) == 1
    with pytest.raises(ValueError, match="not among the tools"):
        tool_config_fields(tools, "nope")
    with pytest.raises(ValueError, match="duplicate"):
        tool_config_fields([tools[0], tools[0]], None)
    with pytest.raises(ValueError, match="requires tools"):
        tool_config_fields([], "required")
    assert tool_config_fields([], None) == []


def test_tool_output_formatting() -> None:
    assert format_tool_output("plain") == "plain"
    assert format_tool_output({"a": 1}) == '{"a": 1}'
    assert format_tool_output(3) == "3"
