"""Reading LM Studio wire chat messages (``{"role", "content": [parts...]}``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One tool result of a ``tool`` message.

    Attributes:
        content: The result as sent (usually JSON text).
        name: Name of the tool, from the part or from the matching request (``""`` if unknown).
        call_id: The ``toolCallId`` of the result, if any.
    """

    content: str
    name: str
    call_id: str | None


def parts_of(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the content parts of a message (a plain string content becomes one text part)."""
    content = message.get("content", ())
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [part for part in content if isinstance(part, Mapping)]


def text_of(message: Mapping[str, Any]) -> str:
    """Return the concatenated text parts of a message."""
    return "".join(
        str(part.get("text", "")) for part in parts_of(message) if part.get("type") == "text"
    )


def files_of(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the file parts of a message."""
    return [part for part in parts_of(message) if part.get("type") == "file"]


def role_of(message: Mapping[str, Any]) -> str:
    """Return the role of a message (``""`` when missing)."""
    return str(message.get("role", ""))


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Return the text of the last ``user`` message (``""`` if there is none)."""
    for message in reversed(messages):
        if role_of(message) == "user":
            return text_of(message)
    return ""


def tools_called_since_user(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    """Return the names of the tools the assistant called after the last ``user`` message."""
    names: set[str] = set()
    for message in reversed(messages):
        role = role_of(message)
        if role == "user":
            break
        if role != "assistant":
            continue
        for part in parts_of(message):
            request = part.get("toolCallRequest")
            if part.get("type") == "toolCallRequest" and isinstance(request, Mapping):
                names.add(str(request.get("name", "")))
    return names


def trailing_tool_results(messages: Sequence[Mapping[str, Any]]) -> list[ToolResult]:
    """Return the results of the ``tool`` messages at the end of the history, in order.

    Tool names come from the result part's ``name`` or from the assistant request whose id
    matches ``toolCallId`` (or, failing that, from the requests in order).
    """
    end = len(messages)
    start = end
    while start > 0 and role_of(messages[start - 1]) == "tool":
        start -= 1
    requests = _requests_before(messages, start)
    by_id = {request_id: name for request_id, name in requests if request_id}
    results: list[ToolResult] = []
    for message in messages[start:end]:
        for part in parts_of(message):
            if part.get("type") != "toolCallResult":
                continue
            call_id = part.get("toolCallId")
            name = part.get("name") or by_id.get(str(call_id), "")
            if not name and len(results) < len(requests):
                name = requests[len(results)][1]
            results.append(_result(part, str(name), call_id))
    return results


def _result(part: Mapping[str, Any], name: str, call_id: Any) -> ToolResult:
    content = part.get("content", "")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return ToolResult(text, name, str(call_id) if call_id is not None else None)


def _requests_before(
    messages: Sequence[Mapping[str, Any]], index: int
) -> list[tuple[str | None, str]]:
    if index == 0 or role_of(messages[index - 1]) != "assistant":
        return []
    requests: list[tuple[str | None, str]] = []
    for part in parts_of(messages[index - 1]):
        request = part.get("toolCallRequest")
        if part.get("type") == "toolCallRequest" and isinstance(request, Mapping):
            request_id = request.get("id")
            requests.append((str(request_id) if request_id else None, str(request.get("name"))))
    return requests
