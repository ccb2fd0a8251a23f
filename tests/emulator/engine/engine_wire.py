"""Builders of wire chat messages and tools shared by the engine tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmstudio_core.emulator._engine import (
    Piece,
    TextPiece,
    ToolCallPiece,
)


def user(text: str) -> dict[str, Any]:
    """Return a wire user message with one text part."""
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def system(text: str) -> dict[str, Any]:
    """Return a wire system message with one text part."""
    return {"role": "system", "content": [{"type": "text", "text": text}]}


def assistant(text: str, *calls: dict[str, Any]) -> dict[str, Any]:
    """Return a wire assistant message with text and tool call requests."""
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "toolCallRequest", "toolCallRequest": call} for call in calls]
    return {"role": "assistant", "content": parts}


def tool_results(*results: tuple[str | None, str]) -> dict[str, Any]:
    """Return a wire tool message from ``(call id, content)`` pairs."""
    parts = []
    for call_id, content in results:
        part: dict[str, Any] = {"type": "toolCallResult", "content": content}
        if call_id is not None:
            part["toolCallId"] = call_id
        parts.append(part)
    return {"role": "tool", "content": parts}


def function_tool(
    name: str, description: str = "", properties: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a wire tool definition whose parameters are all required."""
    props = properties or {}
    parameters = {"type": "object", "properties": props, "required": list(props)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


ADD = function_tool("add", "Add two numbers", {"a": {"type": "integer"}, "b": {"type": "integer"}})
MULTIPLY = function_tool(
    "multiply", "Multiply two numbers", {"a": {"type": "number"}, "b": {"type": "number"}}
)
WEATHER = function_tool(
    "get_current_weather",
    "Get the current weather for a location",
    {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
)


def text_of(pieces: Sequence[Piece]) -> str:
    """Return the concatenated text pieces."""
    return "".join(piece.text for piece in pieces if isinstance(piece, TextPiece))


def calls_of(pieces: Sequence[Piece]) -> list[ToolCallPiece]:
    """Return the tool call pieces."""
    return [piece for piece in pieces if isinstance(piece, ToolCallPiece)]
