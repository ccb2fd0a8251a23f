"""Sans-I/O connection state for one namespace socket, one class per role.

Theory of operation
-------------------
A connection object owns the per-socket protocol state: whether authentication is done,
which ids are open, and the id counters. Outgoing methods return the JSON text to send;
``receive(text)`` turns one incoming frame into exactly one event and never raises, so a
reader loop can call it blindly. The I/O layers (client transports, emulator server) own
the socket and route events by id.

Client ids: separate counters for calls, channels and the two subscription spaces, each
starting at 1 and never reused on one connection. A released id (the caller stopped
listening) is forgotten: later frames for it become a :class:`ProtocolViolation` without
attribution, which the I/O layer drops quietly.

Server side: the server tracks open channel ids so it can answer duplicates and packets for
unknown channels with the ``communicationWarning`` kinds LM Studio uses, and it emits at
most :data:`MAX_WARNINGS` warnings per connection.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import from_json

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
from .messages import (
    AuthPacket,
    AuthResult,
    ChannelAck,
    ChannelClose,
    ChannelCreate,
    ChannelError,
    ChannelSend,
    CommunicationWarning,
    KeepAlive,
    KeepAliveAck,
    RpcCall,
    RpcError,
    RpcResult,
    SerializedError,
    SignalError,
    SignalSubscribe,
    SignalUnsubscribe,
    SignalUpdate,
    WritableSignalError,
    WritableSignalSubscribe,
    WritableSignalUnsubscribe,
    WritableSignalUpdate,
    parse_client_message,
    parse_server_message,
)

__all__ = [
    "ABSENT",
    "MAX_WARNINGS",
    "ClientConnection",
    "ConnectionState",
    "ServerConnection",
    "encode_json",
]

MAX_WARNINGS: Final = 5


class _Absent(Enum):
    ABSENT = "ABSENT"


ABSENT: Final = _Absent.ABSENT
"""Marks an omitted ``parameter`` / ``creationParameter`` / ``result`` (void endpoints)."""


class ConnectionState(Enum):
    AWAITING_AUTH = "awaiting_auth"
    OPEN = "open"
    CLOSED = "closed"


_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dumps(data: dict[str, Any]) -> str:
    # One shared encoder: json.dumps() with options builds a new encoder for every call.
    return _ENCODER.encode(data)


def encode_json(value: Any) -> str:
    """Compact JSON text, exactly as every frame of this module is encoded."""
    return _ENCODER.encode(value)


def _error_dict(error: SerializedError | dict[str, Any]) -> dict[str, Any]:
    if isinstance(error, SerializedError):
        return error.model_dump(by_alias=True, exclude_none=True)
    return error


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "message"
    return f"{where}: {first['msg']}"


def _decode_object(data: str | bytes) -> dict[str, Any] | str:
    """Return the decoded JSON object, or a description of why it is not one."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"frame is not valid JSON: {exc}"
    if not isinstance(value, dict):
        return f"frame is not a JSON object but {type(value).__name__}"
    return value


class ClientConnection:
    """Client side of one namespace socket."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.state = ConnectionState.AWAITING_AUTH
        self._next_call_id = 1
        self._next_channel_id = 1
        self._next_subscribe_id = 1
        self._open_calls: set[int] = set()
        self._open_channels: set[int] = set()
        self._open_signals: set[int] = set()

    # -- outgoing -------------------------------------------------------------------

    def authenticate(self, client_identifier: str, client_passkey: str) -> str:
        """Return the auth packet; nothing else may be sent until the result arrives."""
        packet = AuthPacket(client_identifier=client_identifier, client_passkey=client_passkey)
        return _dumps(packet.model_dump(by_alias=True))

    def call(self, endpoint: str, parameter: Any = ABSENT) -> tuple[int, str]:
        """Start an RPC; returns its call id and the frame."""
        self._require_open()
        call_id = self._next_call_id
        self._next_call_id += 1
        self._open_calls.add(call_id)
        frame: dict[str, Any] = {"type": "rpcCall", "endpoint": endpoint, "callId": call_id}
        if parameter is not ABSENT:
            frame["parameter"] = parameter
        return call_id, _dumps(frame)

    def open_channel(self, endpoint: str, creation_parameter: Any = ABSENT) -> tuple[int, str]:
        """Open a channel; returns its channel id and the frame."""
        self._require_open()
        channel_id = self._next_channel_id
        self._next_channel_id += 1
        self._open_channels.add(channel_id)
        frame: dict[str, Any] = {
            "type": "channelCreate",
            "endpoint": endpoint,
            "channelId": channel_id,
        }
        if creation_parameter is not ABSENT:
            frame["creationParameter"] = creation_parameter
        return channel_id, _dumps(frame)

    def send_on_channel(self, channel_id: int, message: Any) -> str | None:
        """Return the frame for a packet on an open channel (``None`` if it is not open)."""
        if channel_id not in self._open_channels:
            return None
        return _dumps({"type": "channelSend", "channelId": channel_id, "message": message})

    def subscribe(self, endpoint: str, creation_parameter: Any = ABSENT) -> tuple[int, str]:
        """Subscribe to a read-only signal."""
        self._require_open()
        subscribe_id = self._next_subscribe_id
        self._next_subscribe_id += 1
        self._open_signals.add(subscribe_id)
        frame: dict[str, Any] = {
            "type": "signalSubscribe",
            "endpoint": endpoint,
            "subscribeId": subscribe_id,
        }
        if creation_parameter is not ABSENT:
            frame["creationParameter"] = creation_parameter
        return subscribe_id, _dumps(frame)

    def unsubscribe(self, subscribe_id: int) -> str | None:
        if subscribe_id not in self._open_signals:
            return None
        self._open_signals.discard(subscribe_id)
        return _dumps({"type": "signalUnsubscribe", "subscribeId": subscribe_id})

    def release_call(self, call_id: int) -> None:
        """Forget a call; a late reply becomes an unattributed violation."""
        self._open_calls.discard(call_id)

    def release_channel(self, channel_id: int) -> None:
        """Forget a channel; late packets become unattributed violations."""
        self._open_channels.discard(channel_id)

    @property
    def open_call_ids(self) -> frozenset[int]:
        return frozenset(self._open_calls)

    @property
    def open_channel_ids(self) -> frozenset[int]:
        return frozenset(self._open_channels)

    def fail_all(self, reason: str) -> list[ConnectionFailed]:
        """The socket died: one failure event per open call and channel; close the state."""
        events = [ConnectionFailed(i, None, reason) for i in sorted(self._open_calls)]
        events += [ConnectionFailed(None, i, reason) for i in sorted(self._open_channels)]
        self._open_calls.clear()
        self._open_channels.clear()
        self._open_signals.clear()
        self.state = ConnectionState.CLOSED
        return events

    def _require_open(self) -> None:
        if self.state is not ConnectionState.OPEN:
            raise RuntimeError(f"connection to {self.namespace!r} is {self.state.value}")

    # -- incoming -------------------------------------------------------------------

    def receive(self, data: str | bytes) -> ClientEvent:
        """Turn one incoming frame into one event. Never raises."""
        if self.state is ConnectionState.AWAITING_AUTH:
            return self._receive_auth_result(data)
        event = self._receive_common(data)
        if event is not None:
            return event
        try:
            message = parse_server_message(data)
        except ValidationError as exc:
            return self._classify_invalid(data, exc)
        return self._route(message)

    def _receive_common(self, data: str | bytes) -> ClientEvent | None:
        """Fast path for the frames that dominate traffic, in their plain valid shape.

        A ``channelSend`` or ``rpcResult`` whose id is a JSON integer (and whose optional
        ``ackId`` is an integer or null) gives the event the validated path would give,
        without building a wire model: the same JSON parser, then type checks. Anything
        else, including every invalid or unusual frame, returns ``None`` for the
        validated path to handle.
        """
        try:
            value = from_json(data)
        except ValueError:
            return None
        if type(value) is not dict:
            return None
        kind = value.get("type")
        if kind == "channelSend":
            channel_id = value.get("channelId")
            ack_id = value.get("ackId")
            if type(channel_id) is int and (ack_id is None or type(ack_id) is int):
                return self._channel_packet(channel_id, value.get("message"))
        elif kind == "rpcResult":
            call_id = value.get("callId")
            if type(call_id) is int:
                return self._rpc_result(call_id, value.get("result"))
        return None

    def _channel_packet(self, channel_id: int, payload: Any) -> ClientEvent:
        if channel_id in self._open_channels:
            return ChannelMessage(channel_id, payload)
        return ProtocolViolation(f"packet for channel {channel_id}, which is not open")

    def _rpc_result(self, call_id: int, result: Any) -> ClientEvent:
        return RpcSucceeded(call_id, result) if self._claimed(call_id) else self._late_call(call_id)

    def _receive_auth_result(self, data: str | bytes) -> ClientEvent:
        try:
            result = AuthResult.model_validate_json(data)
        except ValidationError as exc:
            return ProtocolViolation(f"invalid authentication result: {_describe(exc)}")
        if result.success:
            self.state = ConnectionState.OPEN
            return AuthAccepted()
        self.state = ConnectionState.CLOSED
        return AuthRejected(result.error or "authentication failed")

    def _route(self, message: Any) -> ClientEvent:
        match message:
            case ChannelSend(channel_id=cid, message=payload):
                return self._channel_packet(cid, payload)
            case RpcResult(call_id=cid, result=result):
                return self._rpc_result(cid, result)
            case RpcError(call_id=cid, error=error):
                if self._claimed(cid):
                    return RpcFailed(cid, SerializedError.from_wire(error))
                return self._late_call(cid)
            case ChannelClose(channel_id=cid):
                if cid in self._open_channels:
                    self._open_channels.discard(cid)
                    return ChannelClosed(cid)
                return ProtocolViolation(f"close for channel {cid}, which is not open")
            case ChannelError(channel_id=cid, error=error):
                if cid in self._open_channels:
                    self._open_channels.discard(cid)
                    return ChannelFailed(cid, SerializedError.from_wire(error))
                return ProtocolViolation(f"error for channel {cid}, which is not open")
            case CommunicationWarning(warning=text, kind=kind):
                return PeerWarning(text, kind)
            case SignalUpdate(subscribe_id=sid, patches=patches, tags=tags):
                return SignalUpdated(sid, patches, tags)
            case WritableSignalUpdate(subscribe_id=sid, patches=patches, tags=tags):
                return SignalUpdated(sid, patches, tags, writable=True)
            case SignalError(subscribe_id=sid, error=error):
                self._open_signals.discard(sid)
                return SignalFailed(sid, SerializedError.from_wire(error))
            case WritableSignalError(subscribe_id=sid, error=error):
                return SignalFailed(sid, SerializedError.from_wire(error), writable=True)
            case _:
                # keepAliveAck and channelAck carry nothing a client acts on.
                return UnknownMessage(str(getattr(message, "type", "?")), {})

    def _claimed(self, call_id: int) -> bool:
        if call_id in self._open_calls:
            self._open_calls.discard(call_id)
            return True
        return False

    @staticmethod
    def _late_call(call_id: int) -> ProtocolViolation:
        return ProtocolViolation(f"reply for call {call_id}, which is not pending")

    def _classify_invalid(self, data: str | bytes, exc: ValidationError) -> ClientEvent:
        decoded = _decode_object(data)
        if isinstance(decoded, str):
            return ProtocolViolation(decoded)
        message_type = decoded.get("type")
        known = _SERVER_TYPES
        if not isinstance(message_type, str) or message_type not in known:
            return UnknownMessage(str(message_type), decoded)
        call_id = decoded.get("callId")
        channel_id = decoded.get("channelId")
        description = f"invalid {message_type} message: {_describe(exc)}"
        if isinstance(channel_id, int) and channel_id in self._open_channels:
            self._open_channels.discard(channel_id)
            return ProtocolViolation(description, channel_id=channel_id)
        if isinstance(call_id, int) and self._claimed(call_id):
            return ProtocolViolation(description, call_id=call_id)
        return ProtocolViolation(description)


_SERVER_TYPES: Final = frozenset(
    {
        "rpcResult",
        "rpcError",
        "channelSend",
        "channelAck",
        "channelClose",
        "channelError",
        "signalUpdate",
        "signalError",
        "writableSignalUpdate",
        "writableSignalError",
        "communicationWarning",
        "keepAliveAck",
    }
)

_CLIENT_TYPES: Final = frozenset(
    {
        "rpcCall",
        "channelCreate",
        "channelSend",
        "channelAck",
        "signalSubscribe",
        "signalUnsubscribe",
        "writableSignalSubscribe",
        "writableSignalUnsubscribe",
        "writableSignalUpdate",
        "communicationWarning",
        "keepAlive",
    }
)

# Channel-related communicationWarning kinds, by the envelope type that carried the problem.
_INVALID_KIND: Final = {
    "rpcCall": "rpcParameterTypeError",
    "channelCreate": "channelCreationParameterTypeError",
    "channelSend": "channelMessageTypeError",
    "signalSubscribe": "signalCreationParameterTypeError",
    "writableSignalSubscribe": "writableSignalCreationParameterTypeError",
}


class ServerConnection:
    """Server side of one namespace socket."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.state = ConnectionState.AWAITING_AUTH
        self._open_channels: set[int] = set()
        self._warnings_sent = 0

    @property
    def open_channel_ids(self) -> frozenset[int]:
        return frozenset(self._open_channels)

    # -- incoming -------------------------------------------------------------------

    def receive(self, data: str | bytes) -> ServerEvent:
        """Turn one incoming frame into one event. Never raises."""
        if self.state is ConnectionState.AWAITING_AUTH:
            try:
                packet = AuthPacket.model_validate_json(data)
            except ValidationError as exc:
                return ProtocolViolation(f"ignored frame before authentication: {_describe(exc)}")
            return AuthRequested(packet.client_identifier, packet.client_passkey)
        try:
            message = parse_client_message(data)
        except ValidationError as exc:
            return self._classify_invalid(data, exc)
        return self._route(message)

    def _route(self, message: Any) -> ServerEvent:
        match message:
            case ChannelSend(channel_id=cid, message=payload):
                if cid in self._open_channels:
                    return ChannelMessage(cid, payload)
                return ProtocolViolation(
                    f"packet for unknown channel {cid}", warning_kind="channelUnknown"
                )
            case RpcCall(call_id=cid, endpoint=endpoint, parameter=parameter):
                has = "parameter" in message.model_fields_set
                return RpcRequested(cid, endpoint, parameter, has)
            case ChannelCreate(channel_id=cid, endpoint=endpoint, creation_parameter=param):
                if cid in self._open_channels:
                    return ProtocolViolation(
                        f"channel {cid} is already open", warning_kind="channelAlreadyOpen"
                    )
                has = "creation_parameter" in message.model_fields_set
                return ChannelRequested(cid, endpoint, param, has)
            case ChannelAck(channel_id=cid, ack_id=ack_id):
                return ChannelAcked(cid, ack_id)
            case SignalSubscribe(subscribe_id=sid, endpoint=endpoint):
                return SignalRequested(sid, endpoint, writable=False)
            case WritableSignalSubscribe(subscribe_id=sid, endpoint=endpoint):
                return SignalRequested(sid, endpoint, writable=True)
            case CommunicationWarning(warning=text, kind=kind):
                return PeerWarning(text, kind)
            case KeepAlive():
                return KeepAliveRequested()
            case SignalUnsubscribe() | WritableSignalUnsubscribe() | WritableSignalUpdate():
                return ProtocolViolation(
                    "no signal subscriptions are open", warning_kind="signalUnknown"
                )
            case _:
                return UnknownMessage(str(getattr(message, "type", "?")), {})

    def _classify_invalid(self, data: str | bytes, exc: ValidationError) -> ServerEvent:
        decoded = _decode_object(data)
        if isinstance(decoded, str):
            return ProtocolViolation(decoded, warning_kind="unknown")
        message_type = decoded.get("type")
        if not isinstance(message_type, str) or message_type not in _CLIENT_TYPES:
            return UnknownMessage(str(message_type), decoded)
        kind = _INVALID_KIND.get(message_type, "unknown")
        return ProtocolViolation(
            f"invalid {message_type} message: {_describe(exc)}", warning_kind=kind
        )

    # -- outgoing -------------------------------------------------------------------

    def accept_auth(self) -> str:
        self.state = ConnectionState.OPEN
        return _dumps({"success": True})

    def reject_auth(self, error: str) -> str:
        self.state = ConnectionState.CLOSED
        return _dumps({"success": False, "error": error})

    def rpc_result(self, call_id: int, result: Any = ABSENT) -> str:
        frame: dict[str, Any] = {"type": "rpcResult", "callId": call_id}
        if result is not ABSENT:
            frame["result"] = result
        return _dumps(frame)

    def rpc_error(self, call_id: int, error: SerializedError | dict[str, Any]) -> str:
        return _dumps({"type": "rpcError", "callId": call_id, "error": _error_dict(error)})

    def accept_channel(self, channel_id: int) -> None:
        """Mark a requested channel open (after validating its creation parameter)."""
        self._open_channels.add(channel_id)

    def channel_send(self, channel_id: int, message: Any) -> str | None:
        """Frame a packet on an open channel; ``None`` once the channel has ended."""
        if channel_id not in self._open_channels:
            return None
        return _dumps({"type": "channelSend", "channelId": channel_id, "message": message})

    def channel_send_encoded(self, channel_id: int, message_json: str) -> str | None:
        """Like :meth:`channel_send` for a packet already encoded with :func:`encode_json`.

        The frame is the same text :meth:`channel_send` produces for the decoded packet;
        streaming servers use it to encode hot packets without building a dict first.
        """
        if channel_id not in self._open_channels:
            return None
        return f'{{"type":"channelSend","channelId":{int(channel_id)},"message":{message_json}}}'

    def channel_close(self, channel_id: int) -> str | None:
        if channel_id not in self._open_channels:
            return None
        self._open_channels.discard(channel_id)
        return _dumps({"type": "channelClose", "channelId": channel_id})

    def channel_error(self, channel_id: int, error: SerializedError | dict[str, Any]) -> str | None:
        if channel_id not in self._open_channels:
            return None
        self._open_channels.discard(channel_id)
        return _dumps(
            {"type": "channelError", "channelId": channel_id, "error": _error_dict(error)}
        )

    def warning(self, text: str, kind: str | None = None) -> str | None:
        """Frame a ``communicationWarning``; ``None`` after :data:`MAX_WARNINGS`."""
        if self._warnings_sent >= MAX_WARNINGS:
            return None
        self._warnings_sent += 1
        frame: dict[str, Any] = {"type": "communicationWarning", "warning": text}
        if kind is not None:
            frame["kind"] = kind
        return _dumps(frame)

    def keep_alive_ack(self) -> str:
        return _dumps(KeepAliveAck().model_dump(by_alias=True))

    def raw(self, message: dict[str, Any]) -> str:
        """Frame an arbitrary object (fault injection: unknown message types)."""
        return _dumps(message)
