"""Model keys of the emulator's default catalog used by the LlamaIndex adapter tests."""

from __future__ import annotations

CHAT_MODEL = "qwen2.5-0.5b-instruct"  # preloaded, trained for tool use
REASONING_MODEL = "qwen3-4b"  # <think> block first, tool use
VISION_MODEL = "qwen2-vl-2b-instruct"  # images; not trained for tool use
EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5"  # preloaded, 768 dimensions
