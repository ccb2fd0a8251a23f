from __future__ import annotations

import lmstudio_core.errors as errors
import pytest
from lmstudio_core import (
    AuthenticationError,
    ConnectError,
    ContextOverflowError,
    DisconnectedError,
    DomainMismatchError,
    LMStudioError,
    ModelNotFoundError,
    PresetNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
)
from lmstudio_core.protocol import (
    ChannelFailed,
    ConnectionFailed,
    ProtocolViolation,
    RpcFailed,
    SerializedError,
)


def test_tree() -> None:
    assert issubclass(AuthenticationError, ConnectError)
    assert issubclass(RequestTimeoutError, TimeoutError)
    for cls in (ConnectError, DisconnectedError, RequestTimeoutError, ServerError, ProtocolError):
        assert issubclass(cls, LMStudioError)
    for cls in (ModelNotFoundError, PresetNotFoundError, DomainMismatchError, ContextOverflowError):
        assert issubclass(cls, ServerError)
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name[0].isupper():
            assert name in doc


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("generic.noModelMatchingQuery", ModelNotFoundError),
        ("generic.pathNotFound", ModelNotFoundError),
        ("generic.specificModelUnloaded", ModelNotFoundError),
        ("generic.presetNotFound", PresetNotFoundError),
        ("generic.domainMismatch", DomainMismatchError),
        ("generic.somethingNew", ServerError),
        (None, ServerError),
    ],
)
def test_subclass_from_code(code: str | None, cls: type[ServerError]) -> None:
    data = {"title": "T", "displayData": {"code": code}} if code else {"title": "T"}
    error = ServerError.from_serialized(SerializedError.from_wire(data))
    assert type(error) is cls
    assert error.code == code


OVERFLOW_TITLE = (
    "Trying to keep the first 5000 tokens when context the overflows. However, the model is "
    "loaded with context length of only 4096 tokens, which is not enough. Try to load the "
    "model with a larger context length, or provide a shorter input"
)


@pytest.mark.parametrize(
    "wire",
    [
        {"title": OVERFLOW_TITLE},
        {"title": "Prediction failed", "cause": OVERFLOW_TITLE},
        {"title": "Error", "rootTitle": "The prompt exceeds the context length of the model"},
    ],
    ids=["title", "cause", "root title"],
)
def test_context_overflow_is_recognised_by_its_text(wire: dict[str, str]) -> None:
    error = ServerError.from_serialized(SerializedError.from_wire(wire))
    assert type(error) is ContextOverflowError
    assert error.code is None


def test_a_display_code_wins_over_the_text() -> None:
    wire = {"title": OVERFLOW_TITLE, "displayData": {"code": "generic.pathNotFound"}}
    error = ServerError.from_serialized(SerializedError.from_wire(wire))
    assert type(error) is ModelNotFoundError
    wire = {"title": OVERFLOW_TITLE, "displayData": {"code": "generic.somethingNew"}}
    assert type(ServerError.from_serialized(SerializedError.from_wire(wire))) is ServerError


def test_other_context_words_are_no_overflow() -> None:
    wire = {"title": "Failed to load model", "cause": "context length must be positive"}
    assert type(ServerError.from_serialized(SerializedError.from_wire(wire))) is ServerError


def test_message_carries_title_cause_suggestion_and_details() -> None:
    wire = {
        "title": "No loaded model satisfies the query",
        "cause": "nothing matched",
        "suggestion": "load one",
        "displayData": {
            "code": "generic.noModelMatchingQuery",
            "query": {"identifier": "x"},
            "loadedModelsSample": ["a", "b"],
            "totalLoadedModels": 2,
        },
    }
    error = ServerError.from_serialized(SerializedError.from_wire(wire), context="tokenize failed")
    text = str(error)
    assert text.startswith("tokenize failed: No loaded model satisfies the query")
    assert "Cause: nothing matched" in text
    assert "Suggestion: load one" in text
    assert "loaded models (2): a, b" in text
    assert error.title == wire["title"]
    assert error.cause == "nothing matched"
    assert error.data["query"] == {"identifier": "x"}


def test_non_object_error() -> None:
    error = ServerError.from_serialized(SerializedError.from_wire("plain text"))
    assert error.title == "plain text"


def test_failure_error_mapping() -> None:
    err = SerializedError(title="x")
    assert isinstance(errors.failure_error(RpcFailed(1, err), "c"), ServerError)
    assert isinstance(errors.failure_error(ChannelFailed(1, err), "c"), ServerError)
    assert isinstance(errors.failure_error(ProtocolViolation("bad"), "c"), ProtocolError)
    lost = errors.failure_error(ConnectionFailed(1, None, "lost"), "c")
    assert isinstance(lost, DisconnectedError)
    assert "lost" in str(lost)
