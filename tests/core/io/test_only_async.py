"""What only the asyncio client does: async tools, tasks sharing a socket, cancelled tasks
and timeout scopes. Its blocking counterpart is ``test_only_sync.py``; everything the two
clients share is tested by ``test_*_async.py`` and their generated blocking twins."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lmstudio_core import AsyncClient, DisconnectedError

from .conftest import LLM_KEY
from .test_cancellation_async import wait_for_cancel


async def test_act_accepts_async_tools(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

    async def aadd(a: int, b: int) -> int:
        """Add."""
        await asyncio.sleep(0)
        return a + b

    call = ScriptedToolCall("aadd", {"a": 1, "b": 2})
    lmstudio_emulator.engine.script(None, ScriptedTurn(tool_calls=[call]))
    result = await (await aclient.llm.model(LLM_KEY)).act("add", [aadd])
    assert [m.content for m in result.chat if m.role == "tool"] == ["3"]


async def test_tasks_share_one_socket(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    model = await aclient.llm.model(LLM_KEY)
    results = await asyncio.gather(*(model.respond(f"hello {i}", max_tokens=8) for i in range(8)))
    assert len(results) == 8
    assert all(r.content for r in results)
    llm_clients = {
        r.client_identifier for r in lmstudio_emulator.record.requests if r.namespace == "llm"
    }
    assert len(llm_clients) == 1


async def test_close_fails_pending_requests_promptly(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.delay("tokenize", 5.0)
    client = AsyncClient(lmstudio_emulator.base_url, max_retries=0)
    model = await client.llm.model(LLM_KEY)
    task = asyncio.create_task(model.tokenize("x"))
    await asyncio.sleep(0.3)
    start = time.monotonic()
    await client.close()
    with pytest.raises(DisconnectedError, match="closed"):
        await task
    assert time.monotonic() - start < 3


async def test_cancelled_task_sends_cancel_and_propagates(aclient: AsyncClient, slow: Any) -> None:
    model = await aclient.llm.model(LLM_KEY)
    started = asyncio.Event()

    async def consume() -> None:
        async with model.respond_stream("Write a long story") as stream:
            async for _ in stream:
                started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_cancel(slow)


async def test_timeout_scope_cancels_respond(aclient: AsyncClient, slow: Any) -> None:
    model = await aclient.llm.model(LLM_KEY)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await model.respond("Write a long story", max_tokens=1000)
    await wait_for_cancel(slow)
