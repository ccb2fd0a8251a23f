"""LM Studio models for LlamaIndex: :class:`LMStudio` (a function-calling LLM) and
:class:`LMStudioEmbedding`, on LM Studio's native WebSocket API.

::

    from llama_index.core import Settings
    from lmstudio_integrations.llamaindex import LMStudio, LMStudioEmbedding

    Settings.llm = LMStudio(model_name="qwen2.5-7b-instruct")
    Settings.embed_model = LMStudioEmbedding(model_name="text-embedding-nomic-embed-text-v1.5")
"""

from __future__ import annotations

from .embeddings import LMStudioEmbedding
from .llms import DEFAULT_CONTEXT_WINDOW_FRACTION, LMStudio

__all__ = ["DEFAULT_CONTEXT_WINDOW_FRACTION", "LMStudio", "LMStudioEmbedding"]
