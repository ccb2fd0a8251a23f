"""An AsyncClient whose event loop is closed under it (``loop.close()`` without cancelling
its tasks, as LlamaIndex's ``asyncio_run`` does) leaves no socket behind.

Warnings are errors here, so a stranded task, an unclosed socket or transport collected
later, or a coroutine that fails while being finalized fails the test.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from lmstudio_core import AsyncClient

from .conftest import EMBEDDING_KEY, LLM_KEY, TEST_TIMEOUTS


async def _use(client: AsyncClient) -> int:
    model = await client.embedding.model(EMBEDDING_KEY)
    llm = await client.llm.model(LLM_KEY)
    await llm.respond("hi", max_tokens=3)
    return len(await model.embed(["hello"]))


def _run_and_close_without_cleanup(client: AsyncClient) -> None:
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(_use(client)) == 1
    finally:
        loop.close()  # the reader tasks are still pending


def test_close_in_another_loop_frees_the_sockets(lmstudio_emulator: Any) -> None:
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    client = AsyncClient(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1)
    _run_and_close_without_cleanup(client)
    assert lmstudio_emulator.client_socket_count() > before  # the closed loop stranded them
    asyncio.run(client.close())
    assert client.closed
    del client
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before


def test_the_client_reconnects_in_a_new_loop(lmstudio_emulator: Any) -> None:
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    client = AsyncClient(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1)
    _run_and_close_without_cleanup(client)
    stranded = lmstudio_emulator.client_socket_count()

    async def use_and_close(client: AsyncClient) -> int:
        async with client:
            return await _use(client)

    assert asyncio.run(use_and_close(client)) == 1
    assert lmstudio_emulator.client_socket_count() < stranded
    del client
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before


def test_a_dropped_client_of_a_closed_loop_is_released_quietly(lmstudio_emulator: Any) -> None:
    client = AsyncClient(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1)
    _run_and_close_without_cleanup(client)
    asyncio.run(client.close())
    asyncio.run(client.close())  # closing twice is harmless
    del client
    gc.collect()
