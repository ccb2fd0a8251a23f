"""Retries with the asyncio client.

Connecting and idempotent RPCs are retried after a refused connection or a dropped one;
predictions never are; ``max_retries=0`` turns retrying off.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from lmstudio_core import AsyncClient, ConnectError, DisconnectedError, TextFragment

from .conftest import EMBEDDING_KEY, LLM_KEY, TEST_TIMEOUTS


@pytest.fixture
async def retrying(lmstudio_emulator: Any) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=3
    ) as client:
        yield client


@pytest.fixture
async def not_retrying(lmstudio_emulator: Any) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=0
    ) as client:
        yield client


def calls_to(emulator: Any, endpoint: str) -> int:
    return emulator.record.endpoints().count(endpoint)


# -- (a) connecting ---------------------------------------------------------------------


async def test_connecting_retries_a_refused_handshake(
    retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    lmstudio_emulator.faults.refuse_connections(2, namespace="llm")
    loaded = await retrying.llm.list_loaded()
    assert LLM_KEY in [model.identifier for model in loaded]
    assert calls_to(lmstudio_emulator, "listLoaded") == 1


async def test_connecting_retries_until_the_server_listens(unused_port: int) -> None:
    from lmstudio_core.emulator import EmulatorThread

    emulator = EmulatorThread(host="127.0.0.1", port=unused_port)
    starter = threading.Timer(0.2, emulator.start)
    try:
        async with AsyncClient(
            f"127.0.0.1:{unused_port}", timeout=TEST_TIMEOUTS, max_retries=6
        ) as client:
            starter.start()
            assert (await client.system.version()).version
    finally:
        starter.join()
        emulator.stop()


# -- (b) idempotent RPCs after a dropped connection -------------------------------------


async def test_list_loaded_is_retried_after_a_drop(
    retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    expected = [model.identifier for model in await retrying.llm.list_loaded()]
    lmstudio_emulator.faults.drop_connection_on("listLoaded")
    assert [model.identifier for model in await retrying.llm.list_loaded()] == expected
    assert calls_to(lmstudio_emulator, "listLoaded") == 3


async def test_tokenize_is_retried_after_a_drop(
    retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    model = await retrying.llm.model(LLM_KEY)
    expected = await model.tokenize("Hello world")
    lmstudio_emulator.faults.drop_connection_on("tokenize")
    assert await model.tokenize("Hello world") == expected
    assert calls_to(lmstudio_emulator, "tokenize") == 3


async def test_embedding_a_batch_is_retried_after_a_drop(
    retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    model = await retrying.embedding.model(EMBEDDING_KEY)
    texts = [f"text {i}" for i in range(6)]
    expected = await model.embed(texts)
    lmstudio_emulator.faults.drop_connection_on("embedString", namespace="embedding")
    assert await model.embed(texts) == expected


async def test_retries_give_up_after_max_retries(lmstudio_emulator: Any) -> None:
    async with AsyncClient(
        lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1
    ) as client:
        await client.llm.list_loaded()
        lmstudio_emulator.faults.drop_connection_on("listLoaded", times=2)
        with pytest.raises(DisconnectedError):
            await client.llm.list_loaded()
        assert calls_to(lmstudio_emulator, "listLoaded") == 1 + 2
        assert await client.llm.list_loaded()  # the next request reconnects


# -- (c) predictions are never retried ---------------------------------------------------


async def test_prediction_dropped_at_the_start_is_not_retried(
    retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    model = await retrying.llm.model(LLM_KEY)
    lmstudio_emulator.faults.drop_connection_on("predict")
    with pytest.raises(DisconnectedError) as info:
        await model.respond("Hi")
    assert info.value.__cause__ is not None
    assert calls_to(lmstudio_emulator, "predict") == 1
    assert lmstudio_emulator.record.predictions == []


async def test_prediction_dropped_mid_stream_is_not_retried(
    retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    model = await retrying.llm.model(LLM_KEY)
    lmstudio_emulator.faults.drop_connection_after(3)
    texts: list[str] = []
    with pytest.raises(DisconnectedError):  # noqa: PT012
        async with model.respond_stream("story") as stream:
            async for event in stream:
                if isinstance(event, TextFragment):
                    texts.append(event.text)
    assert len(texts) == 3
    assert calls_to(lmstudio_emulator, "predict") == 1
    assert (await model.respond("again", max_tokens=3)).content  # a new request reconnects


# -- (d) max_retries=0 --------------------------------------------------------------------


async def test_max_retries_zero_does_not_retry_a_drop(
    not_retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    await not_retrying.llm.list_loaded()
    lmstudio_emulator.faults.drop_connection_on("listLoaded")
    with pytest.raises(DisconnectedError):
        await not_retrying.llm.list_loaded()
    assert calls_to(lmstudio_emulator, "listLoaded") == 2
    assert await not_retrying.llm.list_loaded()


async def test_max_retries_zero_does_not_retry_connecting(
    not_retrying: AsyncClient, lmstudio_emulator: Any
) -> None:
    lmstudio_emulator.faults.refuse_connections(1)
    with pytest.raises(ConnectError):
        await not_retrying.llm.list_loaded()
    assert lmstudio_emulator.record.requests == []
    assert await not_retrying.llm.list_loaded()
