"""Prediction statistics of a real engine (and the old name of its request type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._engines import TextRequest

__all__ = ["PredictionStats", "SamplingRequest"]


SamplingRequest = TextRequest
"""The request type the real engines read sampling fields from.

:class:`TextRequest` carries them all (``max_tokens``, ``temperature``, ``stop_strings``,
``top_k``, ``top_p``, ``min_p``, ``repeat_penalty`` and ``raw_prompt``); this name is
kept for code written before it did. Unset fields get the engine's defaults: greedy
(temperature 0), llama.cpp's top-k/top-p/min-p, repeat penalty 1.1 and the engine's
``max_tokens``.
"""


@dataclass(frozen=True, slots=True)
class PredictionStats:
    """What llama.cpp measured for one prediction.

    Attributes:
        stop_reason: LM Studio's stop reason: ``eosFound`` (also when llama.cpp matched
            a stop string: it does not say which), ``maxPredictedTokensReached``,
            ``toolCalls``, ``userStopped`` (the iterator was closed) or ``failed``.
        prompt_tokens: Tokens of the rendered prompt (``None`` if llama.cpp did not say,
            e.g. after a cancel).
        cached_prompt_tokens: Prompt tokens reused from the KV cache.
        predicted_tokens: Tokens generated (for a cancelled run: the ones streamed).
        tokens_per_second: Generation speed reported by llama.cpp.
        time_to_first_token_sec: Seconds from the request to the first generated piece.
        total_time_sec: Seconds from the request to the end of generation.
        prompt_ms: Prompt processing time reported by llama.cpp.
        predicted_ms: Generation time reported by llama.cpp.
    """

    stop_reason: str
    prompt_tokens: int | None
    cached_prompt_tokens: int | None
    predicted_tokens: int
    tokens_per_second: float | None
    time_to_first_token_sec: float | None
    total_time_sec: float
    prompt_ms: float | None = None
    predicted_ms: float | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``LLMPredictionStats`` object LM Studio would report."""
        stats: dict[str, Any] = {"stopReason": self.stop_reason}
        if self.tokens_per_second is not None:
            stats["tokensPerSecond"] = round(self.tokens_per_second, 3)
        stats["numGpuLayers"] = 0
        if self.time_to_first_token_sec is not None:
            stats["timeToFirstTokenSec"] = round(self.time_to_first_token_sec, 6)
        stats["totalTimeSec"] = round(self.total_time_sec, 6)
        if self.prompt_tokens is not None:
            stats["promptTokensCount"] = self.prompt_tokens
        stats["predictedTokensCount"] = self.predicted_tokens
        if self.prompt_tokens is not None:
            stats["totalTokensCount"] = self.prompt_tokens + self.predicted_tokens
        return stats
