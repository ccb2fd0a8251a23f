"""Server side of the sans-I/O protocol: requests in, frames out, warnings bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lmstudio_core.protocol import (
    MAX_WARNINGS,
    AuthRequested,
    ChannelAcked,
    ChannelMessage,
    ChannelRequested,
    ConnectionState,
    KeepAliveRequested,
    PeerWarning,
    ProtocolViolation,
    RpcRequested,
    SerializedError,
    ServerConnection,
    UnknownMessage,
)


def authed() -> ServerConnection:
    conn = ServerConnection("llm")
    event = conn.receive('{"authVersion": 1, "clientIdentifier": "id", "clientPasskey": "pw"}')
    assert event == AuthRequested("id", "pw")
    assert json.loads(conn.accept_auth()) == {"success": True}
    return conn


def frame(**data: Any) -> str:
    return json.dumps(data)


@pytest.mark.parametrize(
    "incoming",
    [
        "hello",
        '{"authVersion": 2, "clientIdentifier": "a", "clientPasskey": "b"}',
        '{"authVersion": 1, "clientIdentifier": "", "clientPasskey": "b"}',
        '{"authVersion": 1, "clientIdentifier": "' + "x" * 257 + '", "clientPasskey": "b"}',
        frame(type="rpcCall", endpoint="listLoaded", callId=1),
    ],
)
def test_frames_before_auth_are_ignored(incoming: str) -> None:
    conn = ServerConnection("llm")
    event = conn.receive(incoming)
    assert isinstance(event, ProtocolViolation)
    assert event.warning_kind is None
    assert conn.state is ConnectionState.AWAITING_AUTH


def test_reject_auth_shape() -> None:
    conn = ServerConnection("llm")
    assert json.loads(conn.reject_auth("Invalid token")) == {
        "success": False,
        "error": "Invalid token",
    }
    assert conn.state is ConnectionState.CLOSED


@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        (frame(type="rpcCall", endpoint="listLoaded", callId=4),
         RpcRequested(4, "listLoaded", None, has_parameter=False)),
        (frame(type="rpcCall", endpoint="tokenize", callId=0, parameter={"a": 1}),
         RpcRequested(0, "tokenize", {"a": 1}, has_parameter=True)),
        (frame(type="channelCreate", endpoint="predict", channelId=2, creationParameter={}),
         ChannelRequested(2, "predict", {}, has_creation_parameter=True)),
        (frame(type="channelCreate", endpoint="streamLogs", channelId=3),
         ChannelRequested(3, "streamLogs", None, has_creation_parameter=False)),
        (frame(type="channelAck", channelId=1, ackId=0), ChannelAcked(1, 0)),
        (frame(type="keepAlive"), KeepAliveRequested()),
        (frame(type="communicationWarning", warning="w"), PeerWarning("w")),
    ],
)  # fmt: skip
def test_client_messages_become_requests(incoming: str, expected: object) -> None:
    assert authed().receive(incoming) == expected


def test_packets_reach_open_channels_only() -> None:
    conn = authed()
    conn.receive(frame(type="channelCreate", endpoint="predict", channelId=7, creationParameter={}))
    unknown = conn.receive(frame(type="channelSend", channelId=7, message={"type": "cancel"}))
    assert isinstance(unknown, ProtocolViolation)
    assert unknown.warning_kind == "channelUnknown"
    conn.accept_channel(7)
    event = conn.receive(frame(type="channelSend", channelId=7, message={"type": "cancel"}))
    assert event == ChannelMessage(7, {"type": "cancel"})


def test_duplicate_open_channel_is_warned() -> None:
    conn = authed()
    conn.accept_channel(1)
    event = conn.receive(frame(type="channelCreate", endpoint="predict", channelId=1))
    assert isinstance(event, ProtocolViolation)
    assert event.warning_kind == "channelAlreadyOpen"


@pytest.mark.parametrize(
    ("incoming", "kind"),
    [
        (frame(type="rpcCall", endpoint=3, callId=1), "rpcParameterTypeError"),
        (frame(type="channelCreate", endpoint="predict"), "channelCreationParameterTypeError"),
        (frame(type="channelSend", channelId="x"), "channelMessageTypeError"),
        ("{broken", "unknown"),
    ],
)
def test_invalid_envelopes_name_a_warning_kind(incoming: str, kind: str) -> None:
    event = authed().receive(incoming)
    assert isinstance(event, ProtocolViolation)
    assert event.warning_kind == kind


def test_unknown_type_is_reported() -> None:
    event = authed().receive(frame(type="teleport"))
    assert isinstance(event, UnknownMessage)
    assert event.message_type == "teleport"


def test_channel_end_frames_are_sent_once() -> None:
    conn = authed()
    conn.accept_channel(1)
    assert conn.channel_send(1, {"type": "fragment"}) is not None
    closed = conn.channel_close(1)
    assert closed is not None
    assert json.loads(closed) == {"type": "channelClose", "channelId": 1}
    assert conn.channel_close(1) is None
    assert conn.channel_send(1, {"type": "fragment"}) is None
    assert conn.channel_error(1, {"title": "late"}) is None


def test_errors_are_serialized_without_absent_members() -> None:
    conn = authed()
    conn.accept_channel(2)
    error = SerializedError(title="Model not found", suggestion="Load it")
    text = conn.channel_error(2, error)
    assert text is not None
    assert json.loads(text) == {
        "type": "channelError",
        "channelId": 2,
        "error": {"title": "Model not found", "suggestion": "Load it"},
    }
    rpc = json.loads(conn.rpc_error(5, error))
    assert rpc["error"] == {"title": "Model not found", "suggestion": "Load it"}


def test_rpc_result_omits_void_results() -> None:
    conn = authed()
    assert json.loads(conn.rpc_result(1)) == {"type": "rpcResult", "callId": 1}
    assert json.loads(conn.rpc_result(2, [])) == {"type": "rpcResult", "callId": 2, "result": []}


def test_warnings_are_capped_per_connection() -> None:
    conn = authed()
    sent = [conn.warning(f"w{i}", "rpcEndpointUnknown") for i in range(MAX_WARNINGS + 3)]
    assert all(s is not None for s in sent[:MAX_WARNINGS])
    assert sent[MAX_WARNINGS:] == [None, None, None]
    first = sent[0]
    assert first is not None
    assert json.loads(first) == {
        "type": "communicationWarning",
        "warning": "w0",
        "kind": "rpcEndpointUnknown",
    }


def test_keep_alive_ack_frame() -> None:
    assert json.loads(authed().keep_alive_ack()) == {"type": "keepAliveAck"}
