"""LMStudioEmbeddings against the emulator: batching, strings on the wire, async."""

from __future__ import annotations

import pytest
from langchain_core import exceptions as lc_errors
from langchain_models import EMBEDDING_MODEL
from lmstudio_core import Client
from lmstudio_core.emulator import EmulatorThread

from lmstudio_integrations.langchain import LMStudioEmbeddings

TEXTS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def _sent(emu: EmulatorThread) -> list[object]:
    return [r.parameter["inputString"] for r in emu.record.requests if r.endpoint == "embedString"]


def test_documents_are_sent_as_strings(emu: EmulatorThread, embeddings: LMStudioEmbeddings) -> None:
    vectors = embeddings.embed_documents(TEXTS)
    assert _sent(emu) == TEXTS
    assert len(vectors) == 5
    assert {len(v) for v in vectors} == {768}
    assert all(isinstance(x, float) for v in vectors for x in v)
    with Client(emu.base_url) as client:
        expected = client.embedding.model(EMBEDDING_MODEL).embed(TEXTS)
    assert vectors == expected


def test_batching_keeps_order(emu: EmulatorThread) -> None:
    small = LMStudioEmbeddings(model=EMBEDDING_MODEL, base_url=emu.base_url, chunk_size=2)
    whole = LMStudioEmbeddings(model=EMBEDDING_MODEL, base_url=emu.base_url)
    assert small.embed_documents(TEXTS) == whole.embed_documents(TEXTS)
    assert small.embed_documents([]) == []


def test_query(embeddings: LMStudioEmbeddings) -> None:
    assert embeddings.embed_query("alpha") == embeddings.embed_documents(["alpha"])[0]


async def test_async(embeddings: LMStudioEmbeddings) -> None:
    vectors = await embeddings.aembed_documents(TEXTS)
    assert vectors == embeddings.embed_documents(TEXTS)
    assert await embeddings.aembed_query("beta") == vectors[1]


def test_only_strings(embeddings: LMStudioEmbeddings) -> None:
    with pytest.raises(TypeError, match="must be strings"):
        embeddings.embed_documents([[1, 2, 3]])  # type: ignore[list-item]


def test_errors_are_mapped(emu: EmulatorThread) -> None:
    missing = LMStudioEmbeddings(model="missing-embedder", base_url=emu.base_url)
    with pytest.raises(lc_errors.ModelNotFoundError):
        missing.embed_query("x")
    wrong_kind = LMStudioEmbeddings(model="qwen2.5-0.5b-instruct", base_url=emu.base_url)
    with pytest.raises(lc_errors.ModelInvalidRequestError):
        wrong_kind.embed_query("x")
