"""``LMStudioEmbedding``: an LM Studio embedding model for LlamaIndex."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field
from lmstudio_core import DEFAULT_TTL, Timeouts

from ._connection import LMStudioConnection
from ._convert import token_errors

__all__ = ["LMStudioEmbedding"]


class LMStudioEmbedding(LMStudioConnection, BaseEmbedding):
    """An LM Studio embedding model as a LlamaIndex embedding model.

    Texts are sent as strings, ``embed_batch_size`` at a time (each batch pipelined on one
    connection); the async methods use LM Studio's asyncio client. Nothing connects in the
    constructor; the model is loaded on first use if needed, and loaded again if LM Studio
    unloaded it meanwhile (e.g. JIT auto-evict after another model was loaded on demand).

    Examples:
        ```python
        from lmstudio_integrations.llamaindex import LMStudioEmbedding

        embed_model = LMStudioEmbedding(
            model_name="text-embedding-nomic-embed-text-v1.5",
            query_instruction="search_query:",
            text_instruction="search_document:",
        )
        vector = embed_model.get_query_embedding("Where is the Eiffel tower?")
        ```
    """

    model_name: str = Field(
        description="Model key, path or loaded instance identifier of the embedding model."
    )
    base_url: str | None = Field(
        default=None,
        description="LM Studio's address: 'http://host:port', 'ws://host:port' or 'host:port'. "
        "Default: LMSTUDIO_BASE_URL, else find a local LM Studio.",
    )
    api_token: str | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="An 'sk-lm-...' API token. Default: LM_API_TOKEN or LMSTUDIO_API_TOKEN.",
    )
    request_timeout: float | Timeouts | None = Field(
        default=None, description="Seconds for every timeout, or a Timeouts value."
    )
    max_retries: int | None = Field(
        default=None, ge=0, description="Retries for connecting and embedding requests."
    )
    query_instruction: str | None = Field(
        default=None, description="Text put before each query, e.g. 'search_query:'."
    )
    text_instruction: str | None = Field(
        default=None, description="Text put before each document, e.g. 'search_document:'."
    )
    load_config: dict[str, Any] | None = Field(
        default=None, description="Load options if this object loads the model."
    )
    ttl: float | None = Field(
        default=DEFAULT_TTL,
        gt=0,
        description="Seconds a model loaded by this object stays loaded while idle (None: "
        "until unloaded). A model that is already loaded keeps its own TTL.",
    )

    @classmethod
    def class_name(cls) -> str:
        return "LMStudioEmbedding"

    @staticmethod
    def _with(instruction: str | None, text: str) -> str:
        return f"{instruction.strip()} {text}" if instruction else text

    def _embed(self, texts: list[str]) -> list[Embedding]:
        with token_errors():
            vectors = self._clients.embed(self.model_name, texts)
        return [[float(value) for value in vector] for vector in vectors]

    async def _aembed(self, texts: list[str]) -> list[Embedding]:
        with token_errors():
            vectors = await self._clients.aembed(self.model_name, texts)
        return [[float(value) for value in vector] for vector in vectors]

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([self._with(self.query_instruction, query)])[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([self._with(self.query_instruction, query)]))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([self._with(self.text_instruction, text)])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([self._with(self.text_instruction, text)]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed([self._with(self.text_instruction, text) for text in texts])

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed([self._with(self.text_instruction, text) for text in texts])
