"""``LMStudioEmbeddings``: LM Studio embedding models as LangChain ``Embeddings``."""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field

from ._connection import LMStudioConnection, lmstudio_errors

__all__ = ["LMStudioEmbeddings"]


class LMStudioEmbeddings(LMStudioConnection, Embeddings):
    """LM Studio embeddings. Texts are sent as strings (no client-side tokenization).

    Example:
        ```python
        from lmstudio_integrations.langchain import LMStudioEmbeddings

        embeddings = LMStudioEmbeddings(model="text-embedding-nomic-embed-text-v1.5")
        vectors = embeddings.embed_documents(["hello", "world"])
        ```
    """

    model_config = ConfigDict(extra="forbid")

    model: str
    """Embedding model key, path or loaded instance identifier."""
    chunk_size: int = Field(default=256, gt=0)
    """Texts per batch: each batch is pipelined over one connection, and the next one
    starts when it is done (bounds memory and the time of one request)."""

    def _batches(self, texts: list[str]) -> list[list[str]]:
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"texts to embed must be strings, not {type(text).__name__}")
        return [texts[i : i + self.chunk_size] for i in range(0, len(texts), self.chunk_size)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embeddings of ``texts``, in order."""
        vectors: list[list[float]] = []
        with lmstudio_errors():
            for batch in self._batches(list(texts)):
                vectors.extend(_floats(v) for v in self.clients.embed(self.model, batch))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embedding of one query text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async twin of :meth:`embed_documents`."""
        vectors: list[list[float]] = []
        with lmstudio_errors():
            for batch in self._batches(list(texts)):
                vectors.extend(_floats(v) for v in await self.clients.aembed(self.model, batch))
        return vectors

    async def aembed_query(self, text: str) -> list[float]:
        """Async twin of :meth:`embed_query`."""
        return (await self.aembed_documents([text]))[0]


def _floats(vector: list[Any]) -> list[float]:
    return [float(value) for value in vector]
