"""Retrieval-augmented generation end to end: LM Studio embeds, retrieves and answers.

Sockets may only reach the loopback emulator, and ``Settings.llm`` /
``Settings.embed_model`` fail if read, so nothing can fall back to OpenAI or to a mock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core import Document, Settings, SummaryIndex, VectorStoreIndex
from llama_index.core.base.response.schema import AsyncStreamingResponse
from llama_index.core.chat_engine.types import ChatMode
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.utils import get_tokenizer
from llamaindex_models import CHAT_MODEL
from lmstudio_core import Client

from lmstudio_integrations.llamaindex import LMStudio

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

    from lmstudio_integrations.llamaindex import LMStudioEmbedding

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

DOCUMENTS = [
    Document(text="The Eiffel Tower is in Paris. It was finished in 1889.", doc_id="eiffel"),
    Document(text="Photosynthesis turns sunlight, water and CO2 into sugar.", doc_id="plants"),
    Document(text="The Rust borrow checker enforces ownership rules.", doc_id="rust"),
]
QUESTION = "When was the Eiffel Tower in Paris finished?"


@pytest.fixture(autouse=True)
def no_default_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> Any:
        def get(self: object) -> Any:
            pytest.fail(f"Settings.{name} was used: something fell back to a default model")

        return property(get)

    monkeypatch.setattr(type(Settings), "llm", refuse("llm"))
    monkeypatch.setattr(type(Settings), "embed_model", refuse("embed_model"))


@pytest.fixture
def llamaindex_event_loop() -> Iterator[None]:
    """Shut down the event loop LlamaIndex leaves behind in blocking code.

    Blocking LlamaIndex code runs coroutines with ``asyncio_run``, which makes a loop with
    ``asyncio.get_event_loop()`` when none is running and never closes it. This closes it
    the way ``asyncio.run`` would: cancel what is left (the LM Studio clients of that loop
    close themselves then), then close.
    """
    yield
    policy = asyncio.get_event_loop_policy()
    try:
        loop = policy.get_event_loop()
    except RuntimeError:  # none was left behind
        return
    if loop.is_running():
        return
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.close()
    policy.set_event_loop(None)


def build_index(embed_model: LMStudioEmbedding) -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(DOCUMENTS, embed_model=embed_model)


def prompt_of_last_prediction(emulator: EmulatorThread) -> str:
    history = emulator.record.predictions[-1].history
    return "\n".join(part.get("text", "") for m in history for part in m["content"])


@pytest.mark.usefixtures("llamaindex_event_loop")
def test_query_engine(
    llm: LMStudio, embed_model: LMStudioEmbedding, emulator: EmulatorThread
) -> None:
    index = build_index(embed_model)
    emulator.engine.script_reply("It was finished in 1889.")
    engine = index.as_query_engine(llm=llm, similarity_top_k=1)
    response = engine.query(QUESTION)
    assert str(response) == "It was finished in 1889."
    assert [node.node.ref_doc_id for node in response.source_nodes] == ["eiffel"]
    prompt = prompt_of_last_prediction(emulator)
    assert "finished in 1889" in prompt
    assert "Photosynthesis" not in prompt
    embedded = [r for r in emulator.record.requests if r.endpoint == "embedString"]
    assert len(embedded) == len(DOCUMENTS) + 1  # the documents, then the question


@pytest.mark.usefixtures("llamaindex_event_loop")
def test_index_built_with_async_embeddings(
    llm: LMStudio, embed_model: LMStudioEmbedding, emulator: EmulatorThread
) -> None:
    index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=embed_model, use_async=True)
    retriever = index.as_retriever(similarity_top_k=1)
    nodes = retriever.retrieve("What turns sunlight into sugar?")
    assert [node.node.ref_doc_id for node in nodes] == ["plants"]


async def test_async_streaming_query_engine(
    llm: LMStudio, embed_model: LMStudioEmbedding, emulator: EmulatorThread
) -> None:
    index = build_index(embed_model)
    emulator.engine.script_reply("Sunlight, water and CO2 become sugar.")
    engine = index.as_query_engine(llm=llm, similarity_top_k=1, streaming=True)
    response = await engine.aquery("What does photosynthesis turn into sugar?")
    assert isinstance(response, AsyncStreamingResponse)
    text = "".join([token async for token in response.async_response_gen()])
    assert text == "Sunlight, water and CO2 become sugar."
    assert [node.node.ref_doc_id for node in response.source_nodes] == ["plants"]
    assert "Photosynthesis" in prompt_of_last_prediction(emulator)


async def test_chat_engine(
    llm: LMStudio, embed_model: LMStudioEmbedding, emulator: EmulatorThread
) -> None:
    index = build_index(embed_model)
    # An explicit in-process memory: the default one keeps an aiosqlite connection that
    # LlamaIndex never closes (a ResourceWarning unrelated to LM Studio).
    memory = ChatMemoryBuffer.from_defaults(token_limit=2000)
    chat_engine = index.as_chat_engine(
        chat_mode=ChatMode.CONTEXT, llm=llm, memory=memory, similarity_top_k=1
    )
    emulator.engine.script_reply("In 1889.")
    reply = await chat_engine.achat(QUESTION)
    assert str(reply) == "In 1889."
    assert "finished in 1889" in prompt_of_last_prediction(emulator)


# -- prompt packing ---------------------------------------------------------------------------

SMALL_CONTEXT = 2048
RUSSIAN = (
    "Москва — столица России, крупнейший по численности населения город страны. "
    "Город стоит на реке Москве, и через него проходят многие железные дороги. "
)
JAPANESE = "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。川と橋が多い。"
CODE = (
    "def dot(a: list[float], b: list[float]) -> float:\n"
    "    return sum(x * y for x, y in zip(a, b, strict=True))  # {i}\n"
)


def _packed_documents() -> list[Document]:
    """Text that real models' tokenizers count more tokens for than tiktoken, much more
    of it than one prompt of a 2048-token model holds."""
    return [
        Document(text=(RUSSIAN * 12) + (JAPANESE * 12), doc_id="cities"),
        Document(text="".join(CODE.format(i=i) for i in range(60)), doc_id="code"),
        Document(text=(JAPANESE * 20) + (RUSSIAN * 6), doc_id="more cities"),
    ]


@pytest.mark.parametrize("loaded_by", ["load_config", "lm studio"])
@pytest.mark.usefixtures("llamaindex_event_loop")
def test_tree_summarize_fits_a_small_context(emulator: EmulatorThread, loaded_by: str) -> None:
    """LlamaIndex packs each prompt up to metadata.context_window as tiktoken counts it;
    the model's own count must still fit into the context it is loaded with."""
    documents = _packed_documents()
    text = "\n".join(document.text for document in documents)
    with Client(emulator.base_url) as client:
        model_tokens = client.llm.model(CHAT_MODEL).count_tokens(text)
    assert model_tokens > 1.3 * len(get_tokenizer()(text))  # the model counts more
    emulator.unload_model(CHAT_MODEL)
    if loaded_by == "lm studio":
        emulator.load_model(CHAT_MODEL, context_length=SMALL_CONTEXT)
        llm = LMStudio(model_name=CHAT_MODEL, base_url=emulator.base_url, request_timeout=20)
        llm.complete("Hello")  # the first request tells the adapter the loaded context
    else:
        llm = LMStudio(
            model_name=CHAT_MODEL,
            base_url=emulator.base_url,
            request_timeout=20,
            load_config={"context_length": SMALL_CONTEXT},
        )
    try:
        index = SummaryIndex.from_documents(documents)
        engine = index.as_query_engine(llm=llm, response_mode="tree_summarize")
        emulator.record.clear()
        response = engine.query("What are these documents about?")
    finally:
        llm.close()
    assert str(response)
    assert len(emulator.record.predictions) > len(documents)  # it had to pack and summarize
    assert {p.model_key for p in emulator.record.predictions} == {CHAT_MODEL}
