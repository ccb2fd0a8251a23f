"""Catalog configuration from Python and from files."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest
from emulator_wire import WireFactory
from lmstudio_core.emulator import (
    EmulatorThread,
    ModelSpec,
    default_catalog,
    load_catalog_file,
    parse_catalog,
)

TOML = """
[[models]]
model_key = "tiny-llm"
type = "llm"
path = "acme/Tiny-GGUF/tiny-Q8_0.gguf"
display_name = "Tiny"
trained_for_tool_use = true
preload = true
quantization = { name = "Q8_0", bits = 8 }

[[models]]
modelKey = "tiny-embed"
type = "embedding"
embeddingDimension = 16
"""


def test_default_catalog_has_the_promised_models() -> None:
    specs = {spec.model_key: spec for spec in default_catalog()}
    assert specs["qwen3-4b"].reasoning
    assert specs["qwen3-4b"].trained_for_tool_use
    assert specs["qwen2-vl-2b-instruct"].vision
    assert specs["text-embedding-nomic-embed-text-v1.5"].embedding_dimension == 768
    assert sum(spec.type == "llm" for spec in specs.values()) >= 2


def test_toml_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(TOML)

    specs = load_catalog_file(path)

    assert [s.model_key for s in specs] == ["tiny-llm", "tiny-embed"]
    assert specs[0].publisher == ""
    assert specs[0].to_wire()["publisher"] == "acme"
    assert specs[0].to_wire()["quantization"] == {"name": "Q8_0", "bits": 8}
    assert specs[1].embedding_dimension == 16
    assert specs[1].path.endswith(".gguf")


def test_json_catalog_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"include_defaults": True, "models": [{"model_key": "x"}]}))
    keys = [s.model_key for s in load_catalog_file(path)]
    assert keys[-1] == "x"
    assert "qwen3-4b" in keys


def test_bad_catalogs_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        parse_catalog({"models": [{"model_key": "a"}, {"model_key": "a"}]})
    with pytest.raises(pydantic.ValidationError):
        parse_catalog({"models": [{"model_key": "a", "type": "tts"}]})


def test_emulator_serves_a_custom_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(TOML)
    extra = ModelSpec("extra", "llm", "me/extra/extra.gguf", "Extra")
    with EmulatorThread(catalog=[*load_catalog_file(path), extra]) as emu:
        wire = WireFactory(emu)
        try:
            llm = wire("llm")
            assert [m["identifier"] for m in llm.result("listLoaded")] == ["tiny-llm"]
            downloaded = wire("system").result("listDownloadedModels")
            assert [m["modelKey"] for m in downloaded] == ["tiny-llm", "tiny-embed", "extra"]
            embed = wire("embedding")
            loaded = embed.stream(
                "getOrLoad", {"identifier": "tiny-embed", "loadConfigStack": {"layers": []}}
            )[0]
            assert loaded[-1]["info"]["identifier"] == "tiny-embed"
            vector = embed.result(
                "embedString",
                {"modelSpecifier": {"type": "query", "query": {}}, "inputString": "hi"},
            )["embedding"]
            assert len(vector) == 16
        finally:
            wire.close_all()
