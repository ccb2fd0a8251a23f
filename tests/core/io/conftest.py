from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from lmstudio_core import AsyncClient, Client, Timeouts

LLM_KEY = "qwen2.5-0.5b-instruct"
REASONING_KEY = "qwen3-4b"
VISION_KEY = "qwen2-vl-2b-instruct"
EMBEDDING_KEY = "text-embedding-nomic-embed-text-v1.5"
TEST_TIMEOUTS = Timeouts(connect=5, request=10, first_token=10, idle=10)


@pytest.fixture
def client(lmstudio_emulator: Any) -> Iterator[Client]:
    with Client(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1) as c:
        yield c


@pytest.fixture
async def aclient(lmstudio_emulator: Any) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1) as c:
        yield c


@pytest.fixture
def slow(lmstudio_emulator: Any) -> Any:
    """The emulator at 50 tokens/s: slow enough for a cancel to land mid-reply."""
    lmstudio_emulator.faults.set_tokens_per_second(50)
    return lmstudio_emulator


@pytest.fixture
def lmstudio_emulator_factory() -> Any:
    """Start an extra emulator with custom options: ``with factory(**options) as emu:``."""
    from lmstudio_core.emulator import EmulatorThread

    def start(**options: Any) -> Any:
        return EmulatorThread(host="127.0.0.1", port=0, **options)

    return start


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
