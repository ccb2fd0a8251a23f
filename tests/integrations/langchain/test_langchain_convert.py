"""The pure conversions of the LangChain adapter (no server)."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core import exceptions as lc_errors
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from lmstudio_core import (
    AuthenticationError,
    Chat,
    ConnectError,
    DisconnectedError,
    DomainMismatchError,
    LMStudioError,
    LoadedModelInfo,
    ModelNotFoundError,
    PredictionEvent,
    PredictionResult,
    PredictionStats,
    PromptProgress,
    ProtocolError,
    ReasoningFragment,
    RequestTimeoutError,
    ServerError,
    TextFragment,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
    ToolCallNameReceived,
    ToolCallRequest,
    ToolCallStarted,
)
from lmstudio_core import ContextOverflowError as CoreContextOverflowError
from lmstudio_core.protocol import SerializedError

from lmstudio_integrations.langchain._convert import (
    ChunkBuilder,
    TransformStream,
    adapter_profile,
    completion_chunk,
    completion_info,
    messages_to_history,
    profile_from_info,
    response_metadata,
    to_langchain_error,
    tool_choice_for_core,
    usage_metadata,
)

PNG = "iVBORw0KGgo="
STATS = PredictionStats(
    stop_reason="eosFound",
    tokens_per_second=42.0,
    time_to_first_token=0.25,
    prompt_tokens=10,
    predicted_tokens=5,
    total_tokens=15,
)
INFO = LoadedModelInfo(
    type="llm",
    model_key="qwen2-vl-2b-instruct",
    identifier="qwen2-vl-2b-instruct:2",
    display_name="Qwen2 VL",
    max_context_length=32768,
    context_length=8192,
    vision=True,
    trained_for_tool_use=False,
)

# -- messages -> history -----------------------------------------------------------------

HISTORY_CASES: list[tuple[str, list[BaseMessage], list[dict[str, Any]]]] = [
    (
        "roles",
        [SystemMessage("be nice"), HumanMessage("hi"), AIMessage("hello")],
        [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
        ],
    ),
    (
        "consecutive messages of one role are merged",
        [SystemMessage("a"), SystemMessage("b"), HumanMessage("c"), HumanMessage("d")],
        [{"role": "system", "content": "a\n\nb"}, {"role": "user", "content": "c\n\nd"}],
    ),
    (
        "the name of a human message is not sent",
        [HumanMessage("hello", name="example_user")],
        [{"role": "user", "content": "hello"}],
    ),
    (
        "generic chat messages by role",
        [ChatMessage(content="x", role="developer"), ChatMessage(content="y", role="human")],
        [{"role": "system", "content": "x"}, {"role": "user", "content": "y"}],
    ),
    (
        "images as data URIs",
        [
            HumanMessage(
                [
                    {"type": "text", "text": "what is it?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image", "base64": PNG, "mime_type": "image/jpeg"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/gif", "data": PNG},
                    },
                ]
            )
        ],
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is it?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": f"data:image/gif;base64,{PNG}"}},
                ],
            }
        ],
    ),
    (
        "tool calls and results, string content",
        [
            AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1"}]),
            ToolMessage('{"result": 3}', tool_call_id="c1", name="add"),
        ],
        [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c1", "name": "add", "args": {"a": 1}}],
            },
            {"role": "tool", "content": '{"result": 3}', "tool_call_id": "c1", "name": "add"},
        ],
    ),
    (
        "Anthropic-style list content with tool_use blocks",
        [
            AIMessage(
                [
                    {"type": "text", "text": "some text"},
                    {"type": "tool_use", "id": "c1", "name": "add", "input": {"a": 1}},
                ],
                tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1"}],
            ),
            ToolMessage([{"type": "text", "text": "3"}], tool_call_id="c1"),
        ],
        [
            {
                "role": "assistant",
                "content": "some text",
                "tool_calls": [{"id": "c1", "name": "add", "args": {"a": 1}}],
            },
            {"role": "tool", "content": "3", "tool_call_id": "c1"},
        ],
    ),
    (
        "a failed tool result says so",
        [ToolMessage("missing argument 'b'", tool_call_id="c1", status="error")],
        [{"role": "tool", "content": "Error: missing argument 'b'", "tool_call_id": "c1"}],
    ),
    (
        "an error that says so already is kept",
        [ToolMessage("Error: boom", tool_call_id="c1", status="error")],
        [{"role": "tool", "content": "Error: boom", "tool_call_id": "c1"}],
    ),
    (
        "two tool results stay two messages",
        [ToolMessage("1", tool_call_id="a"), ToolMessage("2", tool_call_id="b")],
        [
            {"role": "tool", "content": "1", "tool_call_id": "a"},
            {"role": "tool", "content": "2", "tool_call_id": "b"},
        ],
    ),
    (
        "reasoning goes back as reasoning_content",
        [AIMessage("4", additional_kwargs={"reasoning_content": "2+2"})],
        [{"role": "assistant", "content": "4", "reasoning_content": "2+2"}],
    ),
    (
        "standard reasoning blocks and Anthropic thinking blocks",
        [
            AIMessage(
                [
                    {"type": "reasoning", "reasoning": "a"},
                    {"type": "thinking", "thinking": "b", "signature": "x"},
                    {"type": "text", "text": "c"},
                ]
            )
        ],
        [{"role": "assistant", "content": "c", "reasoning_content": "ab"}],
    ),
    (
        "merged assistant messages keep their reasoning",
        [
            AIMessage("a", additional_kwargs={"reasoning_content": "x"}),
            AIMessage("b", additional_kwargs={"reasoning_content": "y"}),
        ],
        [{"role": "assistant", "content": "a\n\nb", "reasoning_content": "xy"}],
    ),
]


@pytest.mark.parametrize(
    ("messages", "expected"),
    [case[1:] for case in HISTORY_CASES],
    ids=[case[0] for case in HISTORY_CASES],
)
def test_messages_to_history(messages: list[BaseMessage], expected: list[dict[str, Any]]) -> None:
    history = messages_to_history(messages)
    assert history == expected
    Chat.from_history(history)  # and the core accepts it


def test_reasoning_is_sent_in_think_tags_by_the_core() -> None:
    history = messages_to_history([AIMessage("4", additional_kwargs={"reasoning_content": "2+2"})])
    wire = Chat.from_history(history).to_wire()
    assert wire["messages"][0]["content"] == [{"type": "text", "text": "<think>2+2</think>4"}]


def test_images_can_be_left_out() -> None:
    message = HumanMessage(
        [{"type": "text", "text": "hi"}, {"type": "image", "base64": PNG, "mime_type": "image/png"}]
    )
    assert messages_to_history([message], images=False) == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    ]


def test_merging_mixes_text_and_parts() -> None:
    image = {"type": "image", "base64": PNG, "mime_type": "image/png"}
    history = messages_to_history([HumanMessage("look"), HumanMessage([image])])
    assert history == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "text", "text": "\n\n"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (HumanMessage([{"type": "image", "url": "https://example.com/cat.png"}]), ValueError),
        (
            HumanMessage([{"type": "file", "base64": PNG, "mime_type": "application/pdf"}]),
            ValueError,
        ),
        (
            ToolMessage(
                [{"type": "image", "base64": PNG, "mime_type": "image/png"}], tool_call_id="1"
            ),
            ValueError,
        ),
        (FunctionMessage(content="x", name="f"), TypeError),
        (ChatMessage(content="x", role="narrator"), TypeError),
    ],
)
def test_unsupported_content_is_refused(message: BaseMessage, error: type[Exception]) -> None:
    with pytest.raises(error):
        messages_to_history([message])


# -- tool_choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        (False, None),
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        (True, "required"),
        ("add", "add"),
        ({"type": "function", "function": {"name": "add"}}, "add"),
        ({"name": "add"}, "add"),
    ],
)
def test_tool_choice_for_core(choice: Any, expected: str | None) -> None:
    assert tool_choice_for_core(choice, ["add", "sub"]) == expected


def test_tool_choice_must_name_a_bound_tool() -> None:
    with pytest.raises(ValueError, match="names no bound tool"):
        tool_choice_for_core("mul", ["add"])


# -- events -> chunks -----------------------------------------------------------------------


def _aggregate(events: list[PredictionEvent], result: PredictionResult) -> AIMessageChunk:
    builder = ChunkBuilder()
    chunks = [c for c in (builder.chunk(e) for e in events) if c is not None]
    chunks.append(builder.last_chunk(result, "requested-model"))
    full = chunks[0].message
    for chunk in chunks[1:]:
        full = full + chunk.message
    assert isinstance(full, AIMessageChunk)
    return full


def test_text_and_reasoning_chunks() -> None:
    events: list[PredictionEvent] = [
        PromptProgress(0.5),
        ReasoningFragment("think ", 2),
        ReasoningFragment("hard", 1),
        TextFragment("Hello"),
        TextFragment(" world"),
    ]
    full = _aggregate(events, PredictionResult("Hello world", stats=STATS, model_info=INFO))
    assert full.content == "Hello world"
    assert full.additional_kwargs == {"reasoning_content": "think hard"}
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "text"]
    assert full.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "output_token_details": {"reasoning": 3},
    }
    assert full.chunk_position == "last"
    assert full.response_metadata["model_name"] == "qwen2-vl-2b-instruct"
    assert full.response_metadata["finish_reason"] == "stop"


def test_streamed_tool_calls() -> None:
    request = ToolCallRequest("call_1", "add", {"a": 1, "b": "你好"})
    events: list[PredictionEvent] = [
        TextFragment("Let me add."),
        ToolCallStarted(0, "call_1"),
        ToolCallNameReceived(0, "call_1", "add"),
        ToolCallArgumentsDelta(0, "call_1", '{"a": 1, '),
        ToolCallArgumentsDelta(0, "call_1", '"b": "你好"}'),
        ToolCallEnded(0, request),
        ToolCallStarted(1, "call_2"),
        ToolCallEnded(1, ToolCallRequest("call_2", "noop", {})),
    ]
    stats = PredictionStats(stop_reason="toolCalls", prompt_tokens=3, predicted_tokens=4)
    full = _aggregate(events, PredictionResult("Let me add.", stats=stats))
    assert full.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": "你好"}, "id": "call_1", "type": "tool_call"},
        {"name": "noop", "args": {}, "id": "call_2", "type": "tool_call"},
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.response_metadata["model_name"] == "requested-model"
    assert full.usage_metadata is not None
    assert full.usage_metadata["total_tokens"] == 7


def test_tool_call_chunks_announce_id_and_name_together() -> None:
    builder = ChunkBuilder()
    assert builder.chunk(TextFragment("x")) is not None  # block 0
    assert builder.chunk(ToolCallStarted(0, "call_1")) is None
    first = builder.chunk(ToolCallNameReceived(0, "call_1", "add"))
    delta = builder.chunk(ToolCallArgumentsDelta(0, "call_1", "{}"))
    assert first is not None
    assert delta is not None
    assert isinstance(first.message, AIMessageChunk)
    assert isinstance(delta.message, AIMessageChunk)
    assert first.message.tool_call_chunks == [
        {"name": "add", "args": None, "id": "call_1", "index": 1, "type": "tool_call_chunk"}
    ]
    assert delta.message.tool_call_chunks[0]["id"] is None
    assert builder.chunk(ToolCallEnded(0, ToolCallRequest("call_1", "add", {}))) is None


def test_failed_tool_calls_are_reported() -> None:
    builder = ChunkBuilder()
    assert builder.chunk(ToolCallFailed(0, "cannot parse", "<tool_call>{")) is None
    last = builder.last_chunk(PredictionResult(""), "m")
    assert last.message.response_metadata["tool_call_failures"] == [
        {"message": "cannot parse", "raw_content": "<tool_call>{"}
    ]


# -- statistics -------------------------------------------------------------------------------


def test_usage_metadata() -> None:
    assert usage_metadata(PredictionStats()) is None
    usage = usage_metadata(PredictionStats(prompt_tokens=7, predicted_tokens=2))
    assert usage == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}


def test_response_metadata() -> None:
    metadata = response_metadata(PredictionResult("x", stats=STATS, model_info=INFO), "m")
    assert metadata == {
        "model_provider": "lmstudio",
        "model_name": "qwen2-vl-2b-instruct",
        "model_identifier": "qwen2-vl-2b-instruct:2",
        "finish_reason": "stop",
        "stop_reason": "eosFound",
        "time_to_first_token": 0.25,
        "tokens_per_second": 42.0,
    }


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("maxPredictedTokensReached", "length"),
        ("contextLengthReached", "length"),
        ("stopStringFound", "stop"),
        ("userStopped", "cancelled"),
    ],
)
def test_finish_reasons(stop_reason: str, finish_reason: str) -> None:
    result = PredictionResult("", stats=PredictionStats(stop_reason=stop_reason))
    assert response_metadata(result, "m")["finish_reason"] == finish_reason


def test_completion_conversions() -> None:
    assert completion_chunk(ReasoningFragment("no")) is None
    chunk = completion_chunk(TextFragment("yes"))
    assert chunk is not None
    assert chunk.text == "yes"
    info = completion_info(PredictionResult("yes", stats=STATS), "m")
    assert info["usage_metadata"] == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    assert info["model_name"] == "m"


# -- profile ----------------------------------------------------------------------------------


def test_profiles() -> None:
    static = adapter_profile()
    assert static["structured_output"]
    assert static["tool_choice"]
    assert "max_input_tokens" not in static
    profile = profile_from_info(INFO)
    assert profile["max_input_tokens"] == 8192
    assert profile["image_inputs"] is True
    assert profile["tool_calling"] is False
    assert profile["name"] == "Qwen2 VL"


# -- errors -----------------------------------------------------------------------------------


def _server(title: str, **kwargs: Any) -> ServerError:
    return ServerError(title, **kwargs)


ERROR_CASES: list[tuple[Exception, type[Exception], type[Exception]]] = [
    (ConnectError("refused"), lc_errors.ModelConnectionError, ConnectError),
    (DisconnectedError("lost"), lc_errors.ModelConnectionError, DisconnectedError),
    (RequestTimeoutError("slow"), lc_errors.ModelTimeoutError, TimeoutError),
    (
        ModelNotFoundError("no model", code="generic.pathNotFound"),
        lc_errors.ModelNotFoundError,
        ModelNotFoundError,
    ),
    (
        DomainMismatchError("wrong kind", code="generic.domainMismatch"),
        lc_errors.ModelInvalidRequestError,
        ServerError,
    ),
    (
        CoreContextOverflowError("Trying to keep the first 5000 tokens when context the overflows"),
        lc_errors.ContextOverflowError,
        CoreContextOverflowError,
    ),
    (
        ServerError.from_serialized(
            SerializedError(
                title="Trying to keep the first 5000 tokens when context the overflows. However, "
                "the model is loaded with context length of only 4096 tokens"
            )
        ),
        lc_errors.ContextOverflowError,
        CoreContextOverflowError,
    ),
    (
        _server("Model does not support images. Please use a model that does."),
        lc_errors.ModelInvalidRequestError,
        ServerError,
    ),
    (_server("Boom", cause="scripted"), lc_errors.ModelAPIError, ServerError),
]


def test_context_overflow_is_not_guessed_from_the_text() -> None:
    """Only the core decides what a context overflow is; a plain ServerError stays one."""
    error = _server("Trying to keep the first 5000 tokens when context the overflows")
    mapped = to_langchain_error(error)
    assert not isinstance(mapped, lc_errors.ContextOverflowError)
    assert isinstance(mapped, lc_errors.ModelAPIError)


@pytest.mark.parametrize(("error", "langchain_type", "core_type"), ERROR_CASES)
def test_errors_are_both_types(
    error: Exception, langchain_type: type[Exception], core_type: type[Exception]
) -> None:
    assert isinstance(error, LMStudioError)
    mapped = to_langchain_error(error)
    assert isinstance(mapped, langchain_type)
    assert isinstance(mapped, core_type)
    assert str(mapped) == str(error)
    assert to_langchain_error(mapped) is mapped


def test_authentication_errors_name_the_langchain_parameter() -> None:
    core = AuthenticationError(
        "LM Studio rejected the credentials: Invalid API token. Check the API token "
        "(api_token=..., or the LM_API_TOKEN environment variable).",
        reason="Invalid API token.",
    )
    mapped = to_langchain_error(core)
    assert isinstance(mapped, lc_errors.ModelAuthenticationError)
    assert isinstance(mapped, AuthenticationError)
    assert mapped.reason == "Invalid API token."
    assert str(mapped) == (
        "LM Studio rejected the API token: Invalid API token. Check the token: pass it as "
        "api_key=... or set the LM_API_TOKEN environment variable (LMSTUDIO_API_TOKEN is "
        "read too)."
    )
    assert to_langchain_error(mapped) is mapped
    assert pickle.loads(pickle.dumps(mapped)).reason == "Invalid API token."
    without_reason = to_langchain_error(AuthenticationError("bad token"))
    assert str(without_reason).startswith("LM Studio rejected the API token. Check the token:")


def test_server_error_details_are_kept() -> None:
    error = ModelNotFoundError("no model", cause="c", suggestion="s", code="generic.pathNotFound")
    mapped = to_langchain_error(error)
    assert isinstance(mapped, ModelNotFoundError)
    assert (mapped.title, mapped.cause, mapped.suggestion, mapped.code) == (
        "no model",
        "c",
        "s",
        "generic.pathNotFound",
    )


def test_protocol_errors_are_unchanged() -> None:
    error = ProtocolError("garbled")
    assert to_langchain_error(error) is error


def test_public_names() -> None:
    import lmstudio_integrations.langchain as package

    assert package.__all__ == [
        "BlockingCallWarning",
        "ChatLMStudio",
        "LMStudioEmbeddings",
        "LMStudioLLM",
    ]
    for name in package.__all__:
        assert getattr(package, name).__module__.startswith("lmstudio_integrations.langchain.")


# -- transform output ---------------------------------------------------------------------------


class Source:
    """A model's stream: how far it was read, and whether it was closed."""

    def __init__(self, size: int = 10) -> None:
        self.produced = 0
        self.closed = False
        self.size = size

    def __iter__(self) -> Iterator[int]:
        try:
            for item in range(self.size):
                self.produced += 1
                yield item
        finally:
            self.closed = True


def test_transform_stream_alone_is_a_plain_iterator() -> None:
    source = Source()
    assert list(TransformStream(iter(source))) == list(range(10))
    assert source.closed
    left = Source()
    stream = TransformStream(iter(left))
    assert [next(stream), next(stream)] == [0, 1]
    stream.close()
    assert left.closed
    assert left.produced == 2
    assert list(stream) == []


def test_transform_stream_split_as_langchain_does() -> None:
    """``_transform_stream_with_config``: the tracing copy reads one item first, the step
    reads its copy, and the tracing copy reads the rest once the step is done."""
    source = Source()
    tracing, step = itertools.tee(TransformStream(iter(source)), 2)
    assert next(tracing) == 0
    assert list(step) == list(range(10))
    assert list(tracing) == list(range(1, 10))
    assert source.produced == 10


def test_transform_stream_ends_when_the_step_stops_reading() -> None:
    source = Source()
    tracing, step = itertools.tee(TransformStream(iter(source)), 2)
    assert next(tracing) == 0
    assert [next(step) for _ in range(3)] == [0, 1, 2]
    # The step's consumer left: the record of its input gets what was read, no more.
    assert list(tracing) == [1, 2]
    assert source.closed
    assert source.produced == 3
    assert list(step) == []


def test_transform_stream_copies_read_in_the_other_order() -> None:
    source = Source(5)
    first, second = itertools.tee(TransformStream(iter(source)), 2)
    assert next(second) == 0  # the copy starts
    assert list(first) == list(range(5))
    assert list(second) == list(range(1, 5))
    assert source.produced == 5
