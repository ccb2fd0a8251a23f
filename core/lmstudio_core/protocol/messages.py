"""Wire models of LM Studio's WebSocket envelope.

Every frame on a namespace socket is one JSON object. The first client frame is the
:class:`AuthPacket`, answered by one :class:`AuthResult`; after that both sides exchange
envelope messages discriminated by ``type``. Payloads (RPC parameters and results, channel
packets) stay plain JSON values here: their shapes belong to the endpoints, not the envelope.

camelCase exists only in this module, through aliases. Unknown keys are ignored so newer
servers and clients can add fields; optional members are omitted on output, never sent as
``null`` (LM Studio's validators reject ``null`` for optional-only members).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

__all__ = [
    "AuthPacket",
    "AuthResult",
    "ChannelAck",
    "ChannelClose",
    "ChannelCreate",
    "ChannelError",
    "ChannelSend",
    "ClientMessage",
    "CommunicationWarning",
    "KeepAlive",
    "KeepAliveAck",
    "RpcCall",
    "RpcError",
    "RpcResult",
    "SerializedError",
    "ServerMessage",
    "SignalError",
    "SignalSubscribe",
    "SignalUnsubscribe",
    "SignalUpdate",
    "WritableSignalError",
    "WritableSignalSubscribe",
    "WritableSignalUnsubscribe",
    "WritableSignalUpdate",
    "dump_message",
    "parse_client_message",
    "parse_server_message",
]

MAX_CREDENTIAL_LENGTH = 256


class WireModel(BaseModel):
    """Base of every wire model: camelCase aliases, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class SerializedError(WireModel):
    """LM Studio's serialized error (``SerializedLMSExtendedError``)."""

    title: str = "Unknown error"
    cause: str | None = None
    suggestion: str | None = None
    error_data: dict[str, Any] | None = None
    display_data: dict[str, Any] | None = None
    stack: str | None = None
    root_title: str | None = None

    @property
    def code(self) -> str | None:
        """The ``displayData.code`` discriminator, if the server sent one."""
        if self.display_data is None:
            return None
        code = self.display_data.get("code")
        return code if isinstance(code, str) else None

    @classmethod
    def from_wire(cls, value: Any) -> SerializedError:
        """Parse leniently: a non-object error becomes a title-only error."""
        if isinstance(value, dict):
            clean = {k: v for k, v in value.items() if _lenient_member_ok(k, v)}
            return cls.model_validate(clean)
        return cls(title=str(value), root_title=str(value))


_STRING_MEMBERS = {"title", "cause", "suggestion", "stack", "rootTitle"}
_OBJECT_MEMBERS = {"errorData", "displayData"}


def _lenient_member_ok(key: str, value: Any) -> bool:
    if key in _STRING_MEMBERS:
        return isinstance(value, str)
    if key in _OBJECT_MEMBERS:
        return isinstance(value, dict)
    return False


# -- authentication -----------------------------------------------------------------


class AuthPacket(WireModel):
    """First client frame on every namespace socket."""

    auth_version: Literal[1] = 1
    client_identifier: str = Field(min_length=1, max_length=MAX_CREDENTIAL_LENGTH)
    client_passkey: str = Field(min_length=1, max_length=MAX_CREDENTIAL_LENGTH)


class AuthResult(WireModel):
    """First server frame: ``{"success": true}`` or ``{"success": false, "error": ...}``."""

    success: bool
    error: str | None = None


# -- client -> server ---------------------------------------------------------------


class RpcCall(WireModel):
    type: Literal["rpcCall"] = "rpcCall"
    endpoint: str
    call_id: int
    parameter: Any = None


class ChannelCreate(WireModel):
    type: Literal["channelCreate"] = "channelCreate"
    endpoint: str
    channel_id: int
    creation_parameter: Any = None


class ChannelSend(WireModel):
    """A packet on an open channel; sent by either side."""

    type: Literal["channelSend"] = "channelSend"
    channel_id: int
    message: Any = None
    ack_id: int | None = None


class ChannelAck(WireModel):
    type: Literal["channelAck"] = "channelAck"
    channel_id: int
    ack_id: int


class SignalSubscribe(WireModel):
    type: Literal["signalSubscribe"] = "signalSubscribe"
    endpoint: str
    subscribe_id: int
    creation_parameter: Any = None


class SignalUnsubscribe(WireModel):
    type: Literal["signalUnsubscribe"] = "signalUnsubscribe"
    subscribe_id: int


class WritableSignalSubscribe(WireModel):
    type: Literal["writableSignalSubscribe"] = "writableSignalSubscribe"
    endpoint: str
    subscribe_id: int
    creation_parameter: Any = None


class WritableSignalUnsubscribe(WireModel):
    type: Literal["writableSignalUnsubscribe"] = "writableSignalUnsubscribe"
    subscribe_id: int


class WritableSignalUpdate(WireModel):
    """A writable-signal patch set; sent by either side."""

    type: Literal["writableSignalUpdate"] = "writableSignalUpdate"
    subscribe_id: int
    patches: list[Any]
    tags: list[str]


class CommunicationWarning(WireModel):
    """A protocol problem report; sent by either side, only ever logged."""

    type: Literal["communicationWarning"] = "communicationWarning"
    warning: str
    kind: str | None = None


class KeepAlive(WireModel):
    type: Literal["keepAlive"] = "keepAlive"


# -- server -> client ---------------------------------------------------------------


class RpcResult(WireModel):
    type: Literal["rpcResult"] = "rpcResult"
    call_id: int
    result: Any = None


class RpcError(WireModel):
    type: Literal["rpcError"] = "rpcError"
    call_id: int
    error: Any = None


class ChannelClose(WireModel):
    type: Literal["channelClose"] = "channelClose"
    channel_id: int


class ChannelError(WireModel):
    type: Literal["channelError"] = "channelError"
    channel_id: int
    error: Any = None


class SignalUpdate(WireModel):
    type: Literal["signalUpdate"] = "signalUpdate"
    subscribe_id: int
    patches: list[Any]
    tags: list[str]


class SignalError(WireModel):
    type: Literal["signalError"] = "signalError"
    subscribe_id: int
    error: Any = None


class WritableSignalError(WireModel):
    type: Literal["writableSignalError"] = "writableSignalError"
    subscribe_id: int
    error: Any = None


class KeepAliveAck(WireModel):
    type: Literal["keepAliveAck"] = "keepAliveAck"


ClientMessage = Annotated[
    RpcCall
    | ChannelCreate
    | ChannelSend
    | ChannelAck
    | SignalSubscribe
    | SignalUnsubscribe
    | WritableSignalSubscribe
    | WritableSignalUnsubscribe
    | WritableSignalUpdate
    | CommunicationWarning
    | KeepAlive,
    Field(discriminator="type"),
]

ServerMessage = Annotated[
    RpcResult
    | RpcError
    | ChannelSend
    | ChannelAck
    | ChannelClose
    | ChannelError
    | SignalUpdate
    | SignalError
    | WritableSignalUpdate
    | WritableSignalError
    | CommunicationWarning
    | KeepAliveAck,
    Field(discriminator="type"),
]

_CLIENT_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
_SERVER_ADAPTER: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)

# Members whose absence means "no value" on the wire (omitted rather than null).
_OMIT_WHEN_NONE = frozenset({"parameter", "creationParameter", "result", "ackId", "kind"})


def parse_client_message(data: str | bytes) -> ClientMessage:
    """Parse one client frame (raises pydantic's ``ValidationError`` on a bad frame)."""
    return _CLIENT_ADAPTER.validate_json(data)


def parse_server_message(data: str | bytes) -> ServerMessage:
    """Parse one server frame (raises pydantic's ``ValidationError`` on a bad frame)."""
    return _SERVER_ADAPTER.validate_json(data)


def dump_message(message: WireModel, *, keep: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return the wire dict of ``message``, omitting absent optional members.

    ``keep`` names members (by alias) that must be sent even when ``None``: a JSON ``null``
    result is a legitimate value for some endpoints.
    """
    data = message.model_dump(by_alias=True)
    for key in _OMIT_WHEN_NONE:
        if key in data and data[key] is None and key not in keep:
            del data[key]
    if isinstance(message, SerializedError):
        data = {k: v for k, v in data.items() if v is not None}
    return data
