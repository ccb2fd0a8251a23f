"""Routing of one connection's incoming frames to the mailboxes of calls and channels.

Shared by the blocking and the asyncio transports: everything here is bookkeeping, no I/O.
A mailbox is anything with ``put_nowait`` (``queue.SimpleQueue`` on the blocking side,
``asyncio.Queue`` on the asyncio side). The lock is supplied by the transport: a
``threading.Lock`` where a reader thread and callers share the state, a null context where
one event loop owns it.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .errors import DisconnectedError
from .protocol import (
    ChannelClosed,
    ChannelFailed,
    ChannelMessage,
    ClientConnection,
    ClientEvent,
    ConnectionFailed,
    PeerWarning,
    ProtocolViolation,
    RpcFailed,
    RpcSucceeded,
    UnknownMessage,
)

__all__ = ["LOST", "Mailbox", "Router"]

logger = logging.getLogger("lmstudio_core.transport")

LOST = "the connection to LM Studio was lost"


class Mailbox(Protocol):
    def put_nowait(self, item: Any, /) -> None: ...


class Router:
    """The state of one authenticated connection: ids, open mailboxes, liveness."""

    def __init__(
        self, protocol: ClientConnection, namespace: str, lock: AbstractContextManager[Any]
    ) -> None:
        self.protocol = protocol
        self.namespace = namespace
        self.lock = lock
        self.calls: dict[int, Mailbox] = {}
        self.channels: dict[int, Mailbox] = {}
        self.alive = True
        self.closing = False
        self.failure: BaseException | None = None

    # -- incoming --------------------------------------------------------------------

    def route(self, text: str | bytes) -> None:
        """Turn one frame into an event and deliver it to whoever waits for it.

        The caller holds :attr:`lock` where callers in other threads share the state (the
        reader runs for every frame, so the lock is not taken here a second time)."""
        self._route(self.protocol.receive(text))

    def _route(self, event: ClientEvent) -> None:
        if isinstance(event, ChannelMessage):
            mailbox = self.channels.get(event.channel_id)
            if mailbox is not None:
                mailbox.put_nowait(event)
        elif isinstance(event, RpcSucceeded | RpcFailed):
            self._deliver(self.calls, event.call_id, event)
        elif isinstance(event, ChannelClosed | ChannelFailed):
            self._deliver(self.channels, event.channel_id, event)
        elif isinstance(event, ProtocolViolation):
            if event.call_id is not None:
                self._deliver(self.calls, event.call_id, event)
            elif event.channel_id is not None:
                self._deliver(self.channels, event.channel_id, event)
            else:
                logger.debug("%s: ignored: %s", self.namespace, event.description)
        elif isinstance(event, PeerWarning):
            # A cancel racing the end of its channel is expected: not worth a warning.
            level = logging.DEBUG if event.kind == "channelUnknown" else logging.WARNING
            logger.log(level, "LM Studio reported a protocol problem: %s", event.warning)
        elif isinstance(event, UnknownMessage):
            logger.warning("ignored unknown message type %r from LM Studio", event.message_type)
        else:
            logger.debug("%s: ignored %s", self.namespace, type(event).__name__)

    @staticmethod
    def _deliver(mailboxes: dict[int, Mailbox], key: int, event: object) -> None:
        mailbox = mailboxes.pop(key, None)
        if mailbox is not None:
            mailbox.put_nowait(event)

    def fail(self, cause: BaseException | None) -> None:
        """The socket is gone: every waiting call and channel gets ``ConnectionFailed``."""
        reason = "the client was closed" if self.closing else LOST
        with self.lock:
            self.alive = False
            self.failure = cause
            self.protocol.fail_all(reason)
            calls, channels = [*self.calls.items()], [*self.channels.items()]
            self.calls.clear()
            self.channels.clear()
        for call_id, mailbox in calls:
            mailbox.put_nowait(ConnectionFailed(call_id, None, reason))
        for channel_id, mailbox in channels:
            mailbox.put_nowait(ConnectionFailed(None, channel_id, reason))
        if not self.closing:
            logger.debug("%s connection ended: %r", self.namespace, cause)

    # -- outgoing --------------------------------------------------------------------

    def register_call(self, endpoint: str, parameter: Any, mailbox: Mailbox) -> tuple[int, str]:
        """Allocate a call id for ``mailbox``; returns it with the frame to send."""
        with self.lock:
            self._check_alive()
            call_id, text = self.protocol.call(endpoint, parameter)
            self.calls[call_id] = mailbox
        return call_id, text

    def register_channel(self, endpoint: str, parameter: Any, mailbox: Mailbox) -> tuple[int, str]:
        """Allocate a channel id for ``mailbox``; returns it with the frame to send."""
        with self.lock:
            self._check_alive()
            channel_id, text = self.protocol.open_channel(endpoint, parameter)
            self.channels[channel_id] = mailbox
        return channel_id, text

    def _check_alive(self) -> None:
        if not self.alive:
            raise DisconnectedError(LOST) from self.failure

    def channel_frame(self, channel_id: int, message: Any) -> str | None:
        """The frame that sends ``message`` on an open channel (``None`` once it ended)."""
        with self.lock:
            return self.protocol.send_on_channel(channel_id, message)

    def release_call(self, call_id: int) -> None:
        with self.lock:
            self.calls.pop(call_id, None)
            self.protocol.release_call(call_id)

    def release_channel(self, channel_id: int) -> None:
        with self.lock:
            self.channels.pop(channel_id, None)
            self.protocol.release_channel(channel_id)
