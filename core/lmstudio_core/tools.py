"""Tool definitions (from callables, pydantic models or dicts) and tool calls.

A :class:`Tool` is what the model sees (name, description, JSON schema of the
parameters) plus, optionally, the Python callable that ``act()`` runs. Tool-call
requests from the model arrive as :class:`ToolCallRequest`; their ids are the server's
when it sends one and synthesized otherwise, so a result can always be matched to its
request.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ValidationError, create_model

__all__ = [
    "Tool",
    "ToolCallRequest",
    "ToolChoice",
    "ToolLike",
    "UnsupportedToolError",
    "new_tool_call_id",
    "to_tool",
    "tool_config_fields",
]

ToolChoice = Literal["auto", "none", "required"] | str | Mapping[str, Any]
"""``"auto"``, ``"none"``, ``"required"``, or one tool: its name or an OpenAI-style
``{"type": "function", "function": {"name": ...}}``."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class UnsupportedToolError(TypeError):
    """An ``async`` tool was given to the blocking client (use ``AsyncClient``)."""


def new_tool_call_id() -> str:
    """A fresh tool-call id, for calls the server sent without one."""
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call requested by the model.

    Attributes:
        id: Matches the call to its result (``Chat.add_tool_result``).
        name: The tool's name.
        arguments: The parsed JSON arguments.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"type": "function", "id": self.id, "name": self.name, "arguments": self.arguments}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], fallback_id: str | None = None) -> ToolCallRequest:
        arguments = data.get("arguments")
        call_id = data.get("id") or fallback_id or new_tool_call_id()
        return cls(str(call_id), str(data.get("name", "")), dict(arguments or {}))


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool offered to the model.

    Attributes:
        name: What the model calls it.
        description: When and how to use it.
        parameters: JSON schema of the arguments (an object schema).
        implementation: The callable ``act()`` runs, if any.
    """

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    implementation: Callable[..., Any] | None = field(default=None, compare=False)
    arguments_model: type[BaseModel] | None = field(default=None, compare=False, repr=False)

    def to_wire(self) -> dict[str, Any]:
        function: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    def bind_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``arguments`` for the implementation (raises ``ValueError``)."""
        if self.arguments_model is None:
            return dict(arguments)
        try:
            validated = self.arguments_model.model_validate(dict(arguments))
        except ValidationError as exc:
            raise ValueError(f"invalid arguments for tool {self.name!r}: {exc}") from None
        return {name: getattr(validated, name) for name in type(validated).model_fields}


ToolLike = Tool | Callable[..., Any] | type[BaseModel] | Mapping[str, Any]


def to_tool(obj: ToolLike) -> Tool:
    """Build a :class:`Tool` from a callable, a pydantic model class, a dict or a Tool."""
    if isinstance(obj, Tool):
        tool = obj
    elif isinstance(obj, type) and issubclass(obj, BaseModel):
        tool = _tool_from_model(obj)
    elif isinstance(obj, Mapping):
        tool = _tool_from_dict(obj)
    elif callable(obj):
        tool = _tool_from_callable(obj)
    else:
        raise TypeError(
            f"a tool must be a function, a pydantic model class, a dict or a Tool, "
            f"not {type(obj).__name__}"
        )
    if not _NAME_RE.match(tool.name):
        raise ValueError(f"invalid tool name {tool.name!r}: use letters, digits, '_' or '-'")
    return tool


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            key: _strip_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(item) for item in schema]
    return schema


def _tool_from_model(model: type[BaseModel]) -> Tool:
    schema = _strip_titles(model.model_json_schema())
    description = inspect.getdoc(model) or ""
    if description == inspect.getdoc(BaseModel):
        description = ""
    schema.pop("description", None)
    return Tool(model.__name__, description, schema, None, model)


def _tool_from_dict(data: Mapping[str, Any]) -> Tool:
    function = data.get("function") if data.get("type") == "function" else data
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise ValueError(
            "a tool dict needs a 'name' (or OpenAI-style {'type': 'function', "
            "'function': {'name': ..., 'parameters': ...}})"
        )
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise ValueError(f"tool {function['name']!r}: 'parameters' must be a JSON schema object")
    implementation = data.get("implementation")
    return Tool(
        function["name"],
        str(function.get("description") or ""),
        dict(parameters),
        implementation if callable(implementation) else None,
    )


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its summary and per-argument descriptions."""
    summary_lines: list[str] = []
    args: dict[str, str] = {}
    section = "summary"
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            section = "args"
            continue
        if re.match(r"^(Returns|Raises|Yields|Examples?|Notes?):$", stripped):
            section = "other"
            continue
        if section == "summary":
            summary_lines.append(line)
        elif section == "args" and stripped:
            match = re.match(r"^(\w+)\s*(\([^)]*\))?:\s*(.*)$", stripped)
            if match and line.startswith((" ", "\t")) and match[1] not in args:
                current = match[1]
                args[current] = match[3]
            elif current is not None:
                args[current] = f"{args[current]} {stripped}".strip()
    return "\n".join(summary_lines).strip(), args


def _tool_from_callable(fn: Callable[..., Any]) -> Tool:
    name = getattr(fn, "__name__", type(fn).__name__)
    try:
        signature = inspect.signature(fn)
        hints = get_type_hints(fn)
    except (TypeError, ValueError, NameError) as exc:
        raise TypeError(f"cannot describe tool {name!r} from its signature: {exc}") from exc
    summary, arg_docs = _docstring_parts(inspect.getdoc(fn) or "")
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args and **kwargs cannot be described to a model")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    model = create_model(f"{name}_arguments", **fields)
    schema = _strip_titles(model.model_json_schema())
    for arg, text in arg_docs.items():
        prop = schema.get("properties", {}).get(arg)
        if isinstance(prop, dict) and text:
            prop.setdefault("description", text)
    return Tool(name, summary, schema, fn, model)


def _chosen_name(choice: ToolChoice, tools: Sequence[Tool]) -> str | None:
    """The single tool a choice names, or ``None`` for auto/none/required."""
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
        if not isinstance(name, str):
            raise ValueError("tool_choice dict must name a tool: {'function': {'name': ...}}")
    elif isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return None
        name = choice
    else:
        raise TypeError("tool_choice must be 'auto', 'none', 'required', a tool name or a dict")
    if name not in {tool.name for tool in tools}:
        raise ValueError(f"tool_choice names {name!r}, which is not among the tools given")
    return name


def tool_config_fields(
    tools: Sequence[Tool], tool_choice: ToolChoice | None
) -> list[dict[str, Any]]:
    """KV fields offering ``tools`` to the model under ``tool_choice``.

    LM Studio cannot force one named tool; naming one sends only that tool and requires a
    call.
    """
    names = [tool.name for tool in tools]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"duplicate tool names: {sorted(duplicates)}")
    choice = tool_choice or "auto"
    if not tools:
        if choice not in ("auto", "none"):
            raise ValueError("tool_choice requires tools")
        return []
    named = _chosen_name(choice, tools)
    if named is not None:
        tools = [tool for tool in tools if tool.name == named]
        choice = "required"
    if choice == "none":
        value: dict[str, Any] = {"type": "none"}
    else:
        value = {"type": "toolArray", "tools": [tool.to_wire() for tool in tools]}
    fields = [{"key": "llm.prediction.tools", "value": value}]
    if tool_choice is not None:
        mode = {"type": "generic", "mode": choice}
        fields.append({"key": "llm.prediction.toolChoice", "value": mode})
    return fields


def format_tool_output(value: Any) -> str:
    """The text sent back to the model for a tool's return value."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
