"""Fixtures of the LangChain adapter tests: models wired to the LM Studio emulator."""

from __future__ import annotations

from collections.abc import Iterator

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
