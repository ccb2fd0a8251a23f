"""Fake engines that record how the emulator drives them (fast and deterministic)."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lmstudio_core.emulator import ModelSpec, TextChunk, TextRequest, ToolCallChunk

FAKE_LLM = "fake-llm"
FAKE_EMBEDDING = "fake-embedding"


def fake_catalog(*, preload: bool = True) -> list[ModelSpec]:
    return [
        ModelSpec(FAKE_LLM, "llm", "fake/fake-llm/fake-llm.gguf", "Fake LLM", preload=preload),
        ModelSpec(
            FAKE_EMBEDDING,
            "embedding",
            "fake/fake-embedding/fake-embedding.gguf",
            "Fake Embedding",
            embedding_dimension=4,
            preload=preload,
        ),
    ]


@dataclass(frozen=True)
class FakeStats:
    """Shaped like the real engine's ``PredictionStats``."""

    stop_reason: str
    prompt_tokens: int | None
    predicted_tokens: int
    tokens_per_second: float | None
    time_to_first_token_sec: float | None


class FakeTextEngine:
    """Yields ``word`` pieces; records requests, calling threads, loads and closes.

    Args:
        blocking: Whether the emulator must call it in worker threads.
        pieces: Pieces per reply (``None``: until closed).
        delay: Seconds each piece takes (``time.sleep``: it really blocks).
        stats: Returned by the generator when it ends by itself.
    """

    def __init__(
        self,
        *,
        blocking: bool = True,
        pieces: int | None = 5,
        delay: float = 0.0,
        word: str = "word ",
        stats: FakeStats | None = None,
    ) -> None:
        self.blocking = blocking
        self.pieces = pieces
        self.delay = delay
        self.word = word
        self.stats = stats
        self.requests: list[TextRequest] = []
        self.threads: dict[str, threading.Thread] = {}
        self.generated = 0
        self.closed_generators = 0
        self.generator_closed = threading.Event()
        self.loads: list[dict[str, Any]] = []
        self.load_delay = 0.0
        self.closed = 0

    def _note(self, name: str) -> None:
        self.threads[name] = threading.current_thread()

    def generate(self, request: TextRequest) -> Generator[TextChunk | ToolCallChunk, None, Any]:
        self.requests.append(request)
        self._note("generate")
        try:
            n = 0
            while self.pieces is None or n < self.pieces:
                if self.delay:
                    time.sleep(self.delay)
                n += 1
                self.generated += 1
                yield TextChunk(self.word)
        finally:
            self.closed_generators += 1
            self.generator_closed.set()
        return self.stats

    def tokenize(self, text: str) -> list[int]:
        self._note("tokenize")
        return [len(word) for word in text.split()]

    def count_tokens(self, text: str) -> int:
        self._note("count_tokens")
        return len(text.split())

    def apply_prompt_template(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        self._note("apply_prompt_template")
        texts = [part.get("text", "") for m in messages for part in m.get("content", [])]
        return "PROMPT: " + " ".join(texts)

    def load(self, context_length: int | None = None) -> None:
        self._note("load")
        if self.load_delay:
            time.sleep(self.load_delay)
        self.loads.append({"context_length": context_length})

    def close(self) -> None:
        self.closed += 1


class FakeEmbeddingEngine:
    """A blocking embedding engine recording its calling threads, loads and closes."""

    blocking = True

    def __init__(self) -> None:
        self.threads: dict[str, threading.Thread] = {}
        self.loads = 0
        self.closed = 0

    def embed(self, text: str) -> list[float]:
        self.threads["embed"] = threading.current_thread()
        return [1.0, 0.0, 0.0, 0.0]

    def tokenize(self, text: str) -> list[int]:
        self.threads["tokenize"] = threading.current_thread()
        return [1] * len(text.split())

    def count_tokens(self, text: str) -> int:
        self.threads["count_tokens"] = threading.current_thread()
        return len(text.split())

    def load(self) -> None:
        self.loads += 1

    def close(self) -> None:
        self.closed += 1
