"""Fixtures for running the official ``lmstudio`` client against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lmstudio
import pytest
from lmstudio_core.emulator import EmulatorThread

LLM_KEY = "qwen2.5-0.5b-instruct"
REASONING_KEY = "qwen3-4b"
EMBEDDING_KEY = "text-embedding-nomic-embed-text-v1.5"
TOKEN_ID = "abcDEF78"
TOKEN_KEY = "abcDEF7890abcDEF7890"
TOKEN = f"sk-lm-{TOKEN_ID}:{TOKEN_KEY}"


class TokenClient(lmstudio.Client):
    """The official sync client presenting an API token.

    lmstudio 1.5.0 predates API tokens; newer versions send the token's two halves as
    clientIdentifier/clientPasskey, which is exactly what this override does.
    """

    def _create_auth_message(self) -> Any:
        return self._format_auth_message(TOKEN_ID, TOKEN_KEY)


@pytest.fixture
def emu(lmstudio_emulator: EmulatorThread) -> EmulatorThread:
    return lmstudio_emulator


@pytest.fixture
def client(emu: EmulatorThread) -> Iterator[lmstudio.Client]:
    with lmstudio.Client(emu.api_host) as sync_client:
        yield sync_client


def add(a: int, b: int) -> int:
    """Add two integers and return their sum."""
    return a + b
