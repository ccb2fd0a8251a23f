"""Fault injection: delays, rates, drops, injected errors and unknown messages."""

from __future__ import annotations

import time
from typing import Any

import pytest
from emulator_wire import (
    EMBEDDING_KEY,
    LLM_KEY,
    Wire,
    WireFactory,
    fragments,
    predict_params,
    query,
)
from lmstudio_core.emulator import EmulatorThread
from websockets.exceptions import ConnectionClosed


def test_endpoint_delay(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.delay("listLoaded", 0.3)
    started = time.monotonic()
    llm.result("listLoaded")
    assert time.monotonic() - started >= 0.3


def test_token_rate_paces_fragments(emu: EmulatorThread, llm: Wire) -> None:
    emu.engine.script_reply("one two three four five six seven eight nine ten")
    emu.faults.set_tokens_per_second(40, model=LLM_KEY)
    started = time.monotonic()
    packets = llm.stream("predict", predict_params())[0]
    elapsed = time.monotonic() - started

    count = len(fragments(packets))
    assert count >= 10
    assert elapsed >= (count - 1) / 40
    assert packets[-1]["stats"]["tokensPerSecond"] < 60


def test_first_token_delay(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.set_first_token_delay(0.3)
    packets = llm.stream("predict", predict_params())[0]
    assert packets[-1]["stats"]["timeToFirstTokenSec"] >= 0.3


def test_drop_connection_after_fragments(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.drop_connection_after(3)
    llm.open("predict", predict_params("Tell me a story"))
    seen: list[dict[str, Any]] = []

    def read_until_closed() -> None:
        while True:
            seen.append(llm.recv()["message"])

    with pytest.raises(ConnectionClosed):
        read_until_closed()
    assert len(fragments(seen)) == 3


def test_fail_next_rpc(emu: EmulatorThread, wire: WireFactory) -> None:
    embedding = wire("embedding")
    emu.faults.fail_next("embedString", title="Injected", cause="test")
    params = {"modelSpecifier": query(EMBEDDING_KEY), "inputString": "x"}

    failed = embedding.rpc("embedString", params)
    fine = embedding.rpc("embedString", params)

    assert failed["error"] == {"title": "Injected", "cause": "test", "rootTitle": "Injected"}
    assert fine["type"] == "rpcResult"


def test_fail_channel_mid_stream(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.fail_next("predict", title="GPU on fire", after_fragments=2)
    packets, end = llm.stream("predict", predict_params("Tell me a story"))

    assert len(fragments(packets)) == 2
    assert end["type"] == "channelError"
    assert end["error"]["title"] == "GPU on fire"


def test_fail_channel_at_once(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.fail_next("predict", title="Nope")
    packets, end = llm.stream("predict", predict_params())
    assert packets == []
    assert end["error"]["title"] == "Nope"


def test_unknown_packet_in_channel(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.inject_unknown_packet(after_fragments=1, packet={"type": "futurePacket"})
    packets = llm.stream("predict", predict_params())[0]
    types = [p["type"] for p in packets]
    assert types.index("futurePacket") == types.index("fragment") + 1
    assert types[-1] == "success"


def test_unknown_top_level_message(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.inject_unknown_message(endpoint="listLoaded", message={"type": "mystery"})
    llm.call("listLoaded")
    assert llm.recv() == {"type": "mystery"}
    assert llm.recv()["type"] == "rpcResult"


def test_clear_removes_faults(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.fail_next("listLoaded")
    emu.faults.delay("listLoaded", 5)
    emu.faults.clear()
    assert llm.rpc("listLoaded")["type"] == "rpcResult"


def test_drop_connection_on_rpc(emu: EmulatorThread, wire: WireFactory) -> None:
    first = wire("llm")
    emu.faults.drop_connection_on("listLoaded")
    first.call("listLoaded")
    with pytest.raises(ConnectionClosed):
        first.recv()
    # One-shot: a new connection is answered.
    assert wire("llm").rpc("listLoaded")["type"] == "rpcResult"
    assert emu.record.endpoints("llm") == ["listLoaded", "listLoaded"]


def test_drop_connection_on_only_matches_its_endpoint_and_namespace(
    emu: EmulatorThread, wire: WireFactory
) -> None:
    llm = wire("llm")
    emu.faults.drop_connection_on("listLoaded", namespace="embedding")
    assert llm.rpc("listLoaded")["type"] == "rpcResult"
    assert llm.rpc("getModelInfo", {"specifier": query(LLM_KEY)})["type"] == "rpcResult"
    embedding = wire("embedding")
    embedding.call("listLoaded")
    with pytest.raises(ConnectionClosed):
        embedding.recv()


def test_drop_connection_on_several_times(emu: EmulatorThread, wire: WireFactory) -> None:
    emu.faults.drop_connection_on("tokenize", times=2)
    params = {"specifier": query(LLM_KEY), "inputString": "hi"}
    for _ in range(2):
        conn = wire("llm")
        conn.call("tokenize", params)
        with pytest.raises(ConnectionClosed):
            conn.recv()
    assert wire("llm").rpc("tokenize", params)["type"] == "rpcResult"


def test_drop_connection_on_a_channel(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.drop_connection_on("predict")
    llm.open("predict", predict_params())
    with pytest.raises(ConnectionClosed):
        llm.recv()
    assert not emu.record.predictions


def test_drop_connection_on_rejects_a_bad_count(emu: EmulatorThread) -> None:
    with pytest.raises(ValueError, match="times"):
        emu.faults.drop_connection_on("listLoaded", times=0)
    with pytest.raises(ValueError, match="count"):
        emu.faults.refuse_connections(0)


def test_refuse_connections(emu: EmulatorThread, wire: WireFactory) -> None:
    from websockets.exceptions import InvalidStatus

    emu.faults.refuse_connections(2, namespace="llm")
    for _ in range(2):
        with pytest.raises(InvalidStatus) as info:
            wire("llm")
        assert info.value.response.status_code == 503
    assert wire("embedding").rpc("listLoaded")["type"] == "rpcResult"
    assert wire("llm").rpc("listLoaded")["type"] == "rpcResult"


def test_clear_removes_drops_and_refusals(emu: EmulatorThread, wire: WireFactory) -> None:
    emu.faults.drop_connection_on("listLoaded")
    emu.faults.refuse_connections()
    emu.faults.clear()
    assert wire("llm").rpc("listLoaded")["type"] == "rpcResult"
