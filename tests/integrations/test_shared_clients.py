"""The clients helper both adapters share: one async client per event loop, closed with
its loop, even when the loop is closed without cancelling its tasks."""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING

import pytest
from llama_index.core.async_utils import asyncio_run

from lmstudio_integrations._clients import ClientSettings, ModelClients
from lmstudio_integrations.langchain import LMStudioEmbeddings
from lmstudio_integrations.llamaindex import LMStudioEmbedding

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5"


def _embed_in_a_loop_closed_without_cleanup(clients: ModelClients) -> None:
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(clients.aembed(EMBEDDING_MODEL, ["a"]))
    finally:
        loop.close()  # what LlamaIndex's asyncio_run does: no task is cancelled


@pytest.fixture
def clients(lmstudio_emulator: EmulatorThread) -> ModelClients:
    return ModelClients(ClientSettings(lmstudio_emulator.base_url))


def test_close_frees_the_clients_of_closed_loops(
    clients: ModelClients, lmstudio_emulator: EmulatorThread
) -> None:
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    for _ in range(3):
        _embed_in_a_loop_closed_without_cleanup(clients)
    assert lmstudio_emulator.client_socket_count() > before
    clients.close()
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before


def test_the_next_call_frees_them(clients: ModelClients, lmstudio_emulator: EmulatorThread) -> None:
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    _embed_in_a_loop_closed_without_cleanup(clients)
    assert clients.embed(EMBEDDING_MODEL, ["b"])  # a blocking call
    _embed_in_a_loop_closed_without_cleanup(clients)

    async def embed_and_close() -> None:
        assert await clients.aembed(EMBEDDING_MODEL, ["c"])  # an async call, other loop
        await clients.aclose()

    asyncio.run(embed_and_close())
    clients.close()
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before


def test_asyncio_run_closes_its_loop_client(
    clients: ModelClients, lmstudio_emulator: EmulatorThread
) -> None:
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    asyncio.run(clients.aembed(EMBEDDING_MODEL, ["a"]))  # cancels the guard: closed
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before


async def test_the_loop_client_is_shared_and_aclose_closes_it(clients: ModelClients) -> None:
    first = await clients.async_client()
    assert await clients.async_client() is first
    await clients.aembed(EMBEDDING_MODEL, ["a"])
    await clients.aclose()
    assert first.closed
    assert await clients.async_client() is not first
    await clients.aclose()


async def test_llamaindex_asyncio_run_inside_a_running_loop(
    lmstudio_emulator: EmulatorThread,
) -> None:
    """LlamaIndex runs async code from sync APIs in a fresh loop in a thread, then closes
    that loop; the adapter frees that loop's client on its next call."""
    model = LMStudioEmbedding(model_name=EMBEDDING_MODEL, base_url=lmstudio_emulator.base_url)
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    vector = asyncio_run(model.aget_query_embedding("hello"))
    assert (
        lmstudio_emulator.client_socket_count() > before
    )  # that loop is closed, its client not yet
    assert await model.aget_query_embedding("hello") == vector
    await model.aclose()
    model.close()
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before


def test_the_langchain_adapter_uses_the_same_helper(lmstudio_emulator: EmulatorThread) -> None:
    embeddings = LMStudioEmbeddings(model=EMBEDDING_MODEL, base_url=lmstudio_emulator.base_url)
    gc.collect()
    before = lmstudio_emulator.client_socket_count()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(embeddings.aembed_query("hello"))
    finally:
        loop.close()
    assert isinstance(embeddings.clients, ModelClients)
    embeddings.close()
    gc.collect()
    assert lmstudio_emulator.client_socket_count() <= before
