"""Fault injection: delays, slow tokens, dropped connections, errors, unknown messages.

Tests configure faults from any thread; the server's loop consumes them. One-shot
faults (``fail_next``, ``drop_connection_after``, ``drop_connection_on``,
``refuse_connections``, ``inject_unknown_*``) apply to the next matching request (or
connection) only. Fragment counts refer to ``fragment`` packets on prediction channels and
to every packet on other channels.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import EmulatorError

__all__ = ["Faults", "StreamFaults"]

DEFAULT_UNKNOWN_PACKET: dict[str, Any] = {"type": "emulatorUnknownPacket", "note": "injected"}
DEFAULT_UNKNOWN_MESSAGE: dict[str, Any] = {"type": "emulatorUnknownMessage", "note": "injected"}


@dataclass(frozen=True, slots=True)
class _Target:
    endpoint: str | None
    namespace: str | None

    def matches(self, namespace: str, endpoint: str) -> bool:
        return self.endpoint in (None, endpoint) and self.namespace in (None, namespace)


@dataclass(frozen=True, slots=True)
class _ErrorFault:
    target: _Target
    error: EmulatorError
    after: int | None


@dataclass(frozen=True, slots=True)
class _CountedFault:
    target: _Target
    after: int
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamFaults:
    """Faults armed for one channel, by packet count."""

    drop_after: int | None = None
    error_after: int | None = None
    error: EmulatorError | None = None
    unknown_after: int | None = None
    unknown_packet: dict[str, Any] | None = None

    @property
    def any(self) -> bool:
        return any(x is not None for x in (self.drop_after, self.error_after, self.unknown_after))


class Faults:
    """Fault controls shared by the emulator and the tests."""

    def __init__(self, tokens_per_second: float | None = None) -> None:
        self._lock = threading.Lock()
        self._delays: dict[tuple[str | None, str], float] = {}
        self._rates: dict[str | None, float | None] = {None: tokens_per_second}
        self._first_token: dict[str | None, float] = {}
        self._errors: list[_ErrorFault] = []
        self._drops: list[_CountedFault] = []
        self._request_drops: list[_Target] = []
        self._refusals: list[str | None] = []
        self._unknown_packets: list[_CountedFault] = []
        self._unknown_messages: list[_CountedFault] = []

    # -- configuration (any thread) ---------------------------------------------

    def delay(self, endpoint: str, seconds: float, *, namespace: str | None = None) -> None:
        """Delay every request to ``endpoint`` by ``seconds`` before handling it."""
        with self._lock:
            self._delays[(namespace, endpoint)] = seconds

    def set_tokens_per_second(self, rate: float | None, *, model: str | None = None) -> None:
        """Set the generation rate (``None``: unlimited) globally or for one model key."""
        with self._lock:
            self._rates[model] = rate

    def set_first_token_delay(self, seconds: float, *, model: str | None = None) -> None:
        """Wait ``seconds`` before the first fragment (globally or for one model key)."""
        with self._lock:
            self._first_token[model] = seconds

    def fail_next(
        self,
        endpoint: str,
        *,
        title: str = "Injected failure",
        cause: str | None = None,
        suggestion: str | None = None,
        display_data: Mapping[str, Any] | None = None,
        namespace: str | None = None,
        after_fragments: int | None = None,
    ) -> None:
        """Fail the next request to ``endpoint`` with a server error.

        With ``after_fragments`` the error comes mid-stream, as a ``channelError`` after
        that many fragments; otherwise the request fails at once.
        """
        error = EmulatorError(title, cause=cause, suggestion=suggestion, display_data=display_data)
        with self._lock:
            self._errors.append(_ErrorFault(_Target(endpoint, namespace), error, after_fragments))

    def drop_connection_after(
        self, fragments: int, *, endpoint: str = "predict", namespace: str | None = None
    ) -> None:
        """Abort the socket of the next ``endpoint`` channel after ``fragments`` fragments."""
        with self._lock:
            self._drops.append(_CountedFault(_Target(endpoint, namespace), fragments))

    def drop_connection_on(
        self, endpoint: str, *, namespace: str | None = None, times: int = 1
    ) -> None:
        """Abort the socket when the next request to ``endpoint`` arrives, unanswered.

        Works for RPCs (``listLoaded``, ``tokenize``, ``embedString``...) and channels
        (nothing is sent on the channel). With ``times`` the next ``times`` matching
        requests each lose their connection.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._request_drops.extend([_Target(endpoint, namespace)] * times)

    def refuse_connections(self, count: int = 1, *, namespace: str | None = None) -> None:
        """Answer the next ``count`` WebSocket handshakes with HTTP 503 (not listening yet).

        ``namespace`` limits it to sockets of one namespace (``llm``, ``embedding``...).
        The greeting endpoint is not affected.
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._refusals.extend([namespace] * count)

    def inject_unknown_packet(
        self,
        *,
        endpoint: str = "predict",
        after_fragments: int = 0,
        packet: Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> None:
        """Send a packet of an unknown ``type`` on the next ``endpoint`` channel."""
        payload = dict(packet) if packet is not None else dict(DEFAULT_UNKNOWN_PACKET)
        with self._lock:
            self._unknown_packets.append(
                _CountedFault(_Target(endpoint, namespace), after_fragments, payload)
            )

    def inject_unknown_message(
        self,
        *,
        endpoint: str | None = None,
        namespace: str | None = None,
        message: Mapping[str, Any] | None = None,
    ) -> None:
        """Send a top-level envelope of an unknown ``type`` before answering the next
        matching request (any request when ``endpoint`` is ``None``)."""
        payload = dict(message) if message is not None else dict(DEFAULT_UNKNOWN_MESSAGE)
        with self._lock:
            self._unknown_messages.append(_CountedFault(_Target(endpoint, namespace), 0, payload))

    def clear(self) -> None:
        """Remove every fault (the global token rate is kept)."""
        with self._lock:
            global_rate = self._rates.get(None)
            self._delays.clear()
            self._rates = {None: global_rate}
            self._first_token.clear()
            self._errors.clear()
            self._drops.clear()
            self._request_drops.clear()
            self._refusals.clear()
            self._unknown_packets.clear()
            self._unknown_messages.clear()

    # -- queries (server loop) -----------------------------------------------------

    def delay_for(self, namespace: str, endpoint: str) -> float:
        with self._lock:
            return self._delays.get((namespace, endpoint), self._delays.get((None, endpoint), 0.0))

    def tokens_per_second(self, model_key: str) -> float | None:
        with self._lock:
            if model_key in self._rates:
                return self._rates[model_key]
            return self._rates.get(None)

    def first_token_delay(self, model_key: str) -> float:
        with self._lock:
            return self._first_token.get(model_key, self._first_token.get(None, 0.0))

    def take_error(self, namespace: str, endpoint: str) -> EmulatorError | None:
        """Pop an immediate error for this request, if one is armed."""
        with self._lock:
            for fault in self._errors:
                if fault.after is None and fault.target.matches(namespace, endpoint):
                    self._errors.remove(fault)
                    return fault.error
        return None

    def take_request_drop(self, namespace: str, endpoint: str) -> bool:
        """Whether this request's connection must be dropped (consumes the fault)."""
        with self._lock:
            for target in self._request_drops:
                if target.matches(namespace, endpoint):
                    self._request_drops.remove(target)
                    return True
        return False

    def take_refusal(self, namespace: str) -> bool:
        """Whether this WebSocket handshake must be refused (consumes the fault)."""
        with self._lock:
            for wanted in self._refusals:
                if wanted in (None, namespace):
                    self._refusals.remove(wanted)
                    return True
        return False

    def take_unknown_message(self, namespace: str, endpoint: str) -> dict[str, Any] | None:
        with self._lock:
            fault = _pop(self._unknown_messages, namespace, endpoint)
        return fault.payload if fault else None

    def take_stream_faults(self, namespace: str, endpoint: str) -> StreamFaults:
        """Pop the counted faults armed for a new channel of ``endpoint``."""
        with self._lock:
            drop = _pop(self._drops, namespace, endpoint)
            unknown = _pop(self._unknown_packets, namespace, endpoint)
            error = None
            for fault in self._errors:
                if fault.after is not None and fault.target.matches(namespace, endpoint):
                    self._errors.remove(fault)
                    error = fault
                    break
        return StreamFaults(
            drop_after=drop.after if drop else None,
            error_after=error.after if error else None,
            error=error.error if error else None,
            unknown_after=unknown.after if unknown else None,
            unknown_packet=unknown.payload if unknown else None,
        )


def _pop(items: list[_CountedFault], namespace: str, endpoint: str) -> _CountedFault | None:
    for fault in items:
        if fault.target.matches(namespace, endpoint):
            items.remove(fault)
            return fault
    return None
