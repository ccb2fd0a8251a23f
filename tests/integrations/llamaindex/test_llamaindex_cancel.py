"""Leaving a stream early or cancelling a task stops the generation in LM Studio."""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.llms.types import ChatMessage

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

    from lmstudio_integrations.llamaindex import LMStudio

LONG_REPLY = " ".join(["word"] * 200)
PROMPT = [ChatMessage(content="Tell me a long story")]


@pytest.fixture(autouse=True)
def slow_emulator(emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(LONG_REPLY)
    emulator.faults.set_tokens_per_second(50)


def predict_cancels(emulator: EmulatorThread) -> int:
    return sum(1 for cancel in emulator.record.cancels if cancel.endpoint == "predict")


async def wait_for_cancel(emulator: EmulatorThread) -> bool:
    for _ in range(200):
        if predict_cancels(emulator):
            return True
        await asyncio.sleep(0.025)
    return False


def test_closing_a_stream_cancels(llm: LMStudio, emulator: EmulatorThread) -> None:
    stream = llm.stream_chat(PROMPT)
    for index, _ in enumerate(stream):
        if index == 2:
            break
    assert predict_cancels(emulator) == 0
    stream.close()
    assert emulator.record.wait_for(lambda r: predict_cancels(emulator) == 1)


def test_dropping_a_broken_off_stream_cancels(llm: LMStudio, emulator: EmulatorThread) -> None:
    for index, _ in enumerate(llm.stream_chat(PROMPT)):
        if index == 2:
            break
    gc.collect()  # the generator is gone: finalising it leaves the stream's ``with`` block
    assert emulator.record.wait_for(lambda r: predict_cancels(emulator) == 1)


def test_closing_a_completion_stream_cancels(llm: LMStudio, emulator: EmulatorThread) -> None:
    stream = llm.stream_complete("Tell me a long story")
    next(stream)
    stream.close()
    assert emulator.record.wait_for(lambda r: predict_cancels(emulator) == 1)


def test_a_finished_stream_sends_no_cancel(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.faults.clear()
    list(llm.stream_chat(PROMPT))
    llm.chat(PROMPT)
    assert predict_cancels(emulator) == 0


async def test_closing_an_async_stream_cancels(llm: LMStudio, emulator: EmulatorThread) -> None:
    stream = await llm.astream_chat(PROMPT)
    async for chunk in stream:
        if chunk.delta:
            break
    await stream.aclose()
    assert await wait_for_cancel(emulator)


async def test_cancelling_achat_cancels(llm: LMStudio, emulator: EmulatorThread) -> None:
    task = asyncio.create_task(llm.achat(PROMPT))
    for _ in range(200):
        if emulator.record.predictions:
            break
        await asyncio.sleep(0.025)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_for_cancel(emulator)


async def test_cancelling_a_streaming_task_cancels(llm: LMStudio, emulator: EmulatorThread) -> None:
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in await llm.astream_chat(PROMPT):
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_for_cancel(emulator)
    # The connection is still usable afterwards.
    emulator.faults.clear()
    emulator.engine.script_reply("Still here")
    assert (await llm.achat(PROMPT)).message.content == "Still here"
