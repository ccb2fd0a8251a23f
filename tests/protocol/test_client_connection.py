"""Client side of the sans-I/O protocol: ids, frames and events, without sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lmstudio_core.protocol import (
    ABSENT,
    AuthAccepted,
    AuthRejected,
    ChannelClosed,
    ChannelFailed,
    ChannelMessage,
    ClientConnection,
    ConnectionFailed,
    ConnectionState,
    PeerWarning,
    ProtocolViolation,
    RpcFailed,
    RpcSucceeded,
    SignalUpdated,
    UnknownMessage,
)


def open_connection() -> ClientConnection:
    conn = ClientConnection("llm")
    conn.authenticate("guest:abc", "secret")
    assert conn.receive('{"success": true}') == AuthAccepted()
    return conn


def frame(**data: Any) -> str:
    return json.dumps(data)


def test_auth_packet_shape() -> None:
    conn = ClientConnection("llm")
    packet = json.loads(conn.authenticate("guest:abc", "secret"))
    assert packet == {"authVersion": 1, "clientIdentifier": "guest:abc", "clientPasskey": "secret"}
    assert conn.state is ConnectionState.AWAITING_AUTH


def test_auth_rejected_closes_the_state() -> None:
    conn = ClientConnection("llm")
    event = conn.receive('{"success": false, "error": "Invalid passkey"}')
    assert event == AuthRejected("Invalid passkey")
    assert conn.state is ConnectionState.CLOSED


def test_garbage_before_auth_is_a_violation_not_an_exception() -> None:
    conn = ClientConnection("llm")
    assert isinstance(conn.receive("not json"), ProtocolViolation)
    assert conn.state is ConnectionState.AWAITING_AUTH


def test_nothing_but_auth_may_be_sent_before_auth() -> None:
    conn = ClientConnection("llm")
    with pytest.raises(RuntimeError, match="awaiting_auth"):
        conn.call("listLoaded")


def test_ids_start_at_one_and_are_separate_per_kind() -> None:
    conn = open_connection()
    call_a, _ = conn.call("listLoaded")
    call_b, _ = conn.call("version")
    chan_a, _ = conn.open_channel("predict", {})
    assert (call_a, call_b, chan_a) == (1, 2, 1)


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        (ABSENT, {"type": "rpcCall", "endpoint": "listLoaded", "callId": 1}),
        (
            {"a": 1},
            {"type": "rpcCall", "endpoint": "listLoaded", "callId": 1, "parameter": {"a": 1}},
        ),
        (None, {"type": "rpcCall", "endpoint": "listLoaded", "callId": 1, "parameter": None}),
    ],
)
def test_void_parameters_are_omitted(parameter: Any, expected: dict[str, Any]) -> None:
    conn = open_connection()
    _, text = conn.call("listLoaded", parameter)
    assert json.loads(text) == expected


def test_channel_create_and_send_frames() -> None:
    conn = open_connection()
    cid, text = conn.open_channel("predict", {"history": {"messages": []}})
    assert json.loads(text) == {
        "type": "channelCreate",
        "endpoint": "predict",
        "channelId": cid,
        "creationParameter": {"history": {"messages": []}},
    }
    sent = conn.send_on_channel(cid, {"type": "cancel"})
    assert sent is not None
    assert json.loads(sent) == {
        "type": "channelSend",
        "channelId": cid,
        "message": {"type": "cancel"},
    }


@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        (frame(type="rpcResult", callId=1, result=[1, 2]), RpcSucceeded(1, [1, 2])),
        (frame(type="rpcResult", callId=1), RpcSucceeded(1, None)),
        (frame(type="channelSend", channelId=1, message={"type": "fragment"}),
         ChannelMessage(1, {"type": "fragment"})),
        (frame(type="channelClose", channelId=1), ChannelClosed(1)),
        (frame(type="communicationWarning", warning="bad", kind="rpcUnknown"),
         PeerWarning("bad", "rpcUnknown")),
        (frame(type="communicationWarning", warning="old server"), PeerWarning("old server")),
        (frame(type="signalUpdate", subscribeId=3, patches=[], tags=["t"]),
         SignalUpdated(3, [], ["t"])),
    ],
)  # fmt: skip
def test_server_messages_become_events(incoming: str, expected: object) -> None:
    conn = open_connection()
    conn.call("x")
    conn.open_channel("predict")
    assert conn.receive(incoming) == expected


def test_errors_are_parsed_into_serialized_errors() -> None:
    conn = open_connection()
    conn.call("getModelInfo", {})
    error = {
        "title": "No model found",
        "suggestion": "Load one",
        "displayData": {"code": "generic.noModelMatchingQuery"},
        "stack": 42,  # wrong type: dropped leniently
    }
    event = conn.receive(frame(type="rpcError", callId=1, error=error))
    assert isinstance(event, RpcFailed)
    assert event.error.title == "No model found"
    assert event.error.suggestion == "Load one"
    assert event.error.code == "generic.noModelMatchingQuery"
    assert event.error.stack is None


def test_non_object_error_becomes_a_title() -> None:
    conn = open_connection()
    cid, _ = conn.open_channel("predict")
    event = conn.receive(frame(type="channelError", channelId=cid, error="boom"))
    assert isinstance(event, ChannelFailed)
    assert event.error.title == "boom"
    assert event.error.code is None


def test_a_call_resolves_once() -> None:
    conn = open_connection()
    conn.call("x")
    assert isinstance(conn.receive(frame(type="rpcResult", callId=1)), RpcSucceeded)
    late = conn.receive(frame(type="rpcResult", callId=1))
    assert isinstance(late, ProtocolViolation)
    assert late.call_id is None


def test_released_channel_drops_late_packets_without_attribution() -> None:
    conn = open_connection()
    cid, _ = conn.open_channel("predict")
    conn.release_channel(cid)
    late = conn.receive(frame(type="channelSend", channelId=cid, message={"type": "fragment"}))
    assert isinstance(late, ProtocolViolation)
    assert late.channel_id is None
    assert conn.send_on_channel(cid, {"type": "cancel"}) is None


def test_closed_channel_is_forgotten() -> None:
    conn = open_connection()
    cid, _ = conn.open_channel("predict")
    conn.receive(frame(type="channelClose", channelId=cid))
    assert cid not in conn.open_channel_ids


@pytest.mark.parametrize(
    "incoming",
    ["{not json", "[1, 2]", '"text"', "", b"\xff\xfe"],
)
def test_malformed_frames_are_violations(incoming: str | bytes) -> None:
    conn = open_connection()
    event = conn.receive(incoming)
    assert isinstance(event, ProtocolViolation)


def test_unknown_message_types_are_reported_not_raised() -> None:
    conn = open_connection()
    event = conn.receive(frame(type="futureThing", x=1))
    assert event == UnknownMessage("futureThing", {"type": "futureThing", "x": 1})
    assert isinstance(conn.receive(frame(noType=True)), UnknownMessage)


def test_bad_shape_for_an_open_channel_is_attributed_to_it() -> None:
    conn = open_connection()
    cid, _ = conn.open_channel("predict")
    event = conn.receive(frame(type="channelError", channelId=cid, error=None, extra=1))
    assert isinstance(event, ChannelFailed)  # lenient: null error still fails the channel
    cid2, _ = conn.open_channel("predict")
    event = conn.receive(frame(type="channelSend", channelId=str(cid2) + "x", message={}))
    assert isinstance(event, ProtocolViolation)
    call_id, _ = conn.call("x")
    event = conn.receive(frame(type="rpcResult", callId=call_id, result=1, junk=2))
    assert event == RpcSucceeded(call_id, 1)


def test_invalid_message_for_open_call_is_attributed() -> None:
    conn = open_connection()
    call_id, _ = conn.call("x")
    event = conn.receive(frame(type="rpcError", callId=call_id, error={"title": 3}))
    # a wrongly typed member is dropped leniently: the call still fails, with the default title
    assert isinstance(event, RpcFailed)
    assert event.error.title == "Unknown error"
    call_id, _ = conn.call("y")
    event = conn.receive(json.dumps({"type": "rpcResult", "callId": call_id, "junk": 1}))
    assert event == RpcSucceeded(call_id, None)


def test_fail_all_reports_every_open_id_once() -> None:
    conn = open_connection()
    conn.call("a")
    conn.call("b")
    cid, _ = conn.open_channel("predict")
    events = conn.fail_all("socket closed")
    assert events == [
        ConnectionFailed(1, None, "socket closed"),
        ConnectionFailed(2, None, "socket closed"),
        ConnectionFailed(None, cid, "socket closed"),
    ]
    assert conn.fail_all("again") == []
    assert conn.state is ConnectionState.CLOSED
    with pytest.raises(RuntimeError):
        conn.call("c")


def test_keep_alive_ack_is_ignored_as_unknown() -> None:
    conn = open_connection()
    event = conn.receive(frame(type="keepAliveAck"))
    assert isinstance(event, UnknownMessage)
    assert event.message_type == "keepAliveAck"
