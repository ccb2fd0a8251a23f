"""Pure conversions between LangChain and lmstudio-core (no I/O).

- LangChain messages -> the chat history ``lmstudio_core`` accepts (OpenAI-style dicts);
- core prediction events -> ``ChatGenerationChunk`` objects (:class:`ChunkBuilder`);
- prediction statistics -> ``usage_metadata`` and ``response_metadata``;
- LM Studio model info -> a LangChain ``ModelProfile``;
- core errors -> exceptions that are both the core's and langchain-core's error types;
- a model's ``transform`` output -> an iterator that stops the prediction when a sync
  chain stops reading it (:class:`TransformStream`).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from langchain_core.exceptions import ContextOverflowError as LangChainContextOverflowError
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelTimeoutError,
)
from langchain_core.exceptions import ModelNotFoundError as LangChainModelNotFoundError
from langchain_core.language_models import ModelProfile
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import OutputTokenDetails, UsageMetadata, add_usage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk
from langchain_core.runnables import RunnableBinding, RunnableConfig
from lmstudio_core import (
    AuthenticationError,
    ConnectError,
    ContextOverflowError,
    DisconnectedError,
    DomainMismatchError,
    LMStudioError,
    LoadedModelInfo,
    ModelNotFoundError,
    PredictionEvent,
    PredictionResult,
    PredictionStats,
    PresetNotFoundError,
    ReasoningFragment,
    RequestTimeoutError,
    ServerError,
    TextFragment,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
    ToolCallNameReceived,
    ToolCallStarted,
)
from typing_extensions import override

__all__ = [
    "PROVIDER",
    "ChunkBuilder",
    "StreamBinding",
    "TransformStream",
    "adapter_profile",
    "completion_chunk",
    "completion_info",
    "messages_to_history",
    "profile_from_info",
    "response_metadata",
    "to_langchain_error",
    "tool_choice_for_core",
    "usage_metadata",
]

PROVIDER = "lmstudio"

TOKEN_PARAMETER_HINT = (
    "pass it as api_key=... or set the LM_API_TOKEN environment variable "
    "(LMSTUDIO_API_TOKEN is read too)"
)
"""How LangChain users give the API token (the core's message names its own parameter)."""

Role = Literal["system", "user", "assistant", "tool"]

# -- messages -> history ----------------------------------------------------------------


def _text_of(blocks: Sequence[Mapping[str, Any]]) -> str:
    return "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")


def _image_part(block: Mapping[str, Any]) -> dict[str, Any]:
    data = block.get("base64")
    if isinstance(data, str) and data:
        mime = block.get("mime_type") or "image/png"
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    url = block.get("url")
    if isinstance(url, str) and url.startswith("data:"):
        return {"type": "image_url", "image_url": {"url": url}}
    raise ValueError(
        "LM Studio needs image bytes: pass a base64 image block or a data URI "
        "(it cannot fetch image URLs or provider file ids)"
    )


def _user_parts(message: BaseMessage, images: bool) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return message.content
    parts: list[dict[str, Any]] = []
    for block in message.content_blocks:
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image":
            if images:
                parts.append(_image_part(block))
        elif kind in ("reasoning", "non_standard"):
            continue
        else:
            raise ValueError(f"LM Studio chat models do not accept {kind!r} content blocks")
    return parts


def _reasoning_of(message: AIMessage) -> str:
    pieces: list[str] = []
    for block in message.content_blocks:
        if block.get("type") == "reasoning":
            pieces.append(str(block.get("reasoning", "")))
        elif block.get("type") == "non_standard":  # e.g. Anthropic "thinking" blocks
            value = block.get("value")
            if isinstance(value, Mapping) and value.get("type") == "thinking":
                pieces.append(str(value.get("thinking", "")))
    return "".join(pieces)


def _assistant(message: AIMessage) -> dict[str, Any]:
    if isinstance(message.content, str):
        text = message.content
    else:
        text = _text_of([b for b in message.content_blocks if isinstance(b, Mapping)])
    entry: dict[str, Any] = {"role": "assistant", "content": text}
    reasoning = _reasoning_of(message)
    if reasoning:  # lmstudio-core sends it back the way LM Studio keeps it
        entry["reasoning_content"] = reasoning
    if message.tool_calls:
        entry["tool_calls"] = [
            {"id": call.get("id"), "name": call["name"], "args": call["args"]}
            for call in message.tool_calls
        ]
    return entry


def _tool(message: ToolMessage) -> dict[str, Any]:
    if isinstance(message.content, str):
        text = message.content
    else:
        blocks = message.content_blocks
        unsupported = {str(b.get("type")) for b in blocks if b.get("type") != "text"}
        if unsupported:
            raise ValueError(
                f"LM Studio tool results are text only; got {sorted(unsupported)} blocks"
            )
        text = _text_of(blocks)
    if message.status == "error" and not text.lstrip().lower().startswith("error"):
        text = f"Error: {text}"
    entry: dict[str, Any] = {"role": "tool", "content": text, "tool_call_id": message.tool_call_id}
    if message.name:
        entry["name"] = message.name
    return entry


def _role_of(message: BaseMessage) -> Role:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, ToolMessage):
        return "tool"
    if isinstance(message, ChatMessage):
        role = {"developer": "system", "human": "user", "ai": "assistant"}.get(
            message.role, message.role
        )
        if role in ("system", "user", "assistant", "tool"):
            return role  # type: ignore[return-value]
    raise TypeError(f"LM Studio chat models cannot send a {type(message).__name__}")


def _merge_into(previous: dict[str, Any], entry: dict[str, Any]) -> None:
    """Append ``entry`` to the previous message of the same role."""
    before, after = previous["content"], entry["content"]
    if isinstance(before, str) and isinstance(after, str):
        previous["content"] = f"{before}\n\n{after}" if before and after else before + after
    else:
        as_parts = [
            [{"type": "text", "text": value}] if isinstance(value, str) else value
            for value in (before, after)
        ]
        previous["content"] = [*as_parts[0], {"type": "text", "text": "\n\n"}, *as_parts[1]]
    if entry.get("tool_calls"):
        previous["tool_calls"] = [*previous.get("tool_calls", []), *entry["tool_calls"]]
    if entry.get("reasoning_content"):
        reasoning = previous.get("reasoning_content", "")
        previous["reasoning_content"] = reasoning + entry["reasoning_content"]


def messages_to_history(
    messages: Sequence[BaseMessage], *, images: bool = True
) -> list[dict[str, Any]]:
    """The chat history for ``lmstudio_core`` (OpenAI-style message dicts).

    Consecutive system, user or assistant messages are merged (many chat templates
    require alternating roles); tool results stay one message each. ``images=False``
    drops images (for counting tokens of a prompt template).
    """
    history: list[dict[str, Any]] = []
    for message in messages:
        role = _role_of(message)
        if role == "assistant":
            entry = _assistant(message) if isinstance(message, AIMessage) else None
            entry = entry or {"role": "assistant", "content": _user_parts(message, images)}
        elif role == "tool":
            if not isinstance(message, ToolMessage):
                raise TypeError("a tool message must be a ToolMessage (it needs a tool_call_id)")
            entry = _tool(message)
        else:
            entry = {"role": role, "content": _user_parts(message, images)}
        previous = history[-1] if history else None
        if previous is not None and previous["role"] == role and role != "tool":
            _merge_into(previous, entry)
        else:
            history.append(entry)
    return history


def tool_choice_for_core(
    tool_choice: str | bool | Mapping[str, Any] | None, tool_names: Sequence[str]
) -> str | None:
    """LangChain's ``tool_choice`` as LM Studio's: auto, none, required or a tool name."""
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True or tool_choice in ("any", "required"):
        return "required"
    if tool_choice in ("auto", "none"):
        return str(tool_choice)
    name: Any = tool_choice
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
    if not isinstance(name, str) or name not in tool_names:
        raise ValueError(
            f"tool_choice {tool_choice!r} names no bound tool; use 'auto', 'none', 'any' "
            f"or one of {sorted(tool_names)}"
        )
    return name


# -- events -> chunks ---------------------------------------------------------------------


@dataclass
class _ToolCallState:
    index: int
    """Block position of the call, used as the chunks' ``index``."""
    id: str
    id_sent: bool = False
    name_sent: bool = False
    arguments_sent: bool = False

    def chunk(self, name: str | None, arguments: str | None) -> ChatGenerationChunk:
        """A chunk adding ``name`` and/or ``arguments`` (and the id, the first time)."""
        call_id = None if self.id_sent else self.id
        self.id_sent = True
        self.name_sent = self.name_sent or name is not None
        self.arguments_sent = self.arguments_sent or arguments is not None
        chunk = tool_call_chunk(name=name, args=arguments, id=call_id, index=self.index)
        return ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[chunk]))


_TOOL_CALL_EVENTS = (
    ToolCallStarted,
    ToolCallNameReceived,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
)


@dataclass
class ChunkBuilder:
    """Turns the events of one prediction into ``ChatGenerationChunk`` objects.

    Tool-call chunks carry the position of their block in the message as ``index``
    (reasoning, text and each tool call are blocks), so that standard content blocks
    never share an index. The id of a tool call is the one announced when it started.

    ``single_tool_call`` keeps the first tool call the model starts and drops the others
    (``parallel_tool_calls=False``: LM Studio has no switch for it); the final chunk's
    ``response_metadata["dropped_tool_calls"]`` says how many were dropped.
    """

    single_tool_call: bool = False
    reasoning_tokens: int = field(default=0, init=False)
    failures: list[dict[str, Any]] = field(default_factory=list, init=False)
    dropped_tool_calls: int = field(default=0, init=False)
    ended_tool_calls: int = field(default=0, init=False)
    """Complete tool calls kept so far."""
    _position: int = field(default=-1, init=False)
    _last_kind: str = field(default="", init=False)
    _calls: dict[int, _ToolCallState] = field(default_factory=dict, init=False)
    _dropped: set[int] = field(default_factory=set, init=False)

    def _block(self, kind: str) -> int:
        if kind != self._last_kind or kind == "tool_call":
            self._position += 1
            self._last_kind = kind
        return self._position

    def _drops(self, index: int) -> bool:
        """Whether the events of the tool call ``index`` are dropped (not the first)."""
        if index in self._dropped:
            return True
        if not self.single_tool_call or index in self._calls or not self._calls:
            return False
        self._dropped.add(index)
        self.dropped_tool_calls += 1
        return True

    def chunk(self, event: PredictionEvent) -> ChatGenerationChunk | None:
        """The chunk for one event (``None`` for events with nothing to show)."""
        if isinstance(event, _TOOL_CALL_EVENTS) and self._drops(event.index):
            return None
        if isinstance(event, TextFragment):
            self._block("text")
            return ChatGenerationChunk(message=AIMessageChunk(content=event.text))
        if isinstance(event, ReasoningFragment):
            self._block("reasoning")
            self.reasoning_tokens += event.tokens
            return ChatGenerationChunk(
                message=AIMessageChunk(
                    content="", additional_kwargs={"reasoning_content": event.text}
                )
            )
        if isinstance(event, ToolCallStarted):
            self._call(event.index, event.id)  # announced with its name
            return None
        if isinstance(event, ToolCallNameReceived):
            return self._call(event.index, event.id).chunk(event.name, None)
        if isinstance(event, ToolCallArgumentsDelta):
            return self._call(event.index, event.id).chunk(None, event.delta)
        if isinstance(event, ToolCallEnded):
            self.ended_tool_calls += 1
            state = self._call(event.index, event.request.id)
            name = None if state.name_sent else event.request.name
            arguments = None if state.arguments_sent else _dump_arguments(event.request.arguments)
            if name is None and arguments is None:
                return None
            return state.chunk(name, arguments)
        if isinstance(event, ToolCallFailed):
            self.failures.append({"message": event.message, "raw_content": event.raw_content})
        return None

    def _call(self, index: int, call_id: str) -> _ToolCallState:
        state = self._calls.get(index)
        if state is None:
            state = self._calls[index] = _ToolCallState(self._block("tool_call"), call_id)
        return state

    def last_chunk(
        self,
        result: PredictionResult,
        model_name: str,
        earlier_usage: UsageMetadata | None = None,
    ) -> ChatGenerationChunk:
        """The final chunk: usage, response metadata, ``chunk_position="last"``.

        ``earlier_usage`` is added to the usage: the tokens of a prediction of the same
        call whose reply was discarded (see ``ChatLMStudio.bind_tools``).
        """
        metadata = response_metadata(result, model_name)
        if self.failures:
            metadata["tool_call_failures"] = list(self.failures)
        if self.dropped_tool_calls:
            metadata["dropped_tool_calls"] = self.dropped_tool_calls
        usage = usage_metadata(result.stats, self.reasoning_tokens)
        if earlier_usage is not None:
            usage = add_usage(earlier_usage, usage)
        message = AIMessageChunk(
            content="",
            usage_metadata=usage,
            response_metadata=metadata,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message, generation_info=None)


def _dump_arguments(arguments: Mapping[str, Any]) -> str:
    return json.dumps(arguments, ensure_ascii=False)


# -- transform output -------------------------------------------------------------------------

T = TypeVar("T")


class _SharedSource(Generic[T]):
    """The model's stream and its items not read by every view yet, shared by a
    :class:`TransformStream` and its copies."""

    def __init__(self, source: Iterator[T]) -> None:
        self.source = source
        self.buffer: deque[T] = deque()
        self.offset = 0
        """Stream position of ``buffer[0]``."""
        self.views: list[TransformStream[T]] = []
        self.starter: TransformStream[T] | None = None
        """The view that read first."""
        self.exhausted = False
        self.cancelled = False

    @property
    def end(self) -> int:
        return self.offset + len(self.buffer)

    def trim(self) -> None:
        """Forget the items that every open view has read."""
        lowest = min((v.position for v in self.views if not v.closed), default=self.end)
        while self.buffer and self.offset < lowest:
            self.buffer.popleft()
            self.offset += 1

    def cancel(self) -> None:
        """Close the model's stream (which cancels its prediction); every view ends."""
        self.cancelled = True
        self.buffer.clear()
        close = getattr(self.source, "close", None)
        if callable(close):
            close()


class TransformStream(Iterator[T]):
    """The output of a model's ``transform``: a stream that a sync chain can leave early.

    langchain-core's ``_transform_stream_with_config`` (output parsers, lambdas and other
    streaming steps of a blocking chain) splits its input with ``itertools.tee``: the step
    reads one copy; the other one is read for one item first, and to its end once the step
    is done, to record the step's input for tracing. When the chain's consumer leaves early
    (``break`` out of ``(prompt | llm | StrOutputParser()).stream(...)``), the step is
    closed and that record would read the rest of the model's reply, running the
    generation to its end before ``break`` returns, and sending no cancel.

    ``itertools.tee`` copies an iterator that has ``__copy__`` instead of buffering it, so
    this stream knows which copy reads: the copy that read first asking for an item the
    model has not produced yet, after another copy started reading, means that the reader
    of the other copy stopped. The model's stream is then closed, which cancels the
    prediction, and every copy ends. Read without copies it is a plain iterator, and
    :meth:`close` closes the model's stream (once every copy is closed).
    """

    def __init__(self, source: Iterator[T]) -> None:
        self._shared: _SharedSource[T] = _SharedSource(source)
        self._shared.views.append(self)
        self.position = 0
        """Stream position of the next item this view reads."""
        self.started = False
        self.closed = False

    def __copy__(self) -> TransformStream[T]:
        copy = object.__new__(type(self))
        copy._shared = self._shared
        copy.position = self.position
        copy.started = False
        copy.closed = self.closed
        self._shared.views.append(copy)
        return copy

    def __iter__(self) -> TransformStream[T]:
        return self

    def __next__(self) -> T:
        shared = self._shared
        if shared.starter is None:
            shared.starter = self
        if self.closed or shared.cancelled:
            raise StopIteration
        if self.position >= shared.end:
            if shared.exhausted:
                raise StopIteration
            if shared.starter is self and any(
                view.started for view in shared.views if view is not self
            ):
                shared.cancel()  # the other copy's reader stopped: see the class docstring
                raise StopIteration
            try:
                item = next(shared.source)
            except StopIteration:
                shared.exhausted = True
                raise
            shared.buffer.append(item)
        item = shared.buffer[self.position - shared.offset]
        self.position += 1
        self.started = True
        shared.trim()
        return item

    def close(self) -> None:
        """Stop reading; the model's stream is closed once every copy is closed."""
        self.closed = True
        shared = self._shared
        if all(view.closed for view in shared.views):
            if not shared.exhausted and not shared.cancelled:
                shared.cancel()
        else:
            shared.trim()


class StreamBinding(RunnableBinding[Any, Any]):  # type: ignore[no-redef]  # as langchain's
    """A ``RunnableBinding`` (``LMStudioLLM.bind``, ``with_config``) whose ``transform``
    output is a :class:`TransformStream`, so that a chain can also be left early when its
    model step is bound. It serializes as a plain ``RunnableBinding``."""

    @classmethod
    def lc_id(cls) -> list[str]:
        return RunnableBinding.lc_id()

    @override
    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        return TransformStream(super().transform(input, config, **kwargs))


# -- statistics -> usage and metadata ---------------------------------------------------------


def usage_metadata(stats: PredictionStats, reasoning_tokens: int = 0) -> UsageMetadata | None:
    """LangChain usage from LM Studio's statistics (``None`` when it sent no counts)."""
    if stats.prompt_tokens is None and stats.predicted_tokens is None:
        return None
    input_tokens = stats.prompt_tokens or 0
    output_tokens = stats.predicted_tokens or 0
    total = stats.total_tokens if stats.total_tokens is not None else input_tokens + output_tokens
    usage = UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=total
    )
    if reasoning_tokens:
        usage["output_token_details"] = OutputTokenDetails(reasoning=reasoning_tokens)
    return usage


_STAT_KEYS = (
    "time_to_first_token",
    "tokens_per_second",
    "total_time",
    "stop_string",
    "used_draft_model_key",
    "accepted_draft_tokens",
    "rejected_draft_tokens",
    "total_draft_tokens",
    "ignored_draft_tokens",
)


def response_metadata(result: PredictionResult, model_name: str) -> dict[str, Any]:
    """``response_metadata`` of a result: model, finish reason and performance figures."""
    stats = result.stats
    info = result.model_info
    metadata: dict[str, Any] = {
        "model_provider": PROVIDER,
        "model_name": info.model_key if info is not None else model_name,
        "finish_reason": stats.finish_reason,
        "stop_reason": stats.stop_reason,
    }
    if info is not None:
        metadata["model_identifier"] = info.identifier
    for key in _STAT_KEYS:
        value = getattr(stats, key)
        if value is not None:
            metadata[key] = value
    return metadata


def completion_chunk(event: PredictionEvent) -> GenerationChunk | None:
    """The text-completion chunk of an event (answer text only)."""
    if isinstance(event, TextFragment):
        return GenerationChunk(text=event.text)
    return None


def completion_info(result: PredictionResult, model_name: str) -> dict[str, Any]:
    """``generation_info`` of a text completion: metadata plus token counts."""
    info = response_metadata(result, model_name)
    usage = usage_metadata(result.stats)
    if usage is not None:
        info["usage_metadata"] = dict(usage)
    return info


# -- model info -> profile ----------------------------------------------------------------


def adapter_profile() -> ModelProfile:
    """What the adapter supports for every LM Studio model (no server needed)."""
    return ModelProfile(
        text_inputs=True,
        text_outputs=True,
        image_url_inputs=False,
        pdf_inputs=False,
        audio_inputs=False,
        video_inputs=False,
        image_tool_message=False,
        pdf_tool_message=False,
        tool_calling=True,
        tool_choice=True,
        tool_call_streaming=True,
        structured_output=True,
        temperature=True,
    )


def profile_from_info(info: LoadedModelInfo) -> ModelProfile:
    """The profile of a loaded model: context length, vision and tool use included."""
    profile = adapter_profile()
    context = info.context_length or info.max_context_length
    if context:
        profile["max_input_tokens"] = int(context)
    profile["image_inputs"] = bool(info.vision)
    profile["tool_calling"] = bool(info.trained_for_tool_use)
    if info.display_name:
        profile["name"] = info.display_name
    return profile


# -- errors ---------------------------------------------------------------------------------


class LMStudioAuthenticationError(ModelAuthenticationError, AuthenticationError):
    """LM Studio rejected the API token."""


class LMStudioConnectionError(ModelConnectionError, ConnectError):
    """LM Studio could not be reached."""


class LMStudioDisconnectedError(ModelConnectionError, DisconnectedError):
    """The connection to LM Studio dropped during the request."""


class LMStudioTimeoutError(ModelTimeoutError, RequestTimeoutError):
    """LM Studio did not answer (or produce the next token) in time."""


class LMStudioModelNotFoundError(LangChainModelNotFoundError, ModelNotFoundError):
    """No downloaded or loaded model matches the requested key."""


class LMStudioContextOverflowError(LangChainContextOverflowError, ContextOverflowError):
    """The prompt does not fit into the model's loaded context length."""


class LMStudioInvalidRequestError(ModelInvalidRequestError, ServerError):
    """LM Studio refused the request (wrong model kind, unknown preset, no vision, ...)."""


class LMStudioAPIError(ModelAPIError, ServerError):
    """Any other error reported by LM Studio."""


_INVALID_REQUEST_HINTS = ("does not support images",)


def _server_error_class(exc: ServerError) -> type[ServerError]:
    if isinstance(exc, ModelNotFoundError):
        return LMStudioModelNotFoundError
    if isinstance(exc, ContextOverflowError):
        return LMStudioContextOverflowError
    if isinstance(exc, DomainMismatchError | PresetNotFoundError):
        return LMStudioInvalidRequestError
    text = f"{exc.title} {exc.cause or ''}".lower()
    if any(hint in text for hint in _INVALID_REQUEST_HINTS):
        return LMStudioInvalidRequestError
    return LMStudioAPIError


def authentication_message(exc: AuthenticationError) -> str:
    """The message of a rejected API token, naming the LangChain models' ``api_key``."""
    reason = (exc.reason or "").strip().rstrip(".")
    rejected = (
        f"LM Studio rejected the API token: {reason}"
        if reason
        else ("LM Studio rejected the API token")
    )
    return f"{rejected}. Check the token: {TOKEN_PARAMETER_HINT}."


def to_langchain_error(exc: LMStudioError) -> LMStudioError:
    """The same error as an instance of langchain-core's matching ``ModelError`` too.

    Raise the result ``from exc``. Errors without a LangChain counterpart (protocol
    errors) are returned unchanged.
    """
    if isinstance(exc, ModelError):  # mapped already
        return exc
    if isinstance(exc, ServerError):
        cls = _server_error_class(exc)
        return cls(
            exc.title, cause=exc.cause, suggestion=exc.suggestion, code=exc.code,
            data=exc.data, error_data=exc.error_data, context=exc.context,
        )  # fmt: skip
    if isinstance(exc, AuthenticationError):
        return LMStudioAuthenticationError(authentication_message(exc), reason=exc.reason)
    simple: type[LMStudioError] | None = None
    if isinstance(exc, ConnectError):
        simple = LMStudioConnectionError
    elif isinstance(exc, DisconnectedError):
        simple = LMStudioDisconnectedError
    elif isinstance(exc, RequestTimeoutError):
        simple = LMStudioTimeoutError
    return exc if simple is None else simple(*exc.args)
