"""What only the blocking client does: async tools refused, threads sharing a socket,
Ctrl-C. Its asyncio counterpart is ``test_only_async.py``; everything the two clients share
is tested by ``test_*_async.py`` and their generated blocking twins."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from lmstudio_core import Client, DisconnectedError

from .conftest import LLM_KEY
from .test_cancellation_sync import wait_for_cancel


def test_act_rejects_async_tools(client: Client, lmstudio_emulator: Any) -> None:
    from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

    async def aadd(a: int, b: int) -> int:
        """Add."""
        return a + b

    lmstudio_emulator.engine.script(
        None, ScriptedTurn(tool_calls=[ScriptedToolCall("aadd", {"a": 1, "b": 2})])
    )
    with pytest.raises(TypeError, match="AsyncClient"):
        client.llm.model(LLM_KEY).act("add", [aadd])


def test_threads_share_one_socket(client: Client, lmstudio_emulator: Any) -> None:
    model = client.llm.model(LLM_KEY)
    results: list[str] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results.append(model.respond(f"hello {i}", max_tokens=8).content)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 8
    llm_clients = {
        r.client_identifier for r in lmstudio_emulator.record.requests if r.namespace == "llm"
    }
    assert len(llm_clients) == 1


def test_close_fails_pending_requests_promptly(lmstudio_emulator: Any) -> None:
    lmstudio_emulator.faults.delay("tokenize", 5.0)
    client = Client(lmstudio_emulator.base_url, max_retries=0)
    model = client.llm.model(LLM_KEY)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            model.tokenize("x")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    client.close()
    thread.join(5)
    assert time.monotonic() - start < 3
    assert len(errors) == 1
    assert isinstance(errors[0], DisconnectedError)
    assert "closed" in str(errors[0])


def test_keyboard_interrupt_sends_cancel_and_propagates(client: Client, slow: Any) -> None:
    model = client.llm.model(LLM_KEY)
    with pytest.raises(KeyboardInterrupt), model.respond_stream("story") as stream:  # noqa: PT012
        next(iter(stream))
        raise KeyboardInterrupt
    wait_for_cancel(slow)
