"""A ChatML-style prompt template for wire chat histories."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .chat_history import parts_of, role_of

_TOOLS_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_EPILOGUE = (
    "</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags."
)


def apply_prompt_template(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None
) -> str:
    """Render a chat history the way a ChatML model sees it.

    Each message becomes ``<|im_start|>role\\ncontent<|im_end|>\\n``; the result ends with
    ``<|im_start|>assistant\\n``. Tool definitions are listed in the system message, tool
    calls as ``<tool_call>`` blocks, tool results as ``<tool_response>`` blocks, image files
    as ``<image>`` and other files as ``<file:NAME>``.

    Args:
        messages: Wire chat messages.
        tools: Wire tool definitions (``{"type": "function", "function": {...}}``).

    Returns:
        The formatted prompt.
    """
    blocks: list[str] = []
    remaining = list(messages)
    system_text = ""
    if remaining and role_of(remaining[0]) == "system":
        system_text = _render_content(remaining.pop(0))
    if tools:
        system_text = (system_text + "\n\n" if system_text else "") + _render_tools(tools)
    if system_text:
        blocks.append(_block("system", system_text))
    for message in remaining:
        blocks.append(_block(role_of(message) or "user", _render_content(message)))
    blocks.append("<|im_start|>assistant\n")
    return "".join(blocks)


def _block(role: str, content: str) -> str:
    return f"<|im_start|>{role}\n{content}<|im_end|>\n"


def _render_tools(tools: Sequence[Mapping[str, Any]]) -> str:
    lines = [json.dumps(tool, ensure_ascii=False, sort_keys=True) for tool in tools]
    return _TOOLS_PREAMBLE + "".join(line + "\n" for line in lines) + _TOOLS_EPILOGUE


def _render_content(message: Mapping[str, Any]) -> str:
    rendered: list[str] = []
    for part in parts_of(message):
        kind = part.get("type")
        if kind == "text":
            rendered.append(str(part.get("text", "")))
        elif kind == "file":
            is_image = part.get("fileType") == "image"
            rendered.append("<image>" if is_image else f"<file:{part.get('name', '')}>")
        elif kind == "toolCallRequest":
            rendered.append(_render_call(part.get("toolCallRequest", {})))
        elif kind == "toolCallResult":
            rendered.append(f"<tool_response>\n{part.get('content', '')}\n</tool_response>")
    return "\n".join(item for item in rendered if item)


def _render_call(request: Mapping[str, Any]) -> str:
    call = {"name": request.get("name", ""), "arguments": request.get("arguments", {})}
    return f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>"
