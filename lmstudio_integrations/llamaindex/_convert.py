"""Pure conversions between LlamaIndex's types and the LM Studio SDK's.

- LlamaIndex ``ChatMessage`` blocks -> the SDK's chat history (message dicts);
- the SDK's stream events -> streamed ``ChatResponse`` values (:class:`ResponseBuilder`);
- a ``PredictionResult`` -> the final ``ChatResponse`` with usage and LM Studio statistics;
- ``ToolCallBlock`` values -> ``ToolSelection`` values;
- a rejected API token -> an error that names this adapter's ``api_token`` parameter.

Nothing here talks to LM Studio: images become the SDK's :class:`~lmstudio_core.ImageData`
(an image given by path is read here) and the clients upload them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import mimetypes
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from lmstudio_core import (
    AuthenticationError,
    ImageData,
    PredictionEvent,
    PredictionResult,
    PredictionStats,
    ReasoningFragment,
    TextFragment,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
    ToolCallNameReceived,
    ToolCallStarted,
)

__all__ = [
    "ResponseBuilder",
    "assistant_message",
    "authentication_error",
    "image_input",
    "keep_first_tool_call",
    "raw_from_result",
    "to_history",
    "token_errors",
    "tool_selections",
    "usage_from_stats",
]

_ROLES: dict[MessageRole, str] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}


# -- LlamaIndex messages -> SDK history ------------------------------------------------


def image_input(block: ImageBlock) -> ImageData:
    """The image of a block, for the SDK to upload (bytes, a file or a data URI)."""
    if block.image is None and block.path is None:
        if block.url is None:
            raise ValueError("the ImageBlock has no image, path or url")
        if not str(block.url).startswith("data:"):
            raise ValueError(
                "LM Studio needs the image itself, it cannot fetch URLs: use "
                "ImageBlock(image=<bytes>) or ImageBlock(path=...) instead of url="
            )
    content = bytes(block.resolve_image(as_base64=False).read())
    if block.path is not None:
        return ImageData(Path(block.path).name, content)
    extension = mimetypes.guess_extension(block.image_mimetype or "") or ".png"
    return ImageData(f"image-{hashlib.sha256(content).hexdigest()[:12]}{extension}", content)


def _tool_call_dict(block: ToolCallBlock) -> dict[str, Any]:
    arguments = block.tool_kwargs
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            raise ValueError(
                f"the arguments of tool call {block.tool_name!r} are not valid JSON: {exc}"
            ) from None
    call: dict[str, Any] = {"name": block.tool_name, "arguments": arguments}
    if block.tool_call_id:
        call["id"] = block.tool_call_id
    return call


def _legacy_tool_call(call: Any) -> Any:
    """Tool calls in ``additional_kwargs`` (OpenAI-style dicts or pydantic objects)."""
    dump = getattr(call, "model_dump", None)
    return dump() if callable(dump) else call


@dataclasses.dataclass(slots=True)
class _Parts:
    """What the blocks of one message hold, by kind."""

    texts: list[str] = dataclasses.field(default_factory=list)
    reasoning: list[str] = dataclasses.field(default_factory=list)
    images: list[ImageData] = dataclasses.field(default_factory=list)
    calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _collect(blocks: Sequence[Any], parts: _Parts) -> None:
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.texts.append(block.text)
        elif isinstance(block, ThinkingBlock):
            if block.content:
                parts.reasoning.append(block.content)
        elif isinstance(block, ImageBlock):
            parts.images.append(image_input(block))
        elif isinstance(block, ToolCallBlock):
            parts.calls.append(_tool_call_dict(block))
        elif isinstance(block, CitableBlock):
            _collect(block.content, parts)
        elif isinstance(block, CitationBlock):
            _collect([block.cited_content], parts)
        elif isinstance(block, CachePoint):
            continue  # cache points mean nothing to LM Studio
        elif isinstance(block, AudioBlock | VideoBlock | DocumentBlock):
            kind = type(block).__name__
            raise ValueError(f"LM Studio models do not accept {kind} content; send text or images")
        else:
            raise ValueError(f"unsupported message block {type(block).__name__}")


def _message(message: ChatMessage) -> dict[str, Any]:
    role = _ROLES.get(message.role)
    if role is None:
        raise ValueError(f"unsupported message role {message.role!r}")
    parts = _Parts()
    _collect(message.blocks, parts)
    extra = message.additional_kwargs
    calls = parts.calls
    if role == "assistant" and not calls and extra.get("tool_calls"):
        calls = [_legacy_tool_call(call) for call in extra["tool_calls"]]
    converted: dict[str, Any] = {"role": role, "content": "\n".join(parts.texts)}
    if parts.images:
        converted["images"] = parts.images
    if role == "assistant":
        if parts.reasoning:  # sent back the way LM Studio keeps it (see lmstudio_core.Chat)
            converted["reasoning_content"] = "\n".join(parts.reasoning)
        if calls:
            converted["tool_calls"] = calls
    if role == "tool":
        converted["tool_call_id"] = extra.get("tool_call_id")
        if extra.get("name"):
            converted["name"] = extra["name"]
    return converted


def to_history(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """The SDK chat history (a list of message dicts) for LlamaIndex messages."""
    return [_message(message) for message in messages]


# -- SDK results -> LlamaIndex responses -----------------------------------------------


def usage_from_stats(stats: PredictionStats) -> dict[str, int]:
    """Token counts under the keys LlamaIndex's token counting reads."""
    usage: dict[str, int] = {}
    if stats.prompt_tokens is not None:
        usage["prompt_tokens"] = stats.prompt_tokens
    if stats.predicted_tokens is not None:
        usage["completion_tokens"] = stats.predicted_tokens
    if stats.total_tokens is not None:
        usage["total_tokens"] = stats.total_tokens
    elif stats.prompt_tokens is not None and stats.predicted_tokens is not None:
        usage["total_tokens"] = stats.prompt_tokens + stats.predicted_tokens
    return usage


def raw_from_result(result: PredictionResult) -> dict[str, Any]:
    """``ChatResponse.raw``: usage, stop reason and LM Studio's statistics."""
    stats = result.stats
    raw: dict[str, Any] = {
        "usage": usage_from_stats(stats),
        "stop_reason": stats.stop_reason,
        "finish_reason": stats.finish_reason,
        "stats": dataclasses.asdict(stats),
    }
    if result.model_info is not None:
        raw["model"] = result.model_info.model_key
        raw["model_identifier"] = result.model_info.identifier
    if result.tool_call_failures:
        raw["tool_call_failures"] = [dataclasses.asdict(f) for f in result.tool_call_failures]
    return raw


def _openai_tool_call(block: ToolCallBlock) -> dict[str, Any]:
    arguments = block.tool_kwargs
    return {
        "id": block.tool_call_id,
        "type": "function",
        "function": {
            "name": block.tool_name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
        },
    }


def assistant_message(
    text: str,
    reasoning: str = "",
    tool_calls: Sequence[ToolCallBlock] = (),
    reasoning_tokens: int | None = None,
) -> ChatMessage:
    """An assistant message: thinking, then text, then tool calls (also in
    ``additional_kwargs["tool_calls"]``, OpenAI-style, for older LlamaIndex code)."""
    blocks: list[Any] = []
    if reasoning:
        blocks.append(ThinkingBlock(content=reasoning, num_tokens=reasoning_tokens))
    blocks.append(TextBlock(text=text))
    blocks.extend(tool_calls)
    extra: dict[str, Any] = {}
    if tool_calls:
        extra["tool_calls"] = [_openai_tool_call(call) for call in tool_calls]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)


@dataclasses.dataclass(slots=True)
class _PartialCall:
    id: str
    name: str = ""
    arguments: str = ""
    final: dict[str, Any] | None = None

    def block(self) -> ToolCallBlock:
        kwargs: dict[str, Any] | str = self.final if self.final is not None else self.arguments
        return ToolCallBlock(tool_call_id=self.id, tool_name=self.name, tool_kwargs=kwargs)


class ResponseBuilder:
    """Turns the SDK's stream events into streamed ``ChatResponse`` values.

    Each response carries the whole message so far and the ``delta``; reasoning arrives as
    a ``ThinkingBlock`` plus ``additional_kwargs["thinking_delta"]``, tool calls as
    ``ToolCallBlock`` values whose arguments are the raw JSON text until the call ends.
    :meth:`finish` builds the last response from the final result (usage in ``raw`` and
    ``additional_kwargs``).
    """

    def __init__(self) -> None:
        # Running strings, not lists joined per fragment (that is quadratic in the reply).
        self._text = ""
        self._reasoning = ""
        self._reasoning_tokens = 0
        self._calls: dict[int, _PartialCall] = {}

    @property
    def text(self) -> str:
        return self._text

    def feed(self, event: PredictionEvent) -> ChatResponse | None:
        """The response for one event (``None`` for events LlamaIndex has no place for)."""
        if isinstance(event, TextFragment):
            self._text += event.text
            return self._response(event.text)
        if isinstance(event, ReasoningFragment):
            self._reasoning += event.text
            self._reasoning_tokens += event.tokens
            return self._response("", {"thinking_delta": event.text})
        if isinstance(event, ToolCallStarted):
            self._calls[event.index] = _PartialCall(event.id)
        elif isinstance(event, ToolCallNameReceived):
            self._call(event.index, event.id).name = event.name
        elif isinstance(event, ToolCallArgumentsDelta):
            self._call(event.index, event.id).arguments += event.delta
        elif isinstance(event, ToolCallEnded):
            call = self._call(event.index, event.request.id)
            call.id, call.name = event.request.id, event.request.name
            call.final = dict(event.request.arguments)
        elif isinstance(event, ToolCallFailed):
            self._calls.pop(event.index, None)
        else:
            return None  # prompt processing progress
        return self._response("")

    def _call(self, index: int, call_id: str) -> _PartialCall:
        call = self._calls.get(index)
        if call is None:
            call = self._calls[index] = _PartialCall(call_id)
        return call

    def _response(self, delta: str, extra: dict[str, Any] | None = None) -> ChatResponse:
        message = assistant_message(
            self._text,
            self._reasoning,
            [call.block() for _, call in sorted(self._calls.items())],
            self._reasoning_tokens or None,
        )
        return ChatResponse(message=message, delta=delta, additional_kwargs=extra or {})

    def finish(self, result: PredictionResult) -> ChatResponse:
        """The final response, from the prediction's result."""
        calls = [
            ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=call.arguments)
            for call in result.tool_calls
        ]
        message = assistant_message(
            result.content, result.reasoning, calls, self._reasoning_tokens or None
        )
        usage = usage_from_stats(result.stats)
        return ChatResponse(
            message=message, delta="", raw=raw_from_result(result), additional_kwargs=usage
        )


# -- tool calls -------------------------------------------------------------------------


def _arguments(kwargs: Mapping[str, Any] | str) -> dict[str, Any]:
    if not isinstance(kwargs, str):
        return dict(kwargs)
    try:
        parsed = parse_partial_json(kwargs) if kwargs.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The tool calls of an assistant message (partial arguments parsed leniently).

    A block without an id gets a fresh one, written back so that asking again gives the
    same id.
    """
    selections = []
    for block in message.blocks:
        if not isinstance(block, ToolCallBlock):
            continue
        if not block.tool_call_id:
            block.tool_call_id = f"call_{uuid.uuid4().hex[:24]}"
        selections.append(
            ToolSelection(
                tool_id=block.tool_call_id,
                tool_name=block.tool_name,
                tool_kwargs=_arguments(block.tool_kwargs),
            )
        )
    return selections


def keep_first_tool_call(message: ChatMessage) -> None:
    """Drop every tool call of ``message`` but the first (no parallel calls)."""
    calls = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    if len(calls) < 2:
        return
    first = calls[0]
    message.blocks = [
        block for block in message.blocks if not isinstance(block, ToolCallBlock) or block is first
    ]
    message.additional_kwargs["tool_calls"] = [_openai_tool_call(first)]


# -- errors -----------------------------------------------------------------------------


def authentication_error(exc: AuthenticationError) -> AuthenticationError:
    """The error of a rejected API token, with advice naming this adapter's parameter."""
    reason = (exc.reason or "").strip().rstrip(".")
    rejected = "LM Studio rejected the API token"
    if reason:
        rejected += f": {reason}"
    message = (
        f"{rejected}. Check the token: pass it as api_token=... or set the LM_API_TOKEN "
        "environment variable (LMSTUDIO_API_TOKEN is read too)."
    )
    return AuthenticationError(message, reason=exc.reason)


@contextlib.contextmanager
def token_errors() -> Iterator[None]:
    """Re-raise a rejected API token as :func:`authentication_error` does."""
    try:
        yield
    except AuthenticationError as exc:
        raise authentication_error(exc) from None
