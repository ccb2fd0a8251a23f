"""Cancellation with the asyncio client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lmstudio_core import AsyncClient, TextFragment

from .conftest import LLM_KEY, REASONING_KEY


async def wait_for_cancel(emulator: Any) -> None:
    found = await asyncio.to_thread(emulator.record.wait_for, lambda r: r.cancels, 5)
    assert found, "no cancel received"
    assert emulator.record.cancels[-1].endpoint in ("predict", "loadModel", "getOrLoad")


async def test_break_sends_cancel(aclient: AsyncClient, slow: Any) -> None:
    model = await aclient.llm.model(LLM_KEY)
    async with model.respond_stream("Write a long story") as stream:
        async for event in stream:
            if isinstance(event, TextFragment):
                break
    await wait_for_cancel(slow)
    with pytest.raises(RuntimeError, match="closed before it finished"):
        await stream.result()
    assert (await model.respond("again", max_tokens=3)).content


async def test_exception_in_block_sends_cancel_and_propagates(
    aclient: AsyncClient, slow: Any
) -> None:
    model = await aclient.llm.model(LLM_KEY)
    with pytest.raises(ZeroDivisionError):  # noqa: PT012
        async with model.respond_stream("story") as stream:
            await anext(aiter(stream))
            _ = 1 / 0
    await wait_for_cancel(slow)


async def test_stream_cancel_keeps_partial_result(aclient: AsyncClient, slow: Any) -> None:
    model = await aclient.llm.model(LLM_KEY)
    async with model.respond_stream("Write a long story", max_tokens=500) as stream:
        seen = ""
        async for event in stream:
            if isinstance(event, TextFragment):
                seen += event.text
                if len(seen) > 3:
                    stream.cancel()
        result = await stream.result()
    await wait_for_cancel(slow)
    assert result.stop_reason == "userStopped"
    assert result.content.startswith(seen)
    assert len(result.content) < 2000


async def test_cancel_before_start(aclient: AsyncClient) -> None:
    stream = (await aclient.llm.model(LLM_KEY)).respond_stream("hi")
    stream.cancel()
    assert (await stream.result()).stop_reason == "userStopped"


async def test_leaving_a_load_early_cancels_it(lmstudio_emulator_factory: Any) -> None:
    with lmstudio_emulator_factory(load_seconds=2.0) as emu:
        async with AsyncClient(emu.base_url) as client:
            async with client.llm.load_stream(REASONING_KEY) as stream:
                await anext(aiter(stream))
            assert await asyncio.to_thread(emu.record.wait_for, lambda r: r.cancels, 5)
