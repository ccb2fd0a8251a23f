"""How the emulator drives a replacement engine: request fields, stats, closing, threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from emulator_wire import Wire, WireFactory, predict_params, query, text_of
from fake_engines import (
    FAKE_EMBEDDING,
    FAKE_LLM,
    FakeEmbeddingEngine,
    FakeStats,
    FakeTextEngine,
    fake_catalog,
)
from lmstudio_core.emulator import EmulatorThread

WAIT = 5.0


def _field(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def _params(text: str = "Hello there", fields: list[dict[str, Any]] | None = None) -> Any:
    return predict_params(text, model=FAKE_LLM, fields=fields)


@pytest.fixture
def text_engine() -> FakeTextEngine:
    return FakeTextEngine()


@pytest.fixture
def embedding_engine() -> FakeEmbeddingEngine:
    return FakeEmbeddingEngine()


@pytest.fixture
def lmstudio_emulator_options(
    text_engine: FakeTextEngine, embedding_engine: FakeEmbeddingEngine
) -> dict[str, Any]:
    return {
        "catalog": fake_catalog(),
        "text_engines": {FAKE_LLM: text_engine},
        "embedding_engines": {FAKE_EMBEDDING: embedding_engine},
    }


# -- sampling fields ----------------------------------------------------------------------


def test_sampling_fields_reach_the_engine(text_engine: FakeTextEngine, llm: Wire) -> None:
    fields = [
        _field("llm.prediction.maxPredictedTokens", {"checked": True, "value": 4}),
        _field("llm.prediction.temperature", 0.3),
        _field("llm.prediction.stopStrings", ["STOP"]),
        _field("llm.prediction.topKSampling", 12),
        _field("llm.prediction.topPSampling", {"checked": True, "value": 0.5}),
        _field("llm.prediction.minPSampling", {"checked": False, "value": 0.2}),
        _field("llm.prediction.repeatPenalty", 1.3),
    ]
    llm.stream("predict", _params(fields=fields))

    request = text_engine.requests[-1]
    assert request.max_tokens == 4
    assert request.temperature == 0.3
    assert request.stop_strings == ("STOP",)
    assert request.top_k == 12
    assert request.top_p == 0.5
    assert request.min_p is None
    assert request.repeat_penalty == 1.3
    assert request.raw_prompt is None


def test_temperature_is_left_to_the_engine_unless_the_client_sets_it(
    text_engine: FakeTextEngine, llm: Wire
) -> None:
    llm.stream("predict", _params())

    request = text_engine.requests[-1]
    assert request.temperature is None
    assert request.max_tokens is None
    assert request.stop_strings == ()
    # LM Studio's defaults, which are also llama.cpp's
    assert (request.top_k, request.top_p, request.min_p, request.repeat_penalty) == (
        40,
        0.95,
        0.05,
        1.1,
    )


def test_the_server_still_applies_stop_strings_and_max_tokens(
    text_engine: FakeTextEngine, llm: Wire
) -> None:
    text_engine.pieces = 10
    fields = [_field("llm.prediction.maxPredictedTokens", {"checked": True, "value": 3})]
    packets = llm.stream("predict", _params(fields=fields))[0]
    assert text_of(packets) == "word word word "
    assert packets[-1]["stats"]["stopReason"] == "maxPredictedTokensReached"

    text_engine.word = "ab"
    fields = [_field("llm.prediction.stopStrings", ["bab"])]
    packets = llm.stream("predict", _params(fields=fields))[0]
    assert text_of(packets) == "a"
    assert packets[-1]["stats"]["stopReason"] == "stopStringFound"


# -- engine stats -------------------------------------------------------------------------


def test_engine_stats_replace_the_estimates(text_engine: FakeTextEngine, llm: Wire) -> None:
    text_engine.stats = FakeStats("eosFound", 17, 9, 123.4567, 0.25)

    stats = llm.stream("predict", _params())[0][-1]["stats"]

    assert stats["stopReason"] == "eosFound"
    assert stats["promptTokensCount"] == 17
    assert stats["predictedTokensCount"] == 9
    assert stats["totalTokensCount"] == 26
    assert stats["tokensPerSecond"] == 123.457
    assert stats["timeToFirstTokenSec"] == 0.25


def test_engine_stop_reason_when_it_stops_by_itself(text_engine: FakeTextEngine, llm: Wire) -> None:
    text_engine.stats = FakeStats("maxPredictedTokensReached", None, 5, None, None)

    stats = llm.stream("predict", _params())[0][-1]["stats"]

    assert stats["stopReason"] == "maxPredictedTokensReached"
    assert stats["predictedTokensCount"] == 5
    assert stats["promptTokensCount"] == 3  # "PROMPT: Hello there": the emulator counted


def test_engine_stats_at_max_tokens(text_engine: FakeTextEngine, llm: Wire) -> None:
    text_engine.pieces = 3  # an engine that honours max_tokens ends right at the limit
    text_engine.stats = FakeStats("maxPredictedTokensReached", 11, 3, 50.0, 0.1)
    fields = [_field("llm.prediction.maxPredictedTokens", {"checked": True, "value": 3})]

    stats = llm.stream("predict", _params(fields=fields))[0][-1]["stats"]

    assert stats["stopReason"] == "maxPredictedTokensReached"
    assert (stats["promptTokensCount"], stats["predictedTokensCount"]) == (11, 3)
    assert stats["tokensPerSecond"] == 50.0


def test_no_engine_stats_keeps_the_estimates(text_engine: FakeTextEngine, llm: Wire) -> None:
    stats = llm.stream("predict", _params())[0][-1]["stats"]

    assert stats["predictedTokensCount"] == 5
    assert stats["promptTokensCount"] == 3


# -- closing the engine's iterator --------------------------------------------------------


def _first_fragment(llm: Wire) -> None:
    while llm.recv()["message"]["type"] != "fragment":
        pass


@pytest.mark.parametrize("blocking", [True, False])
def test_cancel_closes_the_engine_iterator(
    blocking: bool, emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    text_engine.blocking = blocking
    text_engine.pieces = None  # endless
    text_engine.delay = 0.01
    emu.faults.set_tokens_per_second(200)
    channel_id = llm.open("predict", _params())
    _first_fragment(llm)
    llm.channel_send(channel_id, {"type": "cancel"})

    packets, _end = llm.drain(channel_id)

    assert packets[-1]["stats"]["stopReason"] == "userStopped"
    assert text_engine.generator_closed.wait(WAIT)
    generated = text_engine.generated
    threading.Event().wait(0.1)
    assert text_engine.generated == generated


def test_disconnect_closes_the_engine_iterator(
    emu: EmulatorThread, text_engine: FakeTextEngine, wire: WireFactory
) -> None:
    text_engine.pieces = None
    text_engine.delay = 0.01
    llm = wire("llm")
    llm.open("predict", _params())
    _first_fragment(llm)
    llm.close()

    assert text_engine.generator_closed.wait(WAIT)
    generated = text_engine.generated
    threading.Event().wait(0.1)
    assert text_engine.generated == generated


@pytest.mark.parametrize(
    "fields",
    [
        [_field("llm.prediction.maxPredictedTokens", {"checked": True, "value": 2})],
        [_field("llm.prediction.stopStrings", ["word word"])],
    ],
    ids=["max-tokens", "stop-string"],
)
def test_limits_close_the_engine_iterator(
    fields: list[dict[str, Any]], text_engine: FakeTextEngine, llm: Wire
) -> None:
    text_engine.pieces = None
    text_engine.delay = 0.005

    llm.stream("predict", _params(fields=fields))

    assert text_engine.generator_closed.wait(WAIT)
    assert text_engine.generated <= 3


def test_error_closes_the_engine_iterator(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    text_engine.pieces = None
    text_engine.delay = 0.005
    emu.faults.set_tokens_per_second(200)
    emu.faults.fail_next("predict", title="Boom", after_fragments=2)

    _packets, end = llm.stream("predict", _params())

    assert end["type"] == "channelError"
    assert text_engine.generator_closed.wait(WAIT)


def test_unload_closes_the_engine_iterator(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    text_engine.pieces = None
    text_engine.delay = 0.01
    channel_id = llm.open("predict", _params())
    _first_fragment(llm)
    assert emu.unload_model(FAKE_LLM)

    packets, _end = llm.drain(channel_id)

    assert packets[-1]["stats"]["stopReason"] == "modelUnloaded"
    assert text_engine.generator_closed.wait(WAIT)


# -- blocking calls run in worker threads -------------------------------------------------


def _loop_thread(emu: EmulatorThread) -> threading.Thread:
    return emu.call(threading.current_thread)


def test_blocking_text_engine_calls_run_off_the_event_loop(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    spec = query(FAKE_LLM)
    llm.stream("predict", _params())
    history = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}
    stack: dict[str, Any] = {"layers": []}
    template = llm.result(
        "applyPromptTemplate",
        {"specifier": spec, "history": history, "predictionConfigStack": stack, "opts": {}},
    )
    tokens = llm.result("tokenize", {"specifier": spec, "inputString": "a bb ccc"})
    count = llm.result("countTokens", {"specifier": spec, "inputString": "a bb ccc"})

    assert template == {"formatted": "PROMPT: Hi"}
    assert tokens == {"tokens": [1, 2, 3]}
    assert count == {"tokenCount": 3}
    loop = _loop_thread(emu)
    assert set(text_engine.threads) >= {
        "generate",
        "apply_prompt_template",
        "count_tokens",
        "tokenize",
    }
    for name, thread in text_engine.threads.items():
        assert thread is not loop, name


def test_inline_text_engine_calls_run_on_the_event_loop(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    text_engine.blocking = False
    llm.stream("predict", _params())

    loop = _loop_thread(emu)
    assert text_engine.threads["apply_prompt_template"] is loop
    assert text_engine.threads["count_tokens"] is loop


def test_blocking_embedding_engine_calls_run_off_the_event_loop(
    emu: EmulatorThread, embedding_engine: FakeEmbeddingEngine, wire: WireFactory
) -> None:
    embedding = wire("embedding")
    spec = query(FAKE_EMBEDDING)
    vector = embedding.result("embedString", {"modelSpecifier": spec, "inputString": "a b"})
    embedding.result("tokenize", {"specifier": spec, "inputString": "a b"})
    embedding.result("countTokens", {"specifier": spec, "inputString": "a b"})

    assert vector == {"embedding": [1.0, 0.0, 0.0, 0.0]}
    loop = _loop_thread(emu)
    assert set(embedding_engine.threads) == {"embed", "tokenize", "count_tokens"}
    for name, thread in embedding_engine.threads.items():
        assert thread is not loop, name


# -- lifecycle ----------------------------------------------------------------------------


def _load_stack(context_length: int) -> dict[str, Any]:
    field = _field("llm.load.contextLength", context_length)
    return {"layers": [{"layerName": "apiOverride", "config": {"fields": [field]}}]}


def test_preloaded_models_load_their_engines_at_start(
    text_engine: FakeTextEngine, embedding_engine: FakeEmbeddingEngine, emu: EmulatorThread
) -> None:
    assert text_engine.loads == [{"context_length": 4096}]
    assert embedding_engine.loads == 1
    assert text_engine.threads["load"] is not _loop_thread(emu)


def test_load_model_loads_the_engine_before_success(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    assert emu.unload_model(FAKE_LLM)
    text_engine.load_delay = 0.2
    params = {"modelKey": FAKE_LLM, "loadConfigStack": _load_stack(2048)}

    packets, end = llm.stream("loadModel", params)

    assert end["type"] == "channelClose"
    assert text_engine.loads[-1] == {"context_length": 2048}
    assert [p["type"] for p in packets][-2:] == ["progress", "success"]
    assert packets[-2]["progress"] == 1.0
    assert packets[-1]["info"]["contextLength"] == 2048


def test_get_or_load_loads_the_engine(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    assert emu.unload_model(FAKE_LLM)
    params = {"identifier": FAKE_LLM, "loadConfigStack": _load_stack(1024)}

    packets, _end = llm.stream("getOrLoad", params)

    assert packets[-1]["type"] == "loadSuccess"
    assert text_engine.loads[-1] == {"context_length": 1024}


def test_a_failing_engine_load_fails_the_load(
    emu: EmulatorThread, text_engine: FakeTextEngine, llm: Wire
) -> None:
    assert emu.unload_model(FAKE_LLM)

    def broken(context_length: int | None = None) -> None:
        raise FileNotFoundError("no GGUF model at /nowhere")

    text_engine.load = broken  # type: ignore[method-assign]
    params = {"modelKey": FAKE_LLM, "loadConfigStack": {"layers": []}}

    _packets, end = llm.stream("loadModel", params)

    assert end["type"] == "channelError"
    assert end["error"]["title"] == 'Failed to load model "fake-llm"'
    assert end["error"]["cause"] == "no GGUF model at /nowhere"
    assert FAKE_LLM not in emu.loaded_identifiers()


def test_stop_closes_the_engines() -> None:
    text_engine, embedding_engine = FakeTextEngine(), FakeEmbeddingEngine()
    options: dict[str, Any] = {
        "catalog": fake_catalog(preload=False),
        "text_engines": {FAKE_LLM: text_engine},
        "embedding_engines": {FAKE_EMBEDDING: embedding_engine},
        "port": 0,
    }
    with EmulatorThread(**options):
        assert (text_engine.loads, embedding_engine.loads) == ([], 0)
        assert (text_engine.closed, embedding_engine.closed) == (0, 0)

    assert (text_engine.closed, embedding_engine.closed) == (1, 1)


# -- raw completions ----------------------------------------------------------------------


def test_complete_raw_text_reaches_the_engine_as_a_raw_prompt(
    text_engine: FakeTextEngine, llm: Wire
) -> None:
    params = {
        "modelSpecifier": query(FAKE_LLM),
        "rawPrompt": "1, 2, 3,",
        "predictionConfigStack": {"layers": []},
    }
    llm.stream("completeRawText", params)

    request = text_engine.requests[-1]
    assert request.raw_prompt == "1, 2, 3,"
    assert "apply_prompt_template" not in text_engine.threads


def test_complete_mode_formatting_reaches_the_engine_as_a_raw_prompt(
    text_engine: FakeTextEngine, llm: Wire
) -> None:
    template = {
        "type": "jinja",
        "jinjaPromptTemplate": {
            "template": "{% for message in messages %}{{ message['content'] }}{% endfor %}"
        },
        "stopStrings": [],
    }
    params = _params("Once upon a time")
    params["predictionConfigStack"]["layers"].append(
        {
            "layerName": "completeModeFormatting",
            "config": {"fields": [_field("llm.prediction.promptTemplate", template)]},
        }
    )
    llm.stream("predict", params)

    assert text_engine.requests[-1].raw_prompt == "Once upon a time"


# -- errors name the namespace's domain ---------------------------------------------------


def test_no_embedding_model_loaded_while_an_llm_is(emu: EmulatorThread, wire: WireFactory) -> None:
    assert emu.unload_model(FAKE_EMBEDDING)
    reply = wire("embedding").rpc(
        "embedString", {"modelSpecifier": query(FAKE_EMBEDDING), "inputString": "x"}
    )

    assert reply["type"] == "rpcError"
    error = reply["error"]
    assert error["cause"] == "No embedding models are currently loaded."
    assert error["displayData"]["loadedModelsSample"] == []
    assert error["displayData"]["totalLoadedModels"] == 0


def test_no_llm_loaded_while_an_embedding_model_is(emu: EmulatorThread, llm: Wire) -> None:
    assert emu.unload_model(FAKE_LLM)
    _packets, end = llm.stream("predict", _params())

    assert end["error"]["cause"] == "No LLMs are currently loaded."
    assert end["error"]["displayData"]["totalLoadedModels"] == 0


def test_the_cause_lists_the_domain_s_loaded_models(wire: WireFactory) -> None:
    reply = wire("embedding").rpc(
        "embedString", {"modelSpecifier": query("nope"), "inputString": "x"}
    )

    assert reply["error"]["cause"] == f"Loaded embedding models: {FAKE_EMBEDDING}"
    assert reply["error"]["displayData"]["loadedModelsSample"] == [FAKE_EMBEDDING]
