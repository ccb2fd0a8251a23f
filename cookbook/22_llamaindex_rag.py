"""LlamaIndex RAG: a ``VectorStoreIndex`` embedded with ``LMStudioEmbedding`` and queried
with ``LMStudio`` (both set in ``Settings``, so nothing falls back to a hosted API).

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``),
an LLM and an embedding model. Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this
machine; ``LMSTUDIO_MODEL`` and ``LMSTUDIO_EMBEDDING_MODEL`` select the models.

Tip: load both models in LM Studio first (app or ``lms load``): with JIT auto-evict on
(the default), a model loaded on demand unloads the previous one loaded on demand.
"""

from __future__ import annotations

import os

from llama_index.core import Document, Settings, VectorStoreIndex

from lmstudio_integrations.llamaindex import LMStudio, LMStudioEmbedding

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")
EMBEDDING_MODEL = os.environ.get("LMSTUDIO_EMBEDDING_MODEL", "text-embedding-nomic-embed-text-v1.5")

DOCUMENTS = [
    Document(text="Saturn has 146 known moons; Titan is the largest.", metadata={"topic": "space"}),
    Document(text="The Great Barrier Reef lies off the coast of Queensland, Australia."),
    Document(text="Honey never spoils: edible honey was found in ancient Egyptian tombs."),
    Document(text="Jupiter's Great Red Spot is a storm larger than the Earth."),
]


def main() -> None:
    Settings.llm = LMStudio(model_name=MODEL, base_url=BASE_URL, temperature=0)
    Settings.embed_model = LMStudioEmbedding(model_name=EMBEDDING_MODEL, base_url=BASE_URL)

    index = VectorStoreIndex.from_documents(DOCUMENTS)
    print(f"Indexed {len(DOCUMENTS)} documents")

    question = "What is the largest moon of Saturn?"
    for hit in index.as_retriever(similarity_top_k=2).retrieve(question):
        print(f"retrieved ({hit.score:.3f}): {hit.node.get_content()}")

    response = index.as_query_engine(similarity_top_k=2).query(question)
    print(f"Q: {question}\nA: {response}")
    print(f"sources: {len(response.source_nodes)} nodes")


if __name__ == "__main__":
    main()
