"""Stepping through a text engine's reply, and closing it whatever happens.

A :class:`PieceSource` wraps the iterator returned by ``TextEngine.generate``. Each
:meth:`~PieceSource.next` returns the next piece, or :class:`Finished` with the
generator's return value (a real engine's statistics) once it is exhausted. A blocking
engine is stepped in a worker thread.

:meth:`~PieceSource.close` must be called when the prediction ends for any reason, so a
real engine stops generating at once. A generator cannot be closed while another thread
runs it: if a worker thread is inside ``next`` (the prediction was cancelled while it
waited for a token), the close is deferred and that thread closes the generator as soon
as its step returns.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._engines import TextChunk, ToolCallChunk

__all__ = ["Finished", "PieceSource"]


@dataclass(frozen=True, slots=True)
class Finished:
    """The engine's reply is complete; ``value`` is the generator's return value."""

    value: Any


class PieceSource:
    """The pieces of one reply, stepped inline or in a worker thread."""

    def __init__(self, pieces: Iterator[TextChunk | ToolCallChunk], blocking: bool) -> None:
        self._pieces = pieces
        self._blocking = blocking
        self._lock = threading.Lock()
        self._stepping = False
        self._close_requested = False
        self._closed = False

    async def next(self) -> TextChunk | ToolCallChunk | Finished:
        """The next piece, or :class:`Finished` (also after :meth:`close`)."""
        if self._blocking:
            return await asyncio.to_thread(self._step)
        return self._step()

    def close(self) -> None:
        """Close the engine's iterator now, or as soon as a running step returns."""
        with self._lock:
            if self._stepping:
                self._close_requested = True
            else:
                self._close_locked()

    def _step(self) -> TextChunk | ToolCallChunk | Finished:
        with self._lock:
            if self._closed:
                return Finished(None)
            self._stepping = True
        try:
            return next(self._pieces)
        except StopIteration as stop:
            return Finished(stop.value)
        finally:
            with self._lock:
                self._stepping = False
                if self._close_requested:
                    self._close_locked()

    def _close_locked(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._pieces, "close", None)
        if callable(close):
            close()
