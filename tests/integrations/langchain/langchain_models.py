"""Model keys of the emulator's default catalog used by the LangChain adapter tests."""

from __future__ import annotations

CHAT_MODEL = "qwen2.5-0.5b-instruct"
"""Preloaded; trained for tool use."""
REASONING_MODEL = "qwen3-4b"
"""Thinks in a <think> block first; trained for tool use."""
VISION_MODEL = "qwen2-vl-2b-instruct"
"""Accepts images."""
EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5"
