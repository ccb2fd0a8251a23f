"""Model listing, lookup, loading, unloading and tokenization over raw frames."""

from __future__ import annotations

import time
from typing import Any

import pytest
from emulator_wire import EMBEDDING_KEY, LLM_KEY, REASONING_KEY, Wire, WireFactory, query
from lmstudio_core.emulator import EmulatorThread

HEAD_INSTANCE_KEYS = {
    "type",
    "modelKey",
    "format",
    "displayName",
    "publisher",
    "path",
    "sizeBytes",
    "indexedModelIdentifier",
    "deviceIdentifier",
    "maxContextLength",
    "identifier",
    "instanceReference",
    "ttlMs",
    "lastUsedTime",
    "contextLength",
}


def _stack(fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"layers": [{"layerName": "apiOverride", "config": {"fields": fields or []}}]}


def _load(wire: Wire, key: str, **extra: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return wire.stream("loadModel", {"modelKey": key, "loadConfigStack": _stack(), **extra})


def test_list_loaded_shows_preloaded_instances_with_head_fields(wire: WireFactory) -> None:
    llms = wire("llm").result("listLoaded")
    embeddings = wire("embedding").result("listLoaded")

    assert [m["identifier"] for m in llms] == [LLM_KEY]
    assert [m["identifier"] for m in embeddings] == [EMBEDDING_KEY]
    info = llms[0]
    assert info.keys() >= HEAD_INSTANCE_KEYS
    assert info["deviceIdentifier"] is None
    assert info["vision"] is False
    assert info["trainedForToolUse"] is True
    assert info["quantization"] == {"name": "Q4_K_M", "bits": 4}
    assert info["contextLength"] == 4096
    assert "vision" not in embeddings[0]


def test_get_model_info_and_context_length_agree_with_load_config(llm: Wire) -> None:
    info = llm.result("getModelInfo", {"specifier": query(LLM_KEY), "throwIfNotFound": True})
    config = llm.result("getLoadConfig", {"specifier": query(LLM_KEY)})

    values = {f["key"]: f["value"] for f in config["fields"]}
    assert info["identifier"] == LLM_KEY
    assert values["llm.load.contextLength"] == info["contextLength"] == 4096
    assert values["load.gpuSplitConfig"]["strategy"] == "evenly"
    assert values["llm.load.seed"] == {"checked": False, "value": -1}


def test_get_model_info_miss(llm: Wire) -> None:
    soft = llm.rpc("getModelInfo", {"specifier": query("nope"), "throwIfNotFound": False})
    hard = llm.rpc("getModelInfo", {"specifier": query("nope"), "throwIfNotFound": True})

    assert soft["type"] == "rpcResult"
    assert "result" not in soft
    assert hard["type"] == "rpcError"
    display = hard["error"]["displayData"]
    assert display == {
        "code": "generic.noModelMatchingQuery",
        "query": {"identifier": "nope"},
        "loadedModelsSample": [LLM_KEY],
        "totalLoadedModels": 1,
    }
    assert hard["error"]["rootTitle"] == hard["error"]["title"]


def test_instance_reference_lookup_and_staleness(llm: Wire) -> None:
    info = llm.result("getModelInfo", {"specifier": query(LLM_KEY), "throwIfNotFound": True})
    by_ref = {"type": "instanceReference", "instanceReference": info["instanceReference"]}
    assert llm.result("getModelInfo", {"specifier": by_ref, "throwIfNotFound": True}) == info

    llm.result("unloadModel", {"identifier": LLM_KEY})
    stale = llm.rpc("getModelInfo", {"specifier": by_ref, "throwIfNotFound": True})
    assert stale["error"]["displayData"]["code"] == "generic.specificModelUnloaded"


def test_load_model_sequence_and_duplicate_identifiers(llm: Wire) -> None:
    packets, end = _load(llm, LLM_KEY, ttlMs=600000)

    assert end == {"type": "channelClose", "channelId": end["channelId"]}
    assert packets[0]["type"] == "resolved"
    assert packets[0]["info"]["modelKey"] == LLM_KEY
    progress = [p["progress"] for p in packets if p["type"] == "progress"]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    success = packets[-1]
    assert success["type"] == "success"
    assert success["info"]["identifier"] == f"{LLM_KEY}:2"
    assert success["info"]["ttlMs"] == 600000
    third = _load(llm, LLM_KEY)[0][-1]["info"]["identifier"]
    assert third == f"{LLM_KEY}:3"


def test_load_model_with_config_and_identifier(llm: Wire) -> None:
    fields = [{"key": "llm.load.contextLength", "value": 8192}]
    params = {"modelKey": REASONING_KEY, "identifier": "thinker", "loadConfigStack": _stack(fields)}
    success = llm.stream("loadModel", params)[0][-1]

    assert success["info"]["identifier"] == "thinker"
    assert success["info"]["contextLength"] == 8192
    config = llm.result("getLoadConfig", {"specifier": query("thinker")})
    assert {"key": "llm.load.contextLength", "value": 8192} in config["fields"]


def test_load_model_errors(wire: WireFactory) -> None:
    llm = wire("llm")
    taken = _load(llm, LLM_KEY, identifier=LLM_KEY)
    missing = _load(llm, "not-downloaded-model")
    wrong_domain = _load(llm, EMBEDDING_KEY)

    assert taken[0] == []
    assert taken[1]["type"] == "channelError"
    assert "already exists" in taken[1]["error"]["title"]
    display = missing[1]["error"]["displayData"]
    assert display["code"] == "generic.pathNotFound"
    assert display["path"] == "not-downloaded-model"
    assert LLM_KEY in display["availablePathsSample"]
    assert wrong_domain[1]["error"]["displayData"] == {
        "code": "generic.domainMismatch",
        "path": EMBEDDING_KEY,
        "actualDomain": "embedding",
        "expectedDomain": "llm",
    }


def test_get_or_load_returns_loaded_instance_by_key_or_path(llm: Wire) -> None:
    for identifier in (LLM_KEY, "lmstudio-community/Qwen2.5-0.5B-Instruct-GGUF"):
        packets, end = llm.stream(
            "getOrLoad", {"identifier": identifier, "loadConfigStack": _stack()}
        )
        assert [p["type"] for p in packets] == ["alreadyLoaded"]
        assert packets[0]["info"]["identifier"] == LLM_KEY
        assert end["type"] == "channelClose"


def test_get_or_load_jit_loads_and_evicts_other_jit_models(llm: Wire) -> None:
    first = llm.stream(
        "getOrLoad",
        {"identifier": REASONING_KEY, "loadTtlMs": 300000, "loadConfigStack": _stack()},
    )[0]
    second = llm.stream(
        "getOrLoad", {"identifier": "qwen2-vl-2b-instruct", "loadConfigStack": _stack()}
    )[0]

    assert [p["type"] for p in first][:2] == ["startLoading", "loadProgress"]
    assert first[0]["identifier"] == REASONING_KEY
    assert first[-1]["type"] == "loadSuccess"
    assert first[-1]["info"]["ttlMs"] == 300000
    assert second[0] == {"type": "unloadingOtherJITModel", "info": first[-1]["info"]}
    loaded = [m["identifier"] for m in llm.result("listLoaded")]
    assert loaded == [LLM_KEY, "qwen2-vl-2b-instruct"]


def test_unload_model(llm: Wire) -> None:
    ok = llm.rpc("unloadModel", {"identifier": LLM_KEY})
    again = llm.rpc("unloadModel", {"identifier": LLM_KEY})

    assert ok == {"type": "rpcResult", "callId": ok["callId"]}
    assert again["error"]["displayData"]["code"] == "generic.noModelMatchingQuery"
    assert llm.result("listLoaded") == []


def test_tokenize_and_count_tokens(wire: WireFactory) -> None:
    llm, embedding = wire("llm"), wire("embedding")
    params = {"specifier": query(LLM_KEY), "inputString": "Hello world, how are you?"}

    tokens = llm.result("tokenize", params)["tokens"]
    count = llm.result("countTokens", params)["tokenCount"]

    assert count == len(tokens) > 2
    assert all(isinstance(t, int) for t in tokens)
    assert llm.result("tokenize", params) == {"tokens": tokens}
    emb_params = {"specifier": query(EMBEDDING_KEY), "inputString": "Hello"}
    assert embedding.result("countTokens", emb_params)["tokenCount"] >= 1
    wrong = llm.rpc("tokenize", {"specifier": query(EMBEDDING_KEY), "inputString": "x"})
    assert wrong["error"]["displayData"]["code"] == "generic.noModelMatchingQuery"


def test_head_extras(llm: Wire) -> None:
    base = llm.result("getBasePredictionConfig", {"specifier": query(LLM_KEY)})
    state = llm.result(
        "getInstanceProcessingState", {"specifier": query(LLM_KEY), "throwIfNotFound": True}
    )

    keys = {f["key"] for f in base["fields"]}
    assert "llm.prediction.temperature" in keys
    assert state == {"status": "idle", "queued": 0}


def _wait(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_instances_loaded_by_a_client_go_away_with_it(
    emu: EmulatorThread, wire: WireFactory
) -> None:
    llm = wire("llm", client="owner", passkey="p")
    system = wire("system", client="owner", passkey="p")
    _load(llm, REASONING_KEY)
    emu.load_model("qwen2-vl-2b-instruct")  # server-side load: not owned by anyone
    assert REASONING_KEY in emu.loaded_identifiers()

    llm.close()
    time.sleep(0.1)
    assert REASONING_KEY in emu.loaded_identifiers()  # the client still has a connection
    system.close()

    assert _wait(lambda: REASONING_KEY not in emu.loaded_identifiers())
    assert set(emu.loaded_identifiers()) == {LLM_KEY, "qwen2-vl-2b-instruct", EMBEDDING_KEY}


def test_idle_ttl_unloads(emu: EmulatorThread, llm: Wire) -> None:
    _load(llm, REASONING_KEY, ttlMs=150)
    assert REASONING_KEY in emu.loaded_identifiers()

    assert _wait(lambda: REASONING_KEY not in emu.loaded_identifiers(), timeout=3)
    assert LLM_KEY in emu.loaded_identifiers()


@pytest.mark.parametrize("lmstudio_emulator_options", [{"load_seconds": 2.0}])
def test_cancel_a_load(emu: EmulatorThread, llm: Wire) -> None:
    channel_id = llm.open("loadModel", {"modelKey": REASONING_KEY, "loadConfigStack": _stack()})
    assert llm.recv()["message"]["type"] == "resolved"
    llm.channel_send(channel_id, {"type": "cancel"})

    packets, end = llm.drain(channel_id)

    assert end["type"] == "channelError"
    assert all(p["type"] == "progress" for p in packets)
    assert REASONING_KEY not in emu.loaded_identifiers()
    assert emu.record.cancels[0].endpoint == "loadModel"


def test_count_tokens_is_the_length_of_tokenize_for_any_script(llm: Wire) -> None:
    text = "Die Bibliothek öffnet um 9:30 — 图书馆九点开门 😀 {'ok': [1, 2]}"
    params = {"specifier": query(LLM_KEY), "inputString": text}

    tokens = llm.result("tokenize", params)["tokens"]
    count = llm.result("countTokens", params)["tokenCount"]
    english = {"specifier": query(LLM_KEY), "inputString": "The library opens at nine"}

    assert count == len(tokens)
    assert llm.result("tokenize", params)["tokens"] == tokens  # stable ids
    # Eight CJK characters and an emoji cost two tokens each; English words one.
    assert count > len(text.split()) * 2
    assert llm.result("countTokens", english)["tokenCount"] == 5
