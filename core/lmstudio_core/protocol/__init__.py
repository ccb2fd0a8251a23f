"""Sans-I/O protocol layer: wire models, connection state and events.

Nothing in this package performs I/O, starts threads or touches an event loop.
"""

from __future__ import annotations

from .connection import (
    ABSENT,
    MAX_WARNINGS,
    ClientConnection,
    ConnectionState,
    ServerConnection,
    encode_json,
)
from .events import (
    AuthAccepted,
    AuthRejected,
    AuthRequested,
    ChannelAcked,
    ChannelClosed,
    ChannelFailed,
    ChannelMessage,
    ChannelRequested,
    ClientEvent,
    ConnectionFailed,
    KeepAliveRequested,
    PeerWarning,
    ProtocolViolation,
    RpcFailed,
    RpcRequested,
    RpcSucceeded,
    ServerEvent,
    SignalFailed,
    SignalRequested,
    SignalUpdated,
    UnknownMessage,
)
from .messages import AuthPacket, AuthResult, SerializedError

__all__ = [
    "ABSENT",
    "MAX_WARNINGS",
    "AuthAccepted",
    "AuthPacket",
    "AuthRejected",
    "AuthRequested",
    "AuthResult",
    "ChannelAcked",
    "ChannelClosed",
    "ChannelFailed",
    "ChannelMessage",
    "ChannelRequested",
    "ClientConnection",
    "ClientEvent",
    "ConnectionFailed",
    "ConnectionState",
    "KeepAliveRequested",
    "PeerWarning",
    "ProtocolViolation",
    "RpcFailed",
    "RpcRequested",
    "RpcSucceeded",
    "SerializedError",
    "ServerConnection",
    "ServerEvent",
    "SignalFailed",
    "SignalRequested",
    "SignalUpdated",
    "UnknownMessage",
    "encode_json",
]
