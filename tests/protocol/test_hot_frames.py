"""The hot frames of streaming: the client's fast path and the server's pre-encoded packets.

The client decodes plain ``channelSend`` / ``rpcResult`` frames without building wire
models; every frame must still give exactly the event the validated path gives. The
server can frame a packet it already encoded; the text must be what it would have sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from lmstudio_core.protocol import (
    AuthAccepted,
    ChannelMessage,
    ClientConnection,
    ClientEvent,
    ProtocolViolation,
    RpcSucceeded,
    ServerConnection,
    encode_json,
)


def open_client(channels: int = 2, calls: int = 2) -> ClientConnection:
    conn = ClientConnection("llm")
    conn.authenticate("guest:abc", "secret")
    assert conn.receive('{"success": true}') == AuthAccepted()
    for _ in range(channels):
        conn.open_channel("predict", {})
    for _ in range(calls):
        conn.call("listLoaded")
    return conn


def validated(conn: ClientConnection, data: str | bytes) -> ClientEvent:
    """The event of the validated path only (the fast path switched off)."""
    conn._receive_common = lambda _data: None  # type: ignore[method-assign]
    try:
        return conn.receive(data)
    finally:
        del conn._receive_common


FRAGMENT = {"type": "fragment", "fragment": {"content": " story", "tokensCount": 1}}

FRAMES: list[Any] = [
    {"type": "channelSend", "channelId": 1, "message": FRAGMENT},
    {"type": "channelSend", "channelId": 2, "message": {"type": "success", "stats": {}}},
    {"type": "channelSend", "channelId": 1},  # no message: None
    {"type": "channelSend", "channelId": 1, "message": None},
    {"type": "channelSend", "channelId": 1, "message": [1, "two", 3.5]},
    {"type": "channelSend", "channelId": 1, "message": {"x": 1}, "ackId": 7},
    {"type": "channelSend", "channelId": 1, "message": {"x": 1}, "ackId": None},
    {"type": "channelSend", "channelId": 1, "message": {"x": 1}, "extra": True},
    {"type": "channelSend", "channelId": 9, "message": FRAGMENT},  # not open
    {"type": "channelSend", "channelId": -1, "message": FRAGMENT},
    {"type": "channelSend", "channelId": 10**30, "message": FRAGMENT},
    {"type": "rpcResult", "callId": 1, "result": {"a": [1, 2]}},
    {"type": "rpcResult", "callId": 2},  # void result
    {"type": "rpcResult", "callId": 2, "result": None},
    {"type": "rpcResult", "callId": 5, "result": 1},  # not pending
    # Unusual shapes the fast path leaves to the validated path.
    {"type": "channelSend", "channelId": True, "message": FRAGMENT},
    {"type": "channelSend", "channelId": 1.0, "message": FRAGMENT},
    {"type": "channelSend", "channelId": "1", "message": FRAGMENT},
    {"type": "channelSend", "message": FRAGMENT},
    {"type": "channelSend", "channelId": 1, "message": {}, "ackId": "x"},
    {"type": "channelSend", "channelId": 1, "message": {}, "ackId": 2.0},
    {"type": "rpcResult", "callId": True, "result": 1},
    {"type": "rpcResult", "callId": "1", "result": 1},
    {"type": "rpcResult", "result": 1},
    {"type": "rpcError", "callId": 1, "error": {"title": "Boom"}},
    {"type": "channelClose", "channelId": 1},
    {"type": "channelError", "channelId": 2, "error": {"title": "Boom"}},
    {"type": "communicationWarning", "warning": "careful"},
    {"type": "somethingNew", "channelId": 1},
    ["channelSend", 1],
    "channelSend",
]

RAW_FRAMES = [
    "not json",
    '{"type":"channelSend","channelId":1,"message":1} trailing',
    '{"type":"channelSend","channelId":1,"message":"\\ud800"}',
    b'{"type":"channelSend","channelId":1,"message":"\xff"}',
    '{"type":"channelSend","channelId":1,"message":NaN}',
    '{"type":"channelSend","channelId":1,"channelId":2,"message":1}',
    '{"type":"channelSend","channelId":1,"message":{"a":1,"a":2}}',
    b'{"type":"channelSend","channelId":1,"message":"caf\xc3\xa9"}',
    ' {"type":"rpcResult","callId":1,"result":123456789012345678901234567890}\n',
]


def _equal(left: ClientEvent, right: ClientEvent) -> bool:
    # NaN payloads compare unequal to themselves; compare their JSON text instead.
    return left == right or json.dumps(left, default=repr) == json.dumps(right, default=repr)


@pytest.mark.parametrize(
    "data", [json.dumps(f) for f in FRAMES] + RAW_FRAMES, ids=lambda d: str(d)[:60]
)
def test_every_frame_gives_the_event_of_the_validated_path(data: str | bytes) -> None:
    fast, slow = open_client(), open_client()
    assert _equal(fast.receive(data), validated(slow, data))
    assert fast.open_channel_ids == slow.open_channel_ids
    assert fast.open_call_ids == slow.open_call_ids


def test_a_whole_stream_gives_the_same_events_and_state() -> None:
    fast, slow = open_client(), open_client()
    frames = [json.dumps(f) for f in FRAMES] + RAW_FRAMES
    for data in frames * 2:
        assert _equal(fast.receive(data), validated(slow, data))
    assert fast.open_channel_ids == slow.open_channel_ids
    assert fast.open_call_ids == slow.open_call_ids


def test_fast_path_events() -> None:
    conn = open_client()
    assert conn.receive(json.dumps(FRAMES[0])) == ChannelMessage(1, FRAGMENT)
    assert conn.receive('{"type":"channelSend","channelId":1}') == ChannelMessage(1, None)
    assert conn.receive('{"type":"rpcResult","callId":2}') == RpcSucceeded(2, None)
    late = conn.receive('{"type":"rpcResult","callId":2,"result":1}')
    assert late == ProtocolViolation("reply for call 2, which is not pending")
    stray = conn.receive('{"type":"channelSend","channelId":3,"message":1}')
    assert stray == ProtocolViolation("packet for channel 3, which is not open")


def test_released_channel_packets_become_unattributed_violations() -> None:
    conn = open_client()
    conn.release_channel(1)
    event = conn.receive(json.dumps(FRAMES[0]))
    assert isinstance(event, ProtocolViolation)
    assert event.channel_id is None
    assert event.call_id is None


# -- server: pre-encoded packets -----------------------------------------------------


def open_server(channel_id: int = 3) -> ServerConnection:
    conn = ServerConnection("llm")
    conn.accept_auth()
    conn.accept_channel(channel_id)
    return conn


PACKETS: list[Any] = [
    {"type": "fragment", "fragment": {"content": 'a "quoted"\n\\ é 😀 \u2028', "tokensCount": 2}},
    {"type": "success", "stats": {"tokensPerSecond": 1.5, "stopReason": "eosFound"}},
    {"type": "x", "nested": [None, True, False, 0, -1.25e-7, {"k": []}]},
    "plain string",
    None,
]


@pytest.mark.parametrize("packet", PACKETS)
def test_channel_send_encoded_is_the_frame_channel_send_builds(packet: Any) -> None:
    conn = open_server()
    encoded = conn.channel_send_encoded(3, encode_json(packet))
    assert encoded == conn.channel_send(3, packet)
    assert encoded is not None
    assert json.loads(encoded) == {"type": "channelSend", "channelId": 3, "message": packet}


def test_channel_send_encoded_refuses_a_channel_that_is_not_open() -> None:
    conn = open_server()
    assert conn.channel_send_encoded(4, encode_json({"type": "fragment"})) is None
    assert conn.channel_close(3) is not None
    assert conn.channel_send_encoded(3, encode_json({"type": "fragment"})) is None


def test_encode_json_is_compact_and_keeps_unicode() -> None:
    assert encode_json({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'
