"""Model objects built per request and dropped, as web handlers do, leave nothing behind:
every model class of both adapters, sync and async, and ``configurable_fields`` (which
builds a new object on every call)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.runnables import ConfigurableField
from llama_index.core.llms import ChatMessage

from lmstudio_integrations._pool import POOL
from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings, LMStudioLLM
from lmstudio_integrations.llamaindex import LMStudio, LMStudioEmbedding

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

CHAT_MODEL = "qwen2.5-0.5b-instruct"
EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5"
REQUESTS = 30


def snapshot(emulator: EmulatorThread) -> tuple[int, int, int]:
    gc.collect()
    return (
        threading.active_count(),
        len(os.listdir("/proc/self/fd")),
        emulator.client_socket_count(),
    )


def assert_back_to(
    baseline: tuple[int, int, int], emulator: EmulatorThread, pooled: tuple[int, int] = (0, 0)
) -> None:
    for _ in range(200):  # closes that a finalizer hands to a daemon thread finish quickly
        now = snapshot(emulator)
        if all(n <= b for n, b in zip(now, baseline, strict=True)):
            break
        threading.Event().wait(0.05)
    assert now[0] <= baseline[0], f"threads {baseline[0]} -> {now[0]}"
    assert now[1] <= baseline[1], f"file descriptors {baseline[1]} -> {now[1]}"
    assert now[2] <= baseline[2], f"LM Studio sockets {baseline[2]} -> {now[2]}"
    assert POOL.stats() == pooled  # blocking and async clients still leased


def sync_requests(url: str) -> dict[str, Callable[[], Any]]:
    return {
        "ChatLMStudio": lambda: ChatLMStudio(model=CHAT_MODEL, base_url=url).invoke("Hi"),
        "LMStudioLLM": lambda: LMStudioLLM(model=CHAT_MODEL, base_url=url).invoke("Once"),
        "LMStudioEmbeddings": lambda: LMStudioEmbeddings(
            model=EMBEDDING_MODEL, base_url=url
        ).embed_query("hello"),
        "LMStudio": lambda: LMStudio(model_name=CHAT_MODEL, base_url=url).chat(
            [ChatMessage(role="user", content="Hi")]
        ),
        "LMStudioEmbedding": lambda: LMStudioEmbedding(
            model_name=EMBEDDING_MODEL, base_url=url
        ).get_query_embedding("hello"),
    }


def async_requests(url: str) -> dict[str, Callable[[], Awaitable[Any]]]:
    return {
        "ChatLMStudio": lambda: ChatLMStudio(model=CHAT_MODEL, base_url=url).ainvoke("Hi"),
        "LMStudioLLM": lambda: LMStudioLLM(model=CHAT_MODEL, base_url=url).ainvoke("Once"),
        "LMStudioEmbeddings": lambda: LMStudioEmbeddings(
            model=EMBEDDING_MODEL, base_url=url
        ).aembed_query("hello"),
        "LMStudio": lambda: LMStudio(model_name=CHAT_MODEL, base_url=url).achat(
            [ChatMessage(role="user", content="Hi")]
        ),
        "LMStudioEmbedding": lambda: LMStudioEmbedding(
            model_name=EMBEDDING_MODEL, base_url=url
        ).aget_query_embedding("hello"),
    }


@pytest.mark.parametrize("name", list(sync_requests("")))
def test_objects_built_per_request_leave_nothing(
    name: str, lmstudio_emulator: EmulatorThread, caplog: pytest.LogCaptureFixture
) -> None:
    request = sync_requests(lmstudio_emulator.base_url)[name]
    request()  # the model is loaded; its first socket counted out of the baseline
    baseline = snapshot(lmstudio_emulator)
    threads = [threading.Thread(target=request) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_back_to(baseline, lmstudio_emulator)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("name", list(async_requests("")))
def test_async_objects_built_per_request_leave_nothing(
    name: str, lmstudio_emulator: EmulatorThread, caplog: pytest.LogCaptureFixture
) -> None:
    request = async_requests(lmstudio_emulator.base_url)[name]
    baseline = snapshot(lmstudio_emulator)

    async def serve() -> None:
        for _ in range(3):
            await asyncio.gather(*(request() for _ in range(REQUESTS)))
            gc.collect()  # as the requests' objects go away in a running server

    asyncio.run(serve())
    assert_back_to(baseline, lmstudio_emulator)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_configurable_fields_leave_nothing(
    lmstudio_emulator: EmulatorThread, caplog: pytest.LogCaptureFixture
) -> None:
    llm = ChatLMStudio(model=CHAT_MODEL, base_url=lmstudio_emulator.base_url)
    configurable = llm.configurable_fields(
        temperature=ConfigurableField(id="temperature", name="Temperature")
    )
    configurable.invoke("Hi")
    baseline = snapshot(lmstudio_emulator)
    for index in range(REQUESTS):  # each call builds a new ChatLMStudio
        reply = configurable.invoke("Hi", config={"configurable": {"temperature": index / 50}})
        assert reply.content
    assert_back_to(baseline, lmstudio_emulator, pooled=(1, 0))  # the one of ``llm``
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    llm.close()


def test_an_object_collected_while_the_pool_is_locked_is_released_later(
    lmstudio_emulator: EmulatorThread,
) -> None:
    """The collector can run a finalizer at any allocation, also while this thread holds
    the pool's lock (building a client, say): the release must wait, not deadlock."""
    llm = ChatLMStudio(model=CHAT_MODEL, base_url=lmstudio_emulator.base_url)
    llm.invoke("Hi")
    cycle: list[Any] = [llm]
    cycle.append(cycle)  # collectable by the cycle collector only
    del llm, cycle
    done = threading.Event()
    pending: list[int] = []

    def collect_while_locked() -> None:
        with POOL._locked():
            gc.collect()  # runs the finalizer here, under the lock
            pending.append(len(POOL._pending))  # deferred, not released yet
        done.set()

    worker = threading.Thread(target=collect_while_locked, daemon=True)
    worker.start()
    worker.join(10)
    assert done.is_set(), "the finalizer deadlocked on the pool's lock"
    assert pending == [1]
    for _ in range(100):
        if POOL.stats() == (0, 0):
            break
        threading.Event().wait(0.05)
    assert POOL.stats() == (0, 0)
