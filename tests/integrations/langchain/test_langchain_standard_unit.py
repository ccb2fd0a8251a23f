"""langchain-tests' standard unit suites (no network: sockets are disabled)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings

TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"
lc_load = importlib.import_module("langchain_core.load.load")

pytestmark = pytest.mark.disable_socket


@pytest.fixture
def trusted_for_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Admit ChatLMStudio to ``load(..., allowed_objects="all")``.

    langchain-core's "all" allowlist holds only the classes of its own mapping table, so
    no package outside it can pass ``test_serdes`` unaided. Users load a ChatLMStudio with
    ``load(data, allowed_objects=[ChatLMStudio])`` (tested in test_langchain_chat.py).
    """
    paths = set(lc_load._get_default_allowed_class_paths("all"))
    paths.add(tuple(ChatLMStudio.lc_id()))
    monkeypatch.setitem(lc_load._default_class_paths_cache, "all", paths)


@pytest.mark.usefixtures("trusted_for_loading")
class TestChatLMStudioUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatLMStudio]:
        return ChatLMStudio

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "qwen2.5-0.5b-instruct"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"LM_API_TOKEN": TOKEN}, {"model": "qwen2.5-0.5b-instruct"}, {"api_key": TOKEN}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "qwen3-4b"


class TestLMStudioEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[LMStudioEmbeddings]:
        return LMStudioEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "text-embedding-nomic-embed-text-v1.5"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"LM_API_TOKEN": TOKEN},
            {"model": "text-embedding-nomic-embed-text-v1.5"},
            {"api_key": TOKEN},
        )
