"""Embeddings: a tiny semantic search (cosine similarity over a few sentences).

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``)
and an embedding model. Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine;
``LMSTUDIO_EMBEDDING_MODEL`` selects the model (default
``text-embedding-nomic-embed-text-v1.5``).
"""

from __future__ import annotations

import math
import os

from lmstudio_core import Client

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_EMBEDDING_MODEL", "text-embedding-nomic-embed-text-v1.5")

DOCUMENTS = [
    "The Eiffel Tower is a wrought-iron lattice tower in Paris.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "The Python programming language was created by Guido van Rossum.",
    "Mount Everest is the highest mountain above sea level.",
    "A sourdough starter is a fermented mix of flour and water.",
]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def main() -> None:
    with Client(BASE_URL) as client:
        model = client.embedding.model(MODEL)

        vectors = model.embed(DOCUMENTS)  # a list of strings is embedded in one pipelined batch
        print(f"Embedded {len(vectors)} documents, {len(vectors[0])} dimensions each")

        for query in ["Which tower is in Paris?", "Who invented Python?"]:
            query_vector = model.embed(query)
            scored = sorted(
                ((cosine(query_vector, v), doc) for v, doc in zip(vectors, DOCUMENTS, strict=True)),
                reverse=True,
            )
            print(f"\nQuery: {query}")
            for score, doc in scored[:2]:
                print(f"  {score:.3f}  {doc}")


if __name__ == "__main__":
    main()
