"""LangChain embeddings: ``LMStudioEmbeddings`` for documents and queries, sync and async.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``)
and an embedding model. ``LMStudioEmbeddings`` reads ``LMSTUDIO_BASE_URL`` (else finds a
local LM Studio); ``LMSTUDIO_EMBEDDING_MODEL`` selects the model (default
``text-embedding-nomic-embed-text-v1.5``).
"""

from __future__ import annotations

import asyncio
import math
import os

from lmstudio_integrations.langchain import LMStudioEmbeddings

MODEL = os.environ.get("LMSTUDIO_EMBEDDING_MODEL", "text-embedding-nomic-embed-text-v1.5")

TEXTS = [
    "Cats are small domesticated carnivorous mammals.",
    "The stock market fell sharply on Monday.",
    "Dogs are loyal companions and popular pets.",
]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def main() -> None:
    embeddings = LMStudioEmbeddings(model=MODEL)

    vectors = embeddings.embed_documents(TEXTS)
    print(f"embed_documents: {len(vectors)} vectors of {len(vectors[0])} dimensions")

    query = embeddings.embed_query("Which animals make good pets?")
    for text, vector in sorted(
        zip(TEXTS, vectors, strict=True), key=lambda p: -cosine(query, p[1])
    ):
        print(f"  {cosine(query, vector):6.3f}  {text}")

    async_vectors = asyncio.run(embeddings.aembed_documents(TEXTS))
    same = all(
        math.isclose(cosine(a, b), 1.0, abs_tol=1e-6)
        for a, b in zip(vectors, async_vectors, strict=True)
    )
    print(f"aembed_documents: {len(async_vectors)} vectors, same as the sync ones: {same}")


if __name__ == "__main__":
    main()
