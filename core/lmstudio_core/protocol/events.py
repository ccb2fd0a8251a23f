"""Events produced by the sans-I/O connection objects.

Each incoming frame becomes exactly one event. Events are plain values: the I/O layer
routes them by id and decides what to raise; nothing here raises into a reader loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .messages import SerializedError

__all__ = [
    "AuthAccepted",
    "AuthRejected",
    "AuthRequested",
    "ChannelAcked",
    "ChannelClosed",
    "ChannelFailed",
    "ChannelMessage",
    "ChannelRequested",
    "ClientEvent",
    "ConnectionFailed",
    "KeepAliveRequested",
    "PeerWarning",
    "ProtocolViolation",
    "RpcFailed",
    "RpcRequested",
    "RpcSucceeded",
    "ServerEvent",
    "SignalFailed",
    "SignalRequested",
    "SignalUpdated",
    "UnknownMessage",
]


# -- events seen by a client ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthAccepted:
    """The server accepted the auth packet."""


@dataclass(frozen=True, slots=True)
class AuthRejected:
    """The server refused the auth packet; it closes the socket next."""

    reason: str


@dataclass(frozen=True, slots=True)
class RpcSucceeded:
    call_id: int
    result: Any


@dataclass(frozen=True, slots=True)
class RpcFailed:
    call_id: int
    error: SerializedError


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """A packet on a channel (the endpoint's payload, normally a dict with ``type``)."""

    channel_id: int
    message: Any


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    channel_id: int


@dataclass(frozen=True, slots=True)
class ChannelFailed:
    channel_id: int
    error: SerializedError


@dataclass(frozen=True, slots=True)
class SignalUpdated:
    subscribe_id: int
    patches: list[Any]
    tags: list[str]
    writable: bool = False


@dataclass(frozen=True, slots=True)
class SignalFailed:
    subscribe_id: int
    error: SerializedError
    writable: bool = False


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The transport died: one per open id, produced by ``fail_all``."""

    call_id: int | None
    channel_id: int | None
    reason: str


# -- events seen by either side ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerWarning:
    """The peer sent a ``communicationWarning``; log it, never fail a request."""

    warning: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A well-formed JSON object whose ``type`` this side does not know."""

    message_type: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """Malformed JSON, a bad envelope, or a message for an id that is not open.

    ``call_id`` / ``channel_id`` are set when the bad message could be attributed to one
    open request, so the I/O layer can fail just that request. ``warning_kind`` is the
    ``communicationWarning`` kind a server answers with (``None``: stay silent).
    """

    description: str
    call_id: int | None = None
    channel_id: int | None = None
    warning_kind: str | None = None


# -- events seen by a server ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthRequested:
    client_identifier: str
    client_passkey: str


@dataclass(frozen=True, slots=True)
class RpcRequested:
    call_id: int
    endpoint: str
    parameter: Any
    has_parameter: bool


@dataclass(frozen=True, slots=True)
class ChannelRequested:
    channel_id: int
    endpoint: str
    creation_parameter: Any
    has_creation_parameter: bool


@dataclass(frozen=True, slots=True)
class ChannelAcked:
    channel_id: int
    ack_id: int


@dataclass(frozen=True, slots=True)
class SignalRequested:
    subscribe_id: int
    endpoint: str
    writable: bool


@dataclass(frozen=True, slots=True)
class KeepAliveRequested:
    """The client sent ``keepAlive``; answer with ``keepAliveAck``."""


ClientEvent = (
    AuthAccepted
    | AuthRejected
    | RpcSucceeded
    | RpcFailed
    | ChannelMessage
    | ChannelClosed
    | ChannelFailed
    | SignalUpdated
    | SignalFailed
    | PeerWarning
    | UnknownMessage
    | ProtocolViolation
)

ServerEvent = (
    AuthRequested
    | RpcRequested
    | ChannelRequested
    | ChannelMessage
    | ChannelAcked
    | SignalRequested
    | KeepAliveRequested
    | PeerWarning
    | UnknownMessage
    | ProtocolViolation
)
