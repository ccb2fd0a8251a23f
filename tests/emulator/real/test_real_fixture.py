"""The ``lmstudio_emulator`` fixture with ``{"real": True}``."""

from __future__ import annotations

from typing import Any

import lmstudio
import pytest
from lmstudio_core.emulator import EmulatorThread
from lmstudio_core.emulator.real import MINILM_KEY, SMOLLM2_KEY

pytestmark = pytest.mark.usefixtures("real")  # skips when the real engines are missing


@pytest.fixture
def lmstudio_emulator_options() -> dict[str, Any]:
    return {"real": True}


def test_real_models_join_the_default_catalog(lmstudio_emulator: EmulatorThread) -> None:
    with lmstudio.Client(lmstudio_emulator.api_host) as client:
        keys = {m.model_key for m in client.list_downloaded_models()}
        vector = client.embedding.model(MINILM_KEY).embed("Hello")

    assert {SMOLLM2_KEY, MINILM_KEY, "qwen2.5-0.5b-instruct"} <= keys
    assert len(vector) == 384
