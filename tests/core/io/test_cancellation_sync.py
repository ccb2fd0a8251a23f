# Generated from tests/core/io/test_cancellation_async.py by scripts/unasync.py: do not edit.
"""Cancellation with the blocking client."""

from __future__ import annotations

from typing import Any

import pytest
from lmstudio_core import Client, TextFragment

from .conftest import LLM_KEY, REASONING_KEY


def wait_for_cancel(emulator: Any) -> None:
    found = emulator.record.wait_for(lambda r: r.cancels, 5)
    assert found, "no cancel received"
    assert emulator.record.cancels[-1].endpoint in ("predict", "loadModel", "getOrLoad")


def test_break_sends_cancel(client: Client, slow: Any) -> None:
    model = client.llm.model(LLM_KEY)
    with model.respond_stream("Write a long story") as stream:
        for event in stream:
            if isinstance(event, TextFragment):
                break
    wait_for_cancel(slow)
    with pytest.raises(RuntimeError, match="closed before it finished"):
        stream.result()
    assert model.respond("again", max_tokens=3).content


def test_exception_in_block_sends_cancel_and_propagates(client: Client, slow: Any) -> None:
    model = client.llm.model(LLM_KEY)
    with pytest.raises(ZeroDivisionError):  # noqa: PT012
        with model.respond_stream("story") as stream:
            next(iter(stream))
            _ = 1 / 0
    wait_for_cancel(slow)


def test_stream_cancel_keeps_partial_result(client: Client, slow: Any) -> None:
    model = client.llm.model(LLM_KEY)
    with model.respond_stream("Write a long story", max_tokens=500) as stream:
        seen = ""
        for event in stream:
            if isinstance(event, TextFragment):
                seen += event.text
                if len(seen) > 3:
                    stream.cancel()
        result = stream.result()
    wait_for_cancel(slow)
    assert result.stop_reason == "userStopped"
    assert result.content.startswith(seen)
    assert len(result.content) < 2000


def test_cancel_before_start(client: Client) -> None:
    stream = client.llm.model(LLM_KEY).respond_stream("hi")
    stream.cancel()
    assert stream.result().stop_reason == "userStopped"


def test_leaving_a_load_early_cancels_it(lmstudio_emulator_factory: Any) -> None:
    with lmstudio_emulator_factory(load_seconds=2.0) as emu:
        with Client(emu.base_url) as client:
            with client.llm.load_stream(REASONING_KEY) as stream:
                next(iter(stream))
            assert emu.record.wait_for(lambda r: r.cancels, 5)
