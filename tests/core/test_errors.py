from __future__ import annotations

import lmstudio_core.errors as errors
import pytest
from lmstudio_core import (
    AuthenticationError,
    ConnectError,
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
    for cls in (ModelNotFoundError, PresetNotFoundError, DomainMismatchError):
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
