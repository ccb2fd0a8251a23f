"""Fixtures of the LangChain adapter tests: models wired to the LM Studio emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_models import CHAT_MODEL, EMBEDDING_MODEL, REASONING_MODEL
from lmstudio_core.emulator import EmulatorThread

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings, LMStudioLLM


@pytest.fixture
def emu(lmstudio_emulator: EmulatorThread) -> EmulatorThread:
    return lmstudio_emulator


@pytest.fixture
def chat(emu: EmulatorThread) -> Iterator[ChatLMStudio]:
    model = ChatLMStudio(model=CHAT_MODEL, base_url=emu.base_url)
    yield model
    model.close()


@pytest.fixture
def reasoning_chat(emu: EmulatorThread) -> Iterator[ChatLMStudio]:
    model = ChatLMStudio(model=REASONING_MODEL, base_url=emu.base_url)
    yield model
    model.close()


@pytest.fixture
def completion_llm(emu: EmulatorThread) -> Iterator[LMStudioLLM]:
    model = LMStudioLLM(model=CHAT_MODEL, base_url=emu.base_url)
    yield model
    model.close()


@pytest.fixture
def embeddings(emu: EmulatorThread) -> Iterator[LMStudioEmbeddings]:
    model = LMStudioEmbeddings(model=EMBEDDING_MODEL, base_url=emu.base_url)
    yield model
    model.close()


@pytest.fixture
def lmstudio_emulator_factory() -> Callable[..., EmulatorThread]:
    """Start an extra emulator with custom options: ``with factory(**options) as emu:``
    (e.g. ``api_tokens=[...]`` for token mode, ``load_seconds=2.5`` for slow loads)."""
    from lmstudio_core.emulator import EmulatorThread

    def start(**options: Any) -> EmulatorThread:
        return EmulatorThread(host="127.0.0.1", port=0, **options)

    return start
