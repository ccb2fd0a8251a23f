"""Opening and closing many clients and cancelling many streams leaves nothing behind."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

from lmstudio_core import AsyncClient, Client, TextFragment

from .conftest import LLM_KEY


def settle(baseline_threads: int) -> None:
    deadline = time.monotonic() + 5
    while threading.active_count() > baseline_threads and time.monotonic() < deadline:
        time.sleep(0.05)
    gc.collect()


def test_sync_clients_and_streams_leave_no_threads_or_sockets(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.set_tokens_per_second(200)
    with Client(lmstudio_emulator.base_url) as warmup:
        warmup.llm.model(LLM_KEY).respond("x", max_tokens=2)
    settle(0)
    threads, fds = threading.active_count(), lmstudio_emulator.client_socket_count()
    for _ in range(10):
        with Client(lmstudio_emulator.base_url) as client:
            model = client.llm.model(LLM_KEY)
            for _ in range(5):
                with model.respond_stream("story") as stream:
                    for event in stream:
                        if isinstance(event, TextFragment):
                            break
            client.embedding.model().embed(["a", "b"])
    settle(threads)
    assert threading.active_count() == threads
    assert lmstudio_emulator.client_socket_count() <= fds


async def test_async_clients_and_streams_leave_no_tasks_or_sockets(
    lmstudio_emulator: Any,
) -> None:
    lmstudio_emulator.faults.set_tokens_per_second(200)
    async with AsyncClient(lmstudio_emulator.base_url) as warmup:
        await (await warmup.llm.model(LLM_KEY)).respond("x", max_tokens=2)
    tasks, fds = len(asyncio.all_tasks()), lmstudio_emulator.client_socket_count()
    for _ in range(10):
        async with AsyncClient(lmstudio_emulator.base_url) as client:
            model = await client.llm.model(LLM_KEY)
            for _ in range(5):
                async with model.respond_stream("story") as stream:
                    async for event in stream:
                        if isinstance(event, TextFragment):
                            break
            await (await client.embedding.model()).embed(["a", "b"])
    await asyncio.sleep(0.1)
    gc.collect()
    assert len(asyncio.all_tasks()) == tasks
    assert lmstudio_emulator.client_socket_count() <= fds
