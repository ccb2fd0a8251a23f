# Generated from tests/core/io/test_faults_async.py by scripts/unasync.py: do not edit.
"""Fault injection with the blocking client."""

from __future__ import annotations

import time
from typing import Any

import pytest
from lmstudio_core import (
    Client,
    DisconnectedError,
    RequestTimeoutError,
    ServerError,
    TextFragment,
    Timeouts,
    UnknownMessageWarning,
)

from .conftest import EMBEDDING_KEY, LLM_KEY


def test_disconnect_mid_stream_fails_promptly_then_reconnects(
    client: Client, lmstudio_emulator: Any
) -> None:
    model = client.llm.model(LLM_KEY)
    lmstudio_emulator.faults.drop_connection_after(3)
    texts: list[str] = []
    start = time.monotonic()
    with pytest.raises(DisconnectedError) as info:  # noqa: PT012
        with model.respond_stream("story") as stream:
            for event in stream:
                if isinstance(event, TextFragment):
                    texts.append(event.text)
    assert time.monotonic() - start < 5
    assert info.value.__cause__ is not None
    assert len(texts) == 3
    assert model.respond("again", max_tokens=3).content  # reconnected


def test_server_error_mid_stream(client: Client, lmstudio_emulator: Any) -> None:
    model = client.llm.model(LLM_KEY)
    lmstudio_emulator.faults.fail_next("predict", title="Boom", after_fragments=2)
    with pytest.raises(ServerError, match="Boom") as info:
        with model.respond_stream("x") as stream:
            list(stream)
    assert info.value.title == "Boom"
    assert stream.text


def test_scripted_server_error_carries_cause(client: Client, lmstudio_emulator: Any) -> None:
    from lmstudio_core.emulator import ScriptedError, ScriptedTurn

    lmstudio_emulator.engine.script(None, ScriptedTurn(error=ScriptedError("Bad", cause="why")))
    with pytest.raises(ServerError) as info:
        client.llm.model(LLM_KEY).respond("x")
    assert info.value.cause == "why"


def test_slow_first_token_times_out(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.set_first_token_delay(3.0)
    timeouts = Timeouts(first_token=0.5, idle=10)
    with Client(lmstudio_emulator.base_url) as client:
        model = client.llm.model(LLM_KEY)
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            model.respond("x", timeout=timeouts)
        assert isinstance(info.value, TimeoutError)
        assert time.monotonic() - start < 2.5
        wait = lmstudio_emulator.record.wait_for
        assert wait(lambda r: r.cancels, 5)


def test_idle_timeout_between_fragments(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.set_tokens_per_second(2)
    with Client(lmstudio_emulator.base_url, timeout=Timeouts(idle=0.2)) as client:
        model = client.llm.model(LLM_KEY)
        with pytest.raises(TimeoutError):
            model.respond("x", max_tokens=20)


def test_rpc_timeout(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.delay("tokenize", 2.0)
    with Client(lmstudio_emulator.base_url, timeout=Timeouts(request=0.3)) as client:
        model = client.llm.model(LLM_KEY)
        with pytest.raises(RequestTimeoutError, match="tokenize"):
            model.tokenize("x")


def test_unknown_envelope_message_is_ignored(client: Client, lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.inject_unknown_message(endpoint="listLoaded")
    assert client.llm.list_loaded()


def test_unknown_channel_packet_warns_and_continues(client: Client, lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.inject_unknown_packet(after_fragments=1)
    with pytest.warns(UnknownMessageWarning):
        result = client.llm.model(LLM_KEY).respond("x", max_tokens=5)
    assert result.content


def test_rpc_error_injected(client: Client, lmstudio_emulator: Any) -> None:
    model = client.embedding.model(EMBEDDING_KEY)
    lmstudio_emulator.faults.fail_next("embedString", title="Embedding broke")
    with pytest.raises(ServerError, match="Embedding broke"):
        model.embed(["a", "b", "c"])
    assert len(model.embed(["a", "b"])) == 2
