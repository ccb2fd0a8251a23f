"""Fixtures of the LangChain adapter tests: models wired to the LM Studio emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lmstudio_core.emulator import EmulatorThread

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings, LMStudioLLM

CHAT_MODEL = "qwen2.5-0.5b-instruct"
REASONING_MODEL = "qwen3-4b"
VISION_MODEL = "qwen2-vl-2b-instruct"
EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5"


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
