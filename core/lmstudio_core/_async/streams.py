"""Asyncio streams: a prediction and a model load, each over one channel.

Both are async context managers and async iterators of typed events. They drive the pure
state objects of the domain layer (:class:`PredictionState`, :class:`LoadState`); all they
add is waiting with the right timeout and cleaning up: leaving the ``async with`` block
early, an exception or a cancelled task sends the protocol's cancel packet and releases
the channel.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from ..catalog import LoadedModelInfo, LoadProgress, LoadState
from ..config import Timeouts
from ..errors import LMStudioError, ProtocolError
from ..prediction import PredictionEvent, PredictionState, TextFragment
from ..results import PredictionResult
from .transport import CLOSED, Channel

__all__ = ["AsyncLoadStream", "AsyncPredictionStream"]

H = TypeVar("H")


class _ChannelStream:
    """Shared mechanics: lazy start, timeouts, cancel and cleanup."""

    _what = "request"

    def __init__(self, start: Callable[[], Awaitable[Channel]], timeouts: Timeouts) -> None:
        self._start_channel = start
        self._timeouts = timeouts
        self._channel: Channel | None = None
        self._deadline: float | None = None
        self._cancel_requested = False
        self._abandoned = False

    async def __aenter__(self) -> Self:
        await self._ensure_started()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _ensure_started(self) -> Channel:
        if self._channel is None:
            if self._abandoned:
                raise RuntimeError(f"this {self._what} stream was closed; start a new one")
            first = self._timeouts.first_token
            self._deadline = None if first is None else time.monotonic() + first
            self._channel = await self._start_channel()
        return self._channel

    def _is_done(self) -> bool:
        raise NotImplementedError

    def _output_started(self) -> bool:
        raise NotImplementedError

    def _wait_timeout(self) -> float | None:
        if self._output_started() or self._deadline is None:
            return self._timeouts.idle
        return max(0.0, self._deadline - time.monotonic())

    async def _receive(self) -> Any:
        """The next packet (``CLOSED`` at the end); cleans up and re-raises on failure."""
        channel = await self._ensure_started()
        try:
            return await channel.receive(self._wait_timeout())
        except BaseException:
            self._abort()
            raise

    def _abort(self) -> None:
        if self._channel is not None and not self._is_done():
            self._channel.send_cancel()
            self._channel.release()
        self._abandoned = True

    async def close(self) -> None:
        """Stop the stream: cancel it on the server if it is still running."""
        if self._channel is None:
            self._abandoned = True
            return
        if not self._is_done() and not self._abandoned:
            self._channel.send_cancel()
        self._channel.release()
        self._abandoned = self._abandoned or not self._is_done()


class AsyncPredictionStream(_ChannelStream):
    """A running prediction: iterate for events, then await :meth:`result`.

    Use it as an async context manager so that leaving the block early cancels it::

        async with model.respond_stream("Tell me a story") as stream:
            async for event in stream:
                ...
            result = await stream.result()
    """

    _what = "prediction"

    def __init__(
        self,
        start: Callable[[], Awaitable[Channel]],
        state: PredictionState,
        timeouts: Timeouts,
    ) -> None:
        super().__init__(start, timeouts)
        self._state = state
        self._pending: deque[PredictionEvent] = deque()

    def _is_done(self) -> bool:
        return self._state.done

    def _output_started(self) -> bool:
        return self._state.first_output_seen

    def __aiter__(self) -> AsyncIterator[PredictionEvent]:
        return self

    async def __anext__(self) -> PredictionEvent:
        if self._pending:
            return self._pending.popleft()
        state = self._state
        while not state.done:
            message = await self._receive()
            if message is CLOSED:
                self._closed_without_result()
                break
            try:
                events = state.feed(message)
            except BaseException as exc:
                self._abort()
                if self._cancel_requested and isinstance(exc, LMStudioError):
                    state.finish_cancelled()
                    break
                raise
            if state.done and self._channel is not None:
                self._channel.release()
            if events:
                self._pending.extend(events[1:])
                return events[0]
        raise StopAsyncIteration

    def _closed_without_result(self) -> None:
        if self._cancel_requested:
            self._state.finish_cancelled()
            return
        raise ProtocolError("LM Studio closed the prediction without sending its result")

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """Iterate over the answer text only (no reasoning, no tool-call events)."""
        return self._text_only()

    async def _text_only(self) -> AsyncIterator[str]:
        async for event in self:
            if isinstance(event, TextFragment):
                yield event.text

    @property
    def text(self) -> str:
        """The answer text received so far."""
        return self._state.text

    @property
    def done(self) -> bool:
        return self._state.done

    async def result(self) -> PredictionResult:
        """Wait for the end of the prediction and return its result."""
        if self._state.result is None and self._abandoned:
            raise RuntimeError("the prediction was closed before it finished; no result")
        async for _ in self:
            pass
        assert self._state.result is not None
        return self._state.result

    def cancel(self) -> None:
        """Ask LM Studio to stop; keep iterating (or await ``result()``) for the partial
        result, whose stop reason is ``userStopped``."""
        if self._state.done or self._cancel_requested:
            return
        self._cancel_requested = True
        if self._channel is None:
            self._state.finish_cancelled()
            return
        self._channel.send_cancel()


class AsyncLoadStream(_ChannelStream, Generic[H]):
    """A model load in progress: iterate for :class:`LoadProgress`, then :meth:`result`."""

    _what = "load"

    def __init__(
        self,
        start: Callable[[], Awaitable[Channel]],
        timeouts: Timeouts,
        make_handle: Callable[[LoadedModelInfo], H],
    ) -> None:
        super().__init__(start, timeouts)
        self._state = LoadState()
        self._make_handle = make_handle
        self._pending: deque[LoadProgress] = deque()

    def _is_done(self) -> bool:
        return self._state.done

    def _output_started(self) -> bool:
        return self._state.model_key is not None or self._state.fraction > 0

    def __aiter__(self) -> AsyncIterator[LoadProgress]:
        return self

    async def __anext__(self) -> LoadProgress:
        if self._pending:
            return self._pending.popleft()
        while not self._state.done:
            message = await self._receive()
            if message is CLOSED:
                if self._cancel_requested:
                    raise RuntimeError("the load was cancelled")
                raise ProtocolError("LM Studio closed the load without sending its result")
            try:
                events = self._state.feed(message)
            except BaseException:
                self._abort()
                raise
            if self._state.done and self._channel is not None:
                self._channel.release()
            if events:
                self._pending.extend(events[1:])
                return events[0]
        raise StopAsyncIteration

    async def result(self) -> H:
        """Wait for the model to be loaded and return its handle."""
        if self._state.info is None and self._abandoned:
            raise RuntimeError("the load was closed before it finished")
        async for _ in self:
            pass
        assert self._state.info is not None
        return self._make_handle(self._state.info)

    def cancel(self) -> None:
        """Ask LM Studio to abort the load."""
        if self._state.done or self._cancel_requested:
            return
        self._cancel_requested = True
        if self._channel is not None:
            self._channel.send_cancel()
