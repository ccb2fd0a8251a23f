"""Wire chats to OpenAI-style messages, and tool calling through constrained JSON.

The llama.cpp engine renders chats with the model's own template through xllamacpp's
OpenAI-compatible chat handler, so wire messages (``role`` + typed ``content`` parts) are
flattened to ``{"role", "content": str}`` here.

Tool calling
------------
SmolLM2-135M was not trained for tool use and its template ignores ``tools``, so the
engine implements tool calls itself:

* The tools are described in a system message (name, description, parameters schema and
  the reply format).
* ``tool_choice="required"``: the reply is constrained to the JSON schema
  ``{"name": <one tool name>, "arguments": <that tool's parameters>}`` (``anyOf`` over
  the tools), which always parses into a tool call.
* ``tool_choice="auto"``: the reply is constrained to either
  ``{"tool_call": {"name": ..., "arguments": ...}}`` or ``{"answer": "..."}``; the model
  decides by the key it writes first. An answer is streamed as plain text while it is
  generated (:class:`AnswerStream` decodes the JSON string incrementally); a tool call is
  emitted once complete.
* Earlier tool calls in the history are rendered as the ``{"tool_call": ...}`` JSON the
  model would have written, tool results as ``tool`` messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._errors import vision_not_supported

__all__ = [
    "AnswerStream",
    "ToolPlan",
    "plan_tools",
    "to_openai_messages",
]

_EMPTY_PARAMETERS: Final[Mapping[str, Any]] = {"type": "object", "properties": {}}
_ESCAPES: Final = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_KEY_RE: Final = re.compile(r'\s*\{\s*"(answer|tool_call)"\s*:\s*')


@dataclass(frozen=True, slots=True)
class _Tool:
    name: str
    description: str
    parameters: Mapping[str, Any]


def _tools(tools: Sequence[Mapping[str, Any]]) -> list[_Tool]:
    result = []
    for tool in tools:
        function: Mapping[str, Any] = tool.get("function", tool)
        name = function.get("name")
        if not isinstance(name, str) or not name:
            continue
        parameters = function.get("parameters")
        if not isinstance(parameters, Mapping) or not parameters:
            parameters = _EMPTY_PARAMETERS
        result.append(_Tool(name, str(function.get("description") or ""), parameters))
    return result


@dataclass(frozen=True, slots=True)
class ToolPlan:
    """How a request with tools is generated.

    Attributes:
        mode: ``required`` (the reply is a tool call) or ``auto`` (a tool call or an answer).
        schema: The JSON schema the reply is constrained to.
        instructions: The system text that describes the tools and the reply format.
    """

    mode: Literal["auto", "required"]
    schema: Mapping[str, Any]
    instructions: str


def _call_schema(tools: Sequence[_Tool]) -> dict[str, Any]:
    options = [
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "enum": [tool.name]},
                "arguments": dict(tool.parameters),
            },
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
    ]
    return options[0] if len(options) == 1 else {"anyOf": options}


def plan_tools(tools: Sequence[Mapping[str, Any]], tool_choice: str) -> ToolPlan | None:
    """The tool plan for a request, or ``None`` when no tool may be called."""
    specs = _tools(tools)
    if not specs or tool_choice == "none":
        return None
    call = _call_schema(specs)
    lines = ["You can call these tools:"]
    for tool in specs:
        described = f": {tool.description}" if tool.description else ""
        parameters = json.dumps(tool.parameters, separators=(",", ":"))
        lines.append(f"- {tool.name}{described} Arguments (JSON schema): {parameters}")
    if tool_choice == "required":
        lines.append(
            'Call exactly one tool. Reply only with JSON: {"name": "<tool name>", '
            '"arguments": {<arguments>}}'
        )
        return ToolPlan("required", call, "\n".join(lines))
    lines.append(
        'To call a tool, reply with JSON: {"tool_call": {"name": "<tool name>", '
        '"arguments": {<arguments>}}}. Otherwise reply with JSON: {"answer": "<your reply>"}'
    )
    schema = {
        "anyOf": [
            {
                "type": "object",
                "properties": {"tool_call": call},
                "required": ["tool_call"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"answer": {"type": "string", "minLength": 1}},
                "required": ["answer"],
                "additionalProperties": False,
            },
        ]
    }
    return ToolPlan("auto", schema, "\n".join(lines))


def _text_of(message: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for part in message.get("content", []):
        kind = part.get("type")
        if kind == "text":
            parts.append(str(part.get("text", "")))
        elif kind == "toolCallResult":
            parts.append(str(part.get("content", "")))
        elif kind == "toolCallRequest":
            request = part.get("toolCallRequest") or {}
            call = {"name": request.get("name", ""), "arguments": request.get("arguments") or {}}
            parts.append(json.dumps({"tool_call": call}))
        elif kind == "file":
            if part.get("fileType") == "image":
                raise vision_not_supported()
            parts.append(f"[file: {part.get('name', '')}]")
    joiner = (
        "\n" if any(p.get("type") == "toolCallRequest" for p in message.get("content", [])) else ""
    )
    return joiner.join(parts)


def to_openai_messages(
    messages: Sequence[Mapping[str, Any]], plan: ToolPlan | None = None
) -> list[dict[str, str]]:
    """Flatten wire chat messages to ``{"role", "content"}`` dicts.

    With a tool plan, its instructions are added to the (first) system message.

    Raises:
        EmulatorError: A message holds an image (the model has no vision).
    """
    result = [{"role": str(m.get("role", "user")), "content": _text_of(m)} for m in messages]
    if plan is not None:
        if result and result[0]["role"] == "system":
            system = result[0]["content"]
            result[0] = {"role": "system", "content": f"{system}\n\n{plan.instructions}".strip()}
        else:
            result.insert(0, {"role": "system", "content": plan.instructions})
    return result


class AnswerStream:
    """Incrementally decode the reply to an ``auto`` tool plan.

    ``feed`` takes the raw generated JSON piece by piece and returns the part of the
    ``answer`` string that can be shown now (``""`` while the reply is, or may become,
    a tool call). :attr:`kind` is ``"answer"`` or ``"tool_call"`` once the first key has
    been written.
    """

    def __init__(self) -> None:
        self.raw = ""
        self.kind: str | None = None
        self._pos = 0
        self._opened = False
        self._closed = False

    def feed(self, piece: str) -> str:
        """Add generated text; return newly decoded answer text."""
        self.raw += piece
        if self.kind is None:
            match = _KEY_RE.match(self.raw)
            if match is None:
                return ""
            self.kind = match.group(1)
            self._pos = match.end()
        if self.kind != "answer" or self._closed:
            return ""
        return self._decode()

    def _decode(self) -> str:
        raw, i, out = self.raw, self._pos, []
        if not self._opened:
            while i < len(raw) and raw[i].isspace():
                i += 1
            self._pos = i
            if i >= len(raw) or raw[i] != '"':
                return ""
            self._opened, i = True, i + 1
        while i < len(raw):
            char = raw[i]
            if char == '"':
                self._closed, i = True, i + 1
                break
            if char != "\\":
                out.append(char)
                i += 1
                continue
            decoded, used = _escape(raw, i)
            if used == 0:
                break
            out.append(decoded)
            i += used
        self._pos = i
        return "".join(out)


def _escape(raw: str, i: int) -> tuple[str, int]:
    """Decode the escape at ``raw[i]`` (a backslash): (text, length), length 0 if partial."""
    if i + 1 >= len(raw):
        return "", 0
    kind = raw[i + 1]
    if kind != "u":
        return _ESCAPES.get(kind, kind), 2
    if i + 6 > len(raw):
        return "", 0
    code = int(raw[i + 2 : i + 6], 16)
    if 0xD800 <= code < 0xDC00:
        if i + 12 > len(raw):
            return "", 0
        low = int(raw[i + 8 : i + 12], 16)
        return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
    return chr(code), 6
