"""Fault injection with the asyncio client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lmstudio_core import (
    AsyncClient,
    DisconnectedError,
    RequestTimeoutError,
    ServerError,
    TextFragment,
    Timeouts,
    UnknownMessageWarning,
)

from .conftest import EMBEDDING_KEY, LLM_KEY


async def test_disconnect_mid_stream_fails_promptly_then_reconnects(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    model = await aclient.llm.model(LLM_KEY)
    lmstudio_emulator.faults.drop_connection_after(3)
    texts: list[str] = []
    start = time.monotonic()
    with pytest.raises(DisconnectedError) as info:  # noqa: PT012
        async with model.respond_stream("story") as stream:
            async for event in stream:
                if isinstance(event, TextFragment):
                    texts.append(event.text)
    assert time.monotonic() - start < 5
    assert info.value.__cause__ is not None
    assert len(texts) == 3
    assert (await model.respond("again", max_tokens=3)).content  # reconnected


async def test_server_error_mid_stream(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    model = await aclient.llm.model(LLM_KEY)
    lmstudio_emulator.faults.fail_next("predict", title="Boom", after_fragments=2)
    with pytest.raises(ServerError, match="Boom") as info:
        async with model.respond_stream("x") as stream:
            [e async for e in stream]
    assert info.value.title == "Boom"
    assert stream.text


async def test_scripted_server_error_carries_cause(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    from lmstudio_core.emulator import ScriptedError, ScriptedTurn

    lmstudio_emulator.engine.script(None, ScriptedTurn(error=ScriptedError("Bad", cause="why")))
    with pytest.raises(ServerError) as info:
        await (await aclient.llm.model(LLM_KEY)).respond("x")
    assert info.value.cause == "why"


async def test_slow_first_token_times_out(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.set_first_token_delay(3.0)
    timeouts = Timeouts(first_token=0.5, idle=10)
    async with AsyncClient(lmstudio_emulator.base_url) as client:
        model = await client.llm.model(LLM_KEY)
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            await model.respond("x", timeout=timeouts)
        assert isinstance(info.value, TimeoutError)
        assert time.monotonic() - start < 2.5
        wait = lmstudio_emulator.record.wait_for
        assert await asyncio.to_thread(wait, lambda r: r.cancels, 5)


async def test_idle_timeout_between_fragments(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.set_tokens_per_second(2)
    async with AsyncClient(lmstudio_emulator.base_url, timeout=Timeouts(idle=0.2)) as client:
        model = await client.llm.model(LLM_KEY)
        with pytest.raises(TimeoutError):
            await model.respond("x", max_tokens=20)


async def test_rpc_timeout(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.delay("tokenize", 2.0)
    async with AsyncClient(lmstudio_emulator.base_url, timeout=Timeouts(request=0.3)) as client:
        model = await client.llm.model(LLM_KEY)
        with pytest.raises(RequestTimeoutError, match="tokenize"):
            await model.tokenize("x")


async def test_unknown_envelope_message_is_ignored(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    lmstudio_emulator.faults.inject_unknown_message(endpoint="listLoaded")
    assert await aclient.llm.list_loaded()


async def test_unknown_channel_packet_warns_and_continues(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    lmstudio_emulator.faults.inject_unknown_packet(after_fragments=1)
    with pytest.warns(UnknownMessageWarning):
        result = await (await aclient.llm.model(LLM_KEY)).respond("x", max_tokens=5)
    assert result.content


async def test_rpc_error_injected(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    model = await aclient.embedding.model(EMBEDDING_KEY)
    lmstudio_emulator.faults.fail_next("embedString", title="Embedding broke")
    with pytest.raises(ServerError, match="Embedding broke"):
        await model.embed(["a", "b", "c"])
    assert len(await model.embed(["a", "b"])) == 2
