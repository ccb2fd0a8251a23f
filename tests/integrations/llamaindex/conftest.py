"""Fixtures of the LlamaIndex adapter tests: models pointed at the LM Studio emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from llamaindex_models import CHAT_MODEL, EMBEDDING_MODEL, REASONING_MODEL

from lmstudio_integrations.llamaindex import LMStudio, LMStudioEmbedding

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread


@pytest.fixture
def emulator(lmstudio_emulator: EmulatorThread) -> EmulatorThread:
    return lmstudio_emulator


@pytest.fixture
def llm(emulator: EmulatorThread) -> Iterator[LMStudio]:
    model = LMStudio(model_name=CHAT_MODEL, base_url=emulator.base_url, request_timeout=20)
    yield model
    model.close()


@pytest.fixture
def reasoning_llm(emulator: EmulatorThread) -> Iterator[LMStudio]:
    model = LMStudio(model_name=REASONING_MODEL, base_url=emulator.base_url, request_timeout=20)
    yield model
    model.close()


@pytest.fixture
def embed_model(emulator: EmulatorThread) -> Iterator[LMStudioEmbedding]:
    model = LMStudioEmbedding(model_name=EMBEDDING_MODEL, base_url=emulator.base_url)
    yield model
    model.close()
