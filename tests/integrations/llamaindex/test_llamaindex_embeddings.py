"""``LMStudioEmbedding`` against the emulator's hashed bag-of-words embedder."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding, similarity
from llamaindex_models import EMBEDDING_MODEL

from lmstudio_integrations.llamaindex import LMStudioEmbedding

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

DOCS = [
    "The cat sat on the mat.",
    "Cats like to sit on mats.",
    "Stock markets fell sharply today.",
]


def embed_requests(emulator: EmulatorThread) -> list[str]:
    return [
        r.parameter["inputString"] for r in emulator.record.requests if r.endpoint == "embedString"
    ]


def test_is_a_base_embedding() -> None:
    assert issubclass(LMStudioEmbedding, BaseEmbedding)
    model = LMStudioEmbedding(model_name="m", base_url="http://127.0.0.1:9")  # no I/O
    assert model.to_payload()["model_name"] == "m"
    assert model.class_name() == "LMStudioEmbedding"


def test_query_embedding(embed_model: LMStudioEmbedding) -> None:
    vector = embed_model.get_query_embedding("Where is the cat?")
    assert len(vector) == 768
    assert all(type(value) is float for value in vector)


def test_text_embeddings_keep_similar_texts_close(embed_model: LMStudioEmbedding) -> None:
    cat, cats, stocks = embed_model.get_text_embedding_batch(DOCS)
    assert similarity(cat, cats) > similarity(cat, stocks)


def test_batches_follow_embed_batch_size(emulator: EmulatorThread) -> None:
    model = LMStudioEmbedding(
        model_name=EMBEDDING_MODEL, base_url=emulator.base_url, embed_batch_size=2
    )
    try:
        vectors = model.get_text_embedding_batch([f"text {i}" for i in range(5)])
    finally:
        model.close()
    assert len(vectors) == 5
    assert embed_requests(emulator) == [f"text {i}" for i in range(5)]


def test_instructions(emulator: EmulatorThread) -> None:
    model = LMStudioEmbedding(
        model_name=EMBEDDING_MODEL,
        base_url=emulator.base_url,
        query_instruction="search_query:",
        text_instruction="search_document:",
    )
    try:
        model.get_query_embedding("cats")
        model.get_text_embedding("Cats sit.")
        model.get_text_embedding_batch(["Dogs run."])
    finally:
        model.close()
    assert embed_requests(emulator) == [
        "search_query: cats",
        "search_document: Cats sit.",
        "search_document: Dogs run.",
    ]


async def test_async_embeddings(embed_model: LMStudioEmbedding, emulator: EmulatorThread) -> None:
    query = await embed_model.aget_query_embedding("Where is the cat?")
    text = await embed_model.aget_text_embedding("The cat sat on the mat.")
    batch = await embed_model.aget_text_embedding_batch(DOCS)
    assert len(query) == len(text) == 768
    assert batch[0] == text
    assert embed_model.get_text_embedding("The cat sat on the mat.") == text  # sync agrees


async def test_async_batches_with_workers(emulator: EmulatorThread) -> None:
    model = LMStudioEmbedding(
        model_name=EMBEDDING_MODEL, base_url=emulator.base_url, embed_batch_size=3, num_workers=2
    )
    vectors = await model.aget_text_embedding_batch([f"text {i}" for i in range(7)])
    await model.aclose()
    assert len(vectors) == 7
    assert sorted(embed_requests(emulator)) == sorted(f"text {i}" for i in range(7))


def test_the_embedding_model_is_loaded_on_demand(emulator: EmulatorThread) -> None:
    emulator.unload_model(EMBEDDING_MODEL)
    model = LMStudioEmbedding(model_name=EMBEDDING_MODEL, base_url=emulator.base_url, ttl=60)
    try:
        assert len(model.get_query_embedding("hello")) == 768
    finally:
        model.close()
    assert EMBEDDING_MODEL in emulator.loaded_identifiers("embedding")


def test_an_llm_is_not_an_embedding_model(emulator: EmulatorThread) -> None:
    model = LMStudioEmbedding(model_name="qwen2.5-0.5b-instruct", base_url=emulator.base_url)
    try:
        with pytest.raises(Exception, match=r"(?i)embedding"):
            model.get_query_embedding("hello")
    finally:
        model.close()


def test_a_new_event_loop_gets_its_own_client(embed_model: LMStudioEmbedding) -> None:
    first = asyncio.run(embed_model.aget_query_embedding("cats"))
    second = asyncio.run(embed_model.aget_query_embedding("cats"))
    assert first == second


def test_an_unloaded_embedding_model_is_resolved_again(
    embed_model: LMStudioEmbedding, emulator: EmulatorThread
) -> None:
    first = embed_model.get_query_embedding("hello")
    assert emulator.unload_model(EMBEDDING_MODEL)  # e.g. JIT auto-evict
    assert embed_model.get_query_embedding("hello") == first
    assert EMBEDDING_MODEL in emulator.loaded_identifiers("embedding")


async def test_an_unloaded_embedding_model_is_resolved_again_async(
    embed_model: LMStudioEmbedding, emulator: EmulatorThread
) -> None:
    first = await embed_model.aget_query_embedding("hello")
    assert emulator.unload_model(EMBEDDING_MODEL)
    assert await embed_model.aget_query_embedding("hello") == first
    await embed_model.aclose()


def test_base_url_from_the_environment(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", emulator.base_url)
    model = LMStudioEmbedding(model_name=EMBEDDING_MODEL)
    try:
        assert model.base_url is None
        assert len(model.get_query_embedding("hello")) == 768
    finally:
        model.close()
