"""Scripted turns: exact replies queued by tests instead of the default generation."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    """A tool call that a scripted turn requests.

    Attributes:
        name: Tool name.
        arguments: Tool arguments (serialised to JSON as given).
        id: Call id; when ``None`` a deterministic ``"call_..."`` id is synthesised.
    """

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptedError:
    """An error that a scripted turn raises instead of generating.

    Attributes:
        title: Short description of the failure.
        cause: Optional underlying cause.
        suggestion: Optional hint for the user.
    """

    title: str
    cause: str | None = None
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptedTurn:
    """One scripted reply.

    Pieces are emitted in this order: the think block (when ``reasoning`` is set), the
    ``text`` split into tokens, then the tool calls. When ``error`` is set, generation
    raises :class:`ScriptedFailure` instead.

    Attributes:
        text: Visible reply text.
        reasoning: Content of a ``<think>...</think>`` block emitted before the text.
        tool_calls: Tool calls emitted after the text.
        error: Error to raise instead of replying.
    """

    text: str | None = None
    reasoning: str | None = None
    tool_calls: Sequence[ScriptedToolCall] = ()
    error: ScriptedError | None = None


class ScriptedFailure(Exception):
    """Raised by generation when the scripted turn carries an error.

    Attributes:
        error: The scripted error (title, cause, suggestion).
    """

    def __init__(self, error: ScriptedError) -> None:
        """Wrap ``error``."""
        super().__init__(error.title)
        self.error = error


class ScriptQueue:
    """FIFO of scripted turns, each for one model key or for any model (``None``)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        """Create an empty queue."""
        self._entries: deque[tuple[str | None, ScriptedTurn]] = deque()

    def push(self, model_key: str | None, turn: ScriptedTurn) -> None:
        """Queue ``turn`` for the next generation of ``model_key`` (any model when ``None``)."""
        self._entries.append((model_key, turn))

    def pop_for(self, model_key: str) -> ScriptedTurn | None:
        """Remove and return the oldest turn queued for ``model_key`` or for any model."""
        for index, (key, turn) in enumerate(self._entries):
            if key is None or key == model_key:
                del self._entries[index]
                return turn
        return None

    def clear(self) -> None:
        """Forget every queued turn."""
        self._entries.clear()

    def __len__(self) -> int:
        """Return the number of queued turns."""
        return len(self._entries)
