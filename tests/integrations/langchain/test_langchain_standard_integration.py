"""langchain-tests' standard integration suites, against the LM Studio emulator.

Tests that download their inputs from the internet are expected to fail offline (the
download raises before the model is called); test_langchain_chat.py has an offline
equivalent of each.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage
from langchain_models import CHAT_MODEL, EMBEDDING_MODEL, REASONING_MODEL, VISION_MODEL
from langchain_tests.integration_tests import (
    ChatModelIntegrationTests,
    EmbeddingsIntegrationTests,
)
from lmstudio_core.emulator import EmulatorThread

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings

DOWNLOADS = pytest.mark.xfail(
    reason="downloads its input image from the internet; offline equivalent in "
    "test_langchain_chat.py",
    raises=httpx.TransportError,
    strict=False,
)


class TestChatLMStudioIntegration(ChatModelIntegrationTests):
    base_url: str

    @pytest.fixture(autouse=True)
    def _emulator(self, lmstudio_emulator: EmulatorThread) -> None:
        self.base_url = lmstudio_emulator.base_url

    @property
    def chat_model_class(self) -> type[ChatLMStudio]:
        return ChatLMStudio

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": VISION_MODEL, "base_url": self.base_url}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[Any, Any]:
        return {"invoke": ["reasoning_output"], "stream": ["reasoning_output"]}

    @property
    def model_override_value(self) -> str:
        return CHAT_MODEL

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        model = ChatLMStudio(model=REASONING_MODEL, base_url=self.base_url)
        prompt = "Think step by step: what is 3 + 4?"
        if not stream:
            return model.invoke(prompt)
        full = None
        for chunk in model.stream(prompt):
            full = chunk if full is None else full + chunk
        assert full is not None
        return AIMessage(**full.model_dump(exclude={"type", "tool_call_chunks", "chunk_position"}))

    @DOWNLOADS
    def test_image_inputs(self, model: Any) -> None:
        super().test_image_inputs(model)

    @DOWNLOADS
    def test_anthropic_inputs(self, model: Any) -> None:
        super().test_anthropic_inputs(model)


class TestLMStudioEmbeddingsIntegration(EmbeddingsIntegrationTests):
    base_url: str

    @pytest.fixture(autouse=True)
    def _emulator(self, lmstudio_emulator: EmulatorThread) -> None:
        self.base_url = lmstudio_emulator.base_url

    @property
    def embeddings_class(self) -> type[LMStudioEmbeddings]:
        return LMStudioEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": EMBEDDING_MODEL, "base_url": self.base_url}
