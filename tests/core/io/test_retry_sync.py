# Generated from tests/core/io/test_retry_async.py by scripts/unasync.py: do not edit.
"""Retries with the blocking client.

Connecting and idempotent RPCs are retried after a refused connection or a dropped one;
predictions never are; ``max_retries=0`` turns retrying off.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from lmstudio_core import Client, ConnectError, DisconnectedError, TextFragment

from .conftest import EMBEDDING_KEY, LLM_KEY, TEST_TIMEOUTS


@pytest.fixture
def retrying(lmstudio_emulator: Any) -> Iterator[Client]:
    with Client(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=3) as client:
        yield client


@pytest.fixture
def not_retrying(lmstudio_emulator: Any) -> Iterator[Client]:
    with Client(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=0) as client:
        yield client


def calls_to(emulator: Any, endpoint: str) -> int:
    return emulator.record.endpoints().count(endpoint)


# -- (a) connecting ---------------------------------------------------------------------


def test_connecting_retries_a_refused_handshake(retrying: Client, lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.refuse_connections(2, namespace="llm")
    loaded = retrying.llm.list_loaded()
    assert LLM_KEY in [model.identifier for model in loaded]
    assert calls_to(lmstudio_emulator, "listLoaded") == 1


def test_connecting_retries_until_the_server_listens(unused_port: int) -> None:
    from lmstudio_core.emulator import EmulatorThread

    emulator = EmulatorThread(host="127.0.0.1", port=unused_port)
    starter = threading.Timer(0.2, emulator.start)
    try:
        with Client(f"127.0.0.1:{unused_port}", timeout=TEST_TIMEOUTS, max_retries=6) as client:
            starter.start()
            assert client.system.version().version
    finally:
        starter.join()
        emulator.stop()


# -- (b) idempotent RPCs after a dropped connection -------------------------------------


def test_list_loaded_is_retried_after_a_drop(retrying: Client, lmstudio_emulator: Any) -> None:
    expected = [model.identifier for model in retrying.llm.list_loaded()]
    lmstudio_emulator.faults.drop_connection_on("listLoaded")
    assert [model.identifier for model in retrying.llm.list_loaded()] == expected
    assert calls_to(lmstudio_emulator, "listLoaded") == 3


def test_tokenize_is_retried_after_a_drop(retrying: Client, lmstudio_emulator: Any) -> None:
    model = retrying.llm.model(LLM_KEY)
    expected = model.tokenize("Hello world")
    lmstudio_emulator.faults.drop_connection_on("tokenize")
    assert model.tokenize("Hello world") == expected
    assert calls_to(lmstudio_emulator, "tokenize") == 3


def test_embedding_a_batch_is_retried_after_a_drop(
    retrying: Client, lmstudio_emulator: Any
) -> None:
    model = retrying.embedding.model(EMBEDDING_KEY)
    texts = [f"text {i}" for i in range(6)]
    expected = model.embed(texts)
    lmstudio_emulator.faults.drop_connection_on("embedString", namespace="embedding")
    assert model.embed(texts) == expected


def test_retries_give_up_after_max_retries(lmstudio_emulator: Any) -> None:
    with Client(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1) as client:
        client.llm.list_loaded()
        lmstudio_emulator.faults.drop_connection_on("listLoaded", times=2)
        with pytest.raises(DisconnectedError):
            client.llm.list_loaded()
        assert calls_to(lmstudio_emulator, "listLoaded") == 1 + 2
        assert client.llm.list_loaded()  # the next request reconnects


# -- (c) predictions are never retried ---------------------------------------------------


def test_prediction_dropped_at_the_start_is_not_retried(
    retrying: Client, lmstudio_emulator: Any
) -> None:
    model = retrying.llm.model(LLM_KEY)
    lmstudio_emulator.faults.drop_connection_on("predict")
    with pytest.raises(DisconnectedError) as info:
        model.respond("Hi")
    assert info.value.__cause__ is not None
    assert calls_to(lmstudio_emulator, "predict") == 1
    assert lmstudio_emulator.record.predictions == []


def test_prediction_dropped_mid_stream_is_not_retried(
    retrying: Client, lmstudio_emulator: Any
) -> None:
    model = retrying.llm.model(LLM_KEY)
    lmstudio_emulator.faults.drop_connection_after(3)
    texts: list[str] = []
    with pytest.raises(DisconnectedError):  # noqa: PT012
        with model.respond_stream("story") as stream:
            for event in stream:
                if isinstance(event, TextFragment):
                    texts.append(event.text)
    assert len(texts) == 3
    assert calls_to(lmstudio_emulator, "predict") == 1
    assert model.respond("again", max_tokens=3).content  # a new request reconnects


# -- (d) max_retries=0 --------------------------------------------------------------------


def test_max_retries_zero_does_not_retry_a_drop(
    not_retrying: Client, lmstudio_emulator: Any
) -> None:
    not_retrying.llm.list_loaded()
    lmstudio_emulator.faults.drop_connection_on("listLoaded")
    with pytest.raises(DisconnectedError):
        not_retrying.llm.list_loaded()
    assert calls_to(lmstudio_emulator, "listLoaded") == 2
    assert not_retrying.llm.list_loaded()


def test_max_retries_zero_does_not_retry_connecting(
    not_retrying: Client, lmstudio_emulator: Any
) -> None:
    lmstudio_emulator.faults.refuse_connections(1)
    with pytest.raises(ConnectError):
        not_retrying.llm.list_loaded()
    assert lmstudio_emulator.record.requests == []
    assert not_retrying.llm.list_loaded()
