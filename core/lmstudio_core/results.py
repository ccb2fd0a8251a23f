"""Results of predictions and of ``act()`` loops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .catalog import LoadedModelInfo
from .history import Chat
from .tools import ToolCallRequest

__all__ = ["ActResult", "PredictionResult", "PredictionStats", "StopReason", "ToolCallFailure"]

StopReason = Literal[
    "userStopped",
    "modelUnloaded",
    "failed",
    "eosFound",
    "stopStringFound",
    "toolCalls",
    "maxPredictedTokensReached",
    "contextLengthReached",
]

_FINISH_REASONS: dict[str, str] = {
    "eosFound": "stop",
    "stopStringFound": "stop",
    "maxPredictedTokensReached": "length",
    "contextLengthReached": "length",
    "toolCalls": "tool_calls",
    "userStopped": "cancelled",
    "modelUnloaded": "error",
    "failed": "error",
}


@dataclass(frozen=True, slots=True)
class PredictionStats:
    """Statistics LM Studio reports at the end of a prediction."""

    stop_reason: str = "eosFound"
    stop_string: str | None = None
    tokens_per_second: float | None = None
    time_to_first_token: float | None = None
    total_time: float | None = None
    prompt_tokens: int | None = None
    predicted_tokens: int | None = None
    total_tokens: int | None = None
    num_gpu_layers: float | None = None
    used_draft_model_key: str | None = None
    accepted_draft_tokens: int | None = None
    rejected_draft_tokens: int | None = None
    total_draft_tokens: int | None = None
    ignored_draft_tokens: int | None = None

    @property
    def finish_reason(self) -> str:
        """OpenAI-style reason: ``stop``, ``length``, ``tool_calls``, ``cancelled``, ``error``."""
        return _FINISH_REASONS.get(self.stop_reason, "stop")

    @classmethod
    def from_wire(cls, data: Any) -> PredictionStats:
        if not isinstance(data, dict):
            return cls()

        def number(key: str) -> Any:
            value = data.get(key)
            return value if isinstance(value, int | float) and not isinstance(value, bool) else None

        return cls(
            stop_reason=str(data.get("stopReason", "eosFound")),
            stop_string=data.get("stopString") if isinstance(data.get("stopString"), str) else None,
            tokens_per_second=number("tokensPerSecond"),
            time_to_first_token=number("timeToFirstTokenSec"),
            total_time=number("totalTimeSec"),
            prompt_tokens=number("promptTokensCount"),
            predicted_tokens=number("predictedTokensCount"),
            total_tokens=number("totalTokensCount"),
            num_gpu_layers=number("numGpuLayers"),
            used_draft_model_key=data.get("usedDraftModelKey"),
            accepted_draft_tokens=number("acceptedDraftTokensCount"),
            rejected_draft_tokens=number("rejectedDraftTokensCount"),
            total_draft_tokens=number("totalDraftTokensCount"),
            ignored_draft_tokens=number("ignoredDraftTokensCount"),
        )


@dataclass(frozen=True, slots=True)
class ToolCallFailure:
    """A tool call the model emitted but LM Studio could not parse."""

    message: str
    raw_content: str | None = None


@dataclass(frozen=True, slots=True)
class PredictionResult:
    """The outcome of one prediction.

    Attributes:
        content: The generated text, without reasoning.
        reasoning: The model's reasoning ("thinking") text, if any.
        tool_calls: Tool calls the model requested (not executed).
        stats: Stop reason, token counts, timings.
        model_info: The model instance that produced it.
        parsed: With ``response_format``: the pydantic instance or decoded JSON
            (``None`` if the reply did not parse; see ``parse_error``).
        parse_error: Why structured output did not parse, if it did not.
        load_config: Effective load options of the model.
        prediction_config: Effective prediction options.
        tool_call_failures: Tool calls LM Studio could not parse.
    """

    content: str
    reasoning: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    stats: PredictionStats = field(default_factory=PredictionStats)
    model_info: LoadedModelInfo | None = None
    parsed: Any = None
    parse_error: str | None = None
    load_config: dict[str, Any] = field(default_factory=dict)
    prediction_config: dict[str, Any] = field(default_factory=dict)
    tool_call_failures: list[ToolCallFailure] = field(default_factory=list)

    @property
    def stop_reason(self) -> str:
        return self.stats.stop_reason

    @property
    def text(self) -> str:
        """Same as ``content``."""
        return self.content

    def __str__(self) -> str:
        return self.content


@dataclass(frozen=True, slots=True)
class ActResult:
    """The outcome of an ``act()`` loop.

    Attributes:
        rounds: One prediction result per round.
        chat: The conversation including every round's messages and tool results.
    """

    rounds: list[PredictionResult]
    chat: Chat

    @property
    def result(self) -> PredictionResult:
        """The last round's result."""
        return self.rounds[-1]

    @property
    def content(self) -> str:
        """The final answer's text."""
        return self.rounds[-1].content if self.rounds else ""

    def __str__(self) -> str:
        return self.content
