"""The ``act()`` loop: predict, run the requested tools, send the results, repeat.

Theory of operation
-------------------
:class:`ActLoop` is a pure state machine both clients drive. Each round the client asks
for :meth:`ActLoop.next_round` (the chat to send and the tools to offer), runs an
ordinary prediction, and hands the result to :meth:`ActLoop.finish_round`, which returns
the tool calls to execute. The client executes them (sync, or awaiting coroutines) and
reports each outcome with :meth:`ActLoop.record`. The loop ends when the model answers
without calling a tool, calls a tool that has no implementation, or the round limit is
reached (tools are withdrawn on the last round so the model must answer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .history import Chat
from .results import ActResult, PredictionResult
from .tools import Tool, ToolCallRequest, format_tool_output

__all__ = ["ActLoop", "ToolInvocation"]


@dataclass(frozen=True, slots=True)
class ToolInvocation:
    """One tool call to execute: call ``function(**arguments)``, or report ``error``."""

    request: ToolCallRequest
    function: Callable[..., Any] | None
    arguments: dict[str, Any]
    error: str | None = None


class ActLoop:
    """State of one ``act()`` call."""

    def __init__(self, chat: Chat, tools: Sequence[Tool], max_rounds: int | None) -> None:
        if max_rounds is not None and max_rounds < 1:
            raise ValueError("max_rounds must be at least 1 (or None for no limit)")
        if not tools:
            raise ValueError("act() needs at least one tool; use respond() otherwise")
        self.chat = chat
        self.tools = list(tools)
        self._by_name = {tool.name: tool for tool in self.tools}
        self._max_rounds = max_rounds
        self._rounds: list[PredictionResult] = []
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def next_round(self) -> tuple[Chat, list[Tool]]:
        """The chat to send and the tools to offer (none on the last allowed round)."""
        last = self._max_rounds is not None and len(self._rounds) + 1 >= self._max_rounds
        return self.chat, [] if last else self.tools

    def finish_round(self, result: PredictionResult) -> list[ToolInvocation]:
        """Record a round's result; returns the tool calls to execute now."""
        self._rounds.append(result)
        self.chat.add_assistant_response(result.content, result.tool_calls)
        if not result.tool_calls or result.stop_reason == "userStopped":
            self._done = True
            return []
        invocations = [self._invocation(request) for request in result.tool_calls]
        if any(inv.function is None and inv.error is None for inv in invocations):
            self._done = True  # a tool without implementation: the caller takes over
            return []
        return invocations

    def _invocation(self, request: ToolCallRequest) -> ToolInvocation:
        tool = self._by_name.get(request.name)
        if tool is None:
            known = ", ".join(self._by_name)
            error = f"Error: there is no tool named {request.name!r} (available: {known})"
            return ToolInvocation(request, None, {}, error)
        if tool.implementation is None:
            return ToolInvocation(request, None, {})
        try:
            arguments = tool.bind_arguments(request.arguments)
        except ValueError as exc:
            return ToolInvocation(request, None, {}, f"Error: {exc}")
        return ToolInvocation(request, tool.implementation, arguments)

    def record(
        self, invocation: ToolInvocation, value: Any = None, error: Exception | None = None
    ) -> None:
        """Add a tool's outcome (its return value or the exception it raised) to the chat."""
        if invocation.error is not None:
            text = invocation.error
        elif error is not None:
            text = f"Error: tool {invocation.request.name!r} raised {type(error).__name__}: {error}"
        else:
            text = format_tool_output(value)
        self.chat.add_tool_result(invocation.request, text)

    def result(self) -> ActResult:
        return ActResult(list(self._rounds), self.chat)
