"""Predictions: the request builder, stream events and the pure accumulator.

Theory of operation
-------------------
A prediction is one ``predict`` channel. :func:`prepare_predict` validates the caller's
arguments into a :class:`PredictRequest`, which builds the channel's creation parameter.
The server then sends prompt-processing progress, text fragments (each tagged as answer,
reasoning or reasoning tag), tool-call packets and finally ``success`` with statistics.
:class:`PredictionState` consumes those packets one at a time (``feed``), returns the
typed events the caller iterates over, and assembles the
:class:`~lmstudio_core.results.PredictionResult`. Both the sync and the async stream drive
the same state object; neither contains any protocol logic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .catalog import LoadedModelInfo, warn_unknown_packet
from .errors import ProtocolError, ServerError
from .history import Chat, FileHandle, HistoryLike, ImageData
from .options import config_from_fields, prediction_config_fields
from .protocol import SerializedError
from .results import PredictionResult, PredictionStats, ToolCallFailure
from .structured import ResponseFormat, StructuredOutput, structured_output
from .tools import (
    ToolCallRequest,
    ToolChoice,
    ToolLike,
    new_tool_call_id,
    to_tool,
    tool_config_fields,
)

__all__ = [
    "PredictionEvent",
    "PredictionState",
    "PromptProgress",
    "ReasoningFragment",
    "TextFragment",
    "ToolCallArgumentsDelta",
    "ToolCallEnded",
    "ToolCallFailed",
    "ToolCallNameReceived",
    "ToolCallStarted",
    "prepare_predict",
]

COMPLETION_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


@dataclass(frozen=True, slots=True)
class TextFragment:
    """A piece of the answer text."""

    text: str
    tokens: int = 1
    contains_drafted: bool = False


@dataclass(frozen=True, slots=True)
class ReasoningFragment:
    """A piece of the model's reasoning ("thinking") text."""

    text: str
    tokens: int = 1


@dataclass(frozen=True, slots=True)
class PromptProgress:
    """Prompt processing progress, from 0.0 to 1.0 (before the first token)."""

    fraction: float


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model started a tool call (``index`` counts calls within this prediction)."""

    index: int
    id: str


@dataclass(frozen=True, slots=True)
class ToolCallNameReceived:
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallArgumentsDelta:
    """A piece of the raw JSON arguments text of a tool call being generated."""

    index: int
    id: str
    delta: str


@dataclass(frozen=True, slots=True)
class ToolCallEnded:
    """A complete tool call request."""

    index: int
    request: ToolCallRequest


@dataclass(frozen=True, slots=True)
class ToolCallFailed:
    """The model emitted a tool call LM Studio could not parse."""

    index: int
    message: str
    raw_content: str | None = None


PredictionEvent = (
    TextFragment
    | ReasoningFragment
    | PromptProgress
    | ToolCallStarted
    | ToolCallNameReceived
    | ToolCallArgumentsDelta
    | ToolCallEnded
    | ToolCallFailed
)


@dataclass(frozen=True, slots=True)
class PredictRequest:
    """A validated prediction request; :meth:`parameter` builds the channel parameter."""

    specifier: dict[str, Any]
    chat: Chat
    layers: list[dict[str, Any]]
    structured: StructuredOutput | None
    preset: str | None = None

    def images(self) -> list[ImageData]:
        """Images to upload before the request can be sent."""
        return self.chat.pending_images()

    def parameter(self, uploads: Mapping[str, FileHandle] | None = None) -> dict[str, Any]:
        param: dict[str, Any] = {
            "modelSpecifier": self.specifier,
            "history": self.chat.to_wire(uploads),
            "predictionConfigStack": {"layers": self.layers},
        }
        if self.preset is not None:
            param["fuzzyPresetIdentifier"] = self.preset
        return param

    def new_state(self) -> PredictionState:
        return PredictionState(self.structured)


def prepare_predict(
    specifier: dict[str, Any],
    history: HistoryLike,
    *,
    options: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    response_format: ResponseFormat | None = None,
    tools: Sequence[ToolLike] | None = None,
    tool_choice: ToolChoice | None = None,
    completion: bool = False,
    preset: str | None = None,
) -> PredictRequest:
    """Validate a prediction's arguments (raising ``ValueError``/``TypeError`` early)."""
    if completion:
        if not isinstance(history, str):
            raise TypeError(f"complete() takes a prompt string, not {type(history).__name__}")
        chat = Chat(messages=[{"role": "user", "content": history}])
    else:
        chat = Chat.from_history(history)
        if not chat.messages:
            raise ValueError("the chat history is empty: add at least one message")
    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict of prediction options, not {type(config).__name__}")
    fields = prediction_config_fields({**(config or {}), **options})
    structured = structured_output(response_format)
    tool_list = [to_tool(tool) for tool in tools or ()]
    if structured is not None:
        if tool_list:
            raise ValueError("structured output (response_format) cannot be combined with tools")
        fields.append(structured.field())
    fields.extend(tool_config_fields(tool_list, tool_choice))
    layers: list[dict[str, Any]] = [{"layerName": "apiOverride", "config": {"fields": fields}}]
    if completion:
        layers.append(_COMPLETION_LAYER)
    return PredictRequest(specifier, chat, layers, structured, preset)


_COMPLETION_LAYER: dict[str, Any] = {
    "layerName": "completeModeFormatting",
    "config": {
        "fields": [
            {
                "key": "llm.prediction.promptTemplate",
                "value": {
                    "type": "jinja",
                    "jinjaPromptTemplate": {"template": COMPLETION_TEMPLATE},
                    "stopStrings": [],
                },
            }
        ]
    },
}


class PredictionState:
    """Accumulates the packets of one ``predict`` channel (pure; no I/O)."""

    def __init__(self, structured: StructuredOutput | None = None) -> None:
        self._structured = structured
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._tool_calls: list[ToolCallRequest] = []
        self._failures: list[ToolCallFailure] = []
        self._call_ids: list[str] = []
        self._open_call: int | None = None
        self.first_output_seen = False
        self.result: PredictionResult | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def text(self) -> str:
        """The answer text received so far."""
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def feed(self, message: Any) -> list[PredictionEvent]:
        """Consume one packet; returns the events it produces (raises on an error packet)."""
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "fragment":
            return self._fragment(message.get("fragment") or {})
        handler = _HANDLERS.get(kind)  # type: ignore[arg-type]
        if handler is None:
            warn_unknown_packet("prediction", kind)
            return []
        return handler(self, message)

    def _fragment(self, fragment: dict[str, Any]) -> list[PredictionEvent]:
        self.first_output_seen = True
        text = fragment.get("content", "")
        reasoning_type = fragment.get("reasoningType", "none")
        tokens = fragment.get("tokensCount", 1)
        if reasoning_type == "none" and not fragment.get("isStructural"):
            self._text.append(text)
            return [TextFragment(text, tokens, bool(fragment.get("containsDrafted")))]
        if reasoning_type == "reasoning" and not fragment.get("isStructural"):
            self._reasoning.append(text)
            return [ReasoningFragment(text, tokens)]
        return []  # reasoning start/end tags and other structural text

    def finish_cancelled(self) -> None:
        """End as cancelled with what arrived so far (the server sent no final packet)."""
        if self.result is None:
            self.result = PredictionResult(
                content=self.text,
                reasoning=self.reasoning,
                tool_calls=list(self._tool_calls),
                stats=PredictionStats(stop_reason="userStopped"),
                tool_call_failures=list(self._failures),
            )

    def _progress(self, message: dict[str, Any]) -> list[PredictionEvent]:
        value = message.get("progress")
        return [PromptProgress(float(value))] if isinstance(value, int | float) else []

    def _tool_start(self, message: dict[str, Any]) -> list[PredictionEvent]:
        self.first_output_seen = True
        call_id = message.get("toolCallId") or new_tool_call_id()
        self._call_ids.append(str(call_id))
        self._open_call = len(self._call_ids) - 1
        return [ToolCallStarted(self._open_call, str(call_id))]

    def _current_call(self) -> tuple[int, list[PredictionEvent]]:
        """The open call's index, plus a ``ToolCallStarted`` if the server skipped it."""
        started = [] if self._open_call is not None else self._tool_start({})
        assert self._open_call is not None
        return self._open_call, started

    def _tool_name(self, message: dict[str, Any]) -> list[PredictionEvent]:
        index, events = self._current_call()
        name = str(message.get("name", ""))
        return [*events, ToolCallNameReceived(index, self._call_ids[index], name)]

    def _tool_arguments(self, message: dict[str, Any]) -> list[PredictionEvent]:
        index, events = self._current_call()
        delta = str(message.get("content", ""))
        return [*events, ToolCallArgumentsDelta(index, self._call_ids[index], delta)]

    def _tool_end(self, message: dict[str, Any]) -> list[PredictionEvent]:
        data = message.get("toolCallRequest")
        if not isinstance(data, dict):
            raise ProtocolError("toolCallGenerationEnd packet without a toolCallRequest")
        if self._open_call is None and data.get("id"):
            # No start packet: the request's own id is the first one anybody sees.
            events = self._tool_start({"toolCallId": data["id"]})
            index = len(self._call_ids) - 1
        else:
            index, events = self._current_call()
        # The id announced by ToolCallStarted stays the call's id, so consumers that
        # streamed it (and the tool result sent back) agree with the final request.
        request = ToolCallRequest.from_wire({**data, "id": self._call_ids[index]})
        self._tool_calls.append(request)
        self._open_call = None
        return [*events, ToolCallEnded(index, request)]

    def _tool_failed(self, message: dict[str, Any]) -> list[PredictionEvent]:
        index, events = self._current_call()
        error = SerializedError.from_wire(message.get("error"))
        failure = ToolCallFailure(error.title, message.get("rawContent"))
        self._failures.append(failure)
        self._open_call = None
        return [*events, ToolCallFailed(index, failure.message, failure.raw_content)]

    def _error(self, message: dict[str, Any]) -> list[PredictionEvent]:
        error = SerializedError.from_wire(message.get("error"))
        raise ServerError.from_serialized(error, context="Prediction failed")

    def _success(self, message: dict[str, Any]) -> list[PredictionEvent]:
        stats = PredictionStats.from_wire(message.get("stats"))
        info = message.get("modelInfo")
        model_info = None
        if isinstance(info, dict):
            try:
                model_info = LoadedModelInfo.model_validate(info)
            except ValueError as exc:
                raise ProtocolError(f"invalid modelInfo in prediction result: {exc}") from exc
        text = self.text
        parsed, parse_error = None, None
        if self._structured is not None and stats.stop_reason != "userStopped":
            parsed, parse_error = self._structured.parse(text)
        self.result = PredictionResult(
            content=text,
            reasoning=self.reasoning,
            tool_calls=list(self._tool_calls),
            stats=stats,
            model_info=model_info,
            parsed=parsed,
            parse_error=parse_error,
            load_config=config_from_fields(message.get("loadModelConfig")),
            prediction_config=config_from_fields(message.get("predictionConfig")),
            tool_call_failures=list(self._failures),
        )
        return []


_HANDLERS = {
    "promptProcessingProgress": PredictionState._progress,
    "toolCallGenerationStart": PredictionState._tool_start,
    "toolCallGenerationNameReceived": PredictionState._tool_name,
    "toolCallGenerationArgumentFragmentGenerated": PredictionState._tool_arguments,
    "toolCallGenerationEnd": PredictionState._tool_end,
    "toolCallGenerationFailed": PredictionState._tool_failed,
    "error": PredictionState._error,
    "success": PredictionState._success,
}
