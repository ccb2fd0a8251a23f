from __future__ import annotations

import pytest
from lmstudio_core import LoadProgress, ModelQuery, ProtocolError
from lmstudio_core.catalog import LoadState, build_get_or_load, build_load, model_specifier

INFO = {"type": "llm", "modelKey": "m", "identifier": "m:2", "path": "p", "contextLength": 8}


def test_specifiers() -> None:
    assert model_specifier("x") == {"type": "query", "query": {"identifier": "x"}}
    assert model_specifier(ModelQuery(path="a/b", vision=True)) == {
        "type": "query",
        "query": {"path": "a/b", "vision": True},
    }
    assert model_specifier({}) == {"type": "query", "query": {}}
    raw = {"type": "instanceReference", "instanceReference": "r"}
    assert model_specifier(raw) == raw
    with pytest.raises(ValueError, match="unknown model query keys"):
        model_specifier({"name": "x"})
    with pytest.raises(ValueError, match="non-empty"):
        model_specifier(" ")


def test_load_parameters() -> None:
    param = build_load("llm", "m", identifier="mine", ttl=60, config={"context_length": 8})
    assert param == {
        "modelKey": "m",
        "identifier": "mine",
        "ttlMs": 60000,
        "loadConfigStack": {"layers": [{"layerName": "apiOverride", "config": {
            "fields": [{"key": "llm.load.contextLength", "value": 8}]}}]},
    }  # fmt: skip
    assert "ttlMs" not in build_load("llm", "m", identifier=None, ttl=None, config=None)
    assert build_get_or_load("embedding", "e", ttl=1.5, config=None)["loadTtlMs"] == 1500
    with pytest.raises(ValueError, match="ttl"):
        build_load("llm", "m", identifier=None, ttl=0, config=None)
    with pytest.raises(ValueError, match="model key"):
        build_get_or_load("llm", "", ttl=None, config=None)


def test_load_state_progress() -> None:
    state = LoadState()
    assert state.feed({"type": "resolved", "info": {"modelKey": "m"}}) == [LoadProgress(0.0, "m")]
    assert state.feed({"type": "progress", "progress": 0.5}) == [LoadProgress(0.5, "m")]
    assert state.feed({"type": "progress", "progress": 0.4}) == []  # not increasing
    assert state.feed({"type": "success", "info": INFO}) == [LoadProgress(1.0, "m")]
    assert state.done
    assert state.info is not None
    assert state.info.identifier == "m:2"


def test_already_loaded() -> None:
    state = LoadState()
    assert state.feed({"type": "alreadyLoaded", "info": INFO}) == []
    assert state.done


def test_invalid_info() -> None:
    with pytest.raises(ProtocolError, match="invalid model info"):
        LoadState().feed({"type": "loadSuccess", "info": {"type": "llm"}})
