"""Missing optional packages give an error that says how to install them."""

from __future__ import annotations

import pytest
from lmstudio_core.emulator.real import (
    INSTALL_COMMAND,
    MINILM_KEY,
    SMOLLM2_KEY,
    RealEngineUnavailableError,
    real_catalog,
)
from lmstudio_core.emulator.real._deps import load_module, missing_packages


def test_missing_module_names_the_install_command() -> None:
    with pytest.raises(RealEngineUnavailableError) as info:
        load_module("no_such_module_for_the_emulator", "The test engine")

    assert "no_such_module_for_the_emulator" in str(info.value)
    assert INSTALL_COMMAND in str(info.value)
    assert isinstance(info.value, ImportError)


def test_missing_packages_are_found_without_importing() -> None:
    assert missing_packages({"json": "json", "no_such_module_xyz": "no-such-dist"}) == [
        "no-such-dist"
    ]


def test_catalog_entries_describe_the_real_models() -> None:
    llm, embedder = real_catalog()

    assert llm.model_key == SMOLLM2_KEY
    assert llm.to_wire()["quantization"] == {"name": "Q4_1", "bits": 4}
    assert llm.effective_publisher == "HuggingFaceTB"
    assert (llm.max_context_length, llm.vision, llm.trained_for_tool_use) == (8192, False, False)
    assert embedder.model_key == MINILM_KEY
    assert (embedder.type, embedder.architecture, embedder.format) == ("embedding", "bert", "onnx")
    assert embedder.embedding_dimension == 384
    assert not llm.preload
    assert all(spec.preload for spec in real_catalog(preload=True))
