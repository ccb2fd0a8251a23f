"""How the emulator drives llama.cpp: limits, stats, cancel, raw completions, the CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import lmstudio
import pytest
from emulator_wire import Wire, WireFactory, predict_params, query, text_of
from lmstudio_core.emulator import EmulatorThread
from lmstudio_core.emulator.real import SMOLLM2_KEY, RealEngines

pytestmark = pytest.mark.usefixtures("real")  # skips when the real engines are missing


def _field(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def _max_tokens(n: int) -> dict[str, Any]:
    return _field("llm.prediction.maxPredictedTokens", {"checked": True, "value": n})


@pytest.fixture
def llm(real_emu: EmulatorThread) -> Iterator[Wire]:
    factory = WireFactory(real_emu)
    wire = factory("llm")
    load = {"identifier": SMOLLM2_KEY, "loadConfigStack": {"layers": []}}
    assert wire.stream("getOrLoad", load)[1]["type"] == "channelClose"
    yield wire
    factory.close_all()


def _predicted_total(real: RealEngines) -> float:
    return real.llm.metrics().get("tokens_predicted_total", 0.0)


def test_stats_come_from_llama_cpp(real: RealEngines, llm: Wire) -> None:
    params = predict_params("Write a poem about the sea.", model=SMOLLM2_KEY)
    params["predictionConfigStack"]["layers"][0]["config"]["fields"] = [_max_tokens(6)]
    before = _predicted_total(real)

    packets = llm.stream("predict", params)[0]

    stats = packets[-1]["stats"]
    engine = real.llm.last_stats
    assert engine is not None
    assert stats["stopReason"] == "maxPredictedTokensReached"
    assert stats["predictedTokensCount"] == engine.predicted_tokens == 6
    assert stats["promptTokensCount"] == engine.prompt_tokens
    assert stats["tokensPerSecond"] == engine.to_wire()["tokensPerSecond"]
    assert _predicted_total(real) - before == 6  # the limit reached llama.cpp


def test_stop_strings_reach_llama_cpp(real: RealEngines, llm: Wire) -> None:
    params = {
        "modelSpecifier": query(SMOLLM2_KEY),
        "rawPrompt": "1, 2, 3, 4,",
        "predictionConfigStack": {
            "layers": [
                {
                    "layerName": "apiOverride",
                    "config": {
                        "fields": [_max_tokens(16), _field("llm.prediction.stopStrings", [" 7"])]
                    },
                }
            ]
        },
    }

    packets = llm.stream("completeRawText", params)[0]

    assert text_of(packets) == " 5, 6,"  # completed verbatim, up to the stop string
    engine = real.llm.last_stats
    assert engine is not None
    assert engine.predicted_tokens < 16  # llama.cpp stopped there itself


def test_cancel_stops_llama_cpp(real: RealEngines, llm: Wire) -> None:
    params = predict_params("Tell me a very long story about a dragon.", model=SMOLLM2_KEY)
    params["predictionConfigStack"]["layers"][0]["config"]["fields"] = [_max_tokens(200)]
    before = _predicted_total(real)
    channel_id = llm.open("predict", params)
    while llm.recv(timeout=30)["message"]["type"] != "fragment":
        pass
    llm.channel_send(channel_id, {"type": "cancel"})

    packets, _end = llm.drain(channel_id)

    assert packets[-1]["stats"]["stopReason"] == "userStopped"
    assert real.llm.wait_idle()
    assert _predicted_total(real) - before < 100


def test_python_complete_is_completed_verbatim(real_emu: EmulatorThread) -> None:
    with lmstudio.Client(real_emu.api_host) as client:
        result = client.llm.model(SMOLLM2_KEY).complete(
            "1, 2, 3, 4,", config={"maxTokens": 4, "stopStrings": [" 7"]}
        )

    assert result.content.startswith(" 5,")


def test_cli_real_only_serves_the_real_model() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lmstudio_core.emulator", "--port", "0", "--real-only"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"LM Studio emulator listening on ws://(127\.0\.0\.1:\d+)\n", line)
        assert match, line
        with lmstudio.Client(match.group(1)) as client:
            loaded = [m.identifier for m in client.llm.list_loaded()]
            result = client.llm.model(SMOLLM2_KEY).respond("Hi", config={"maxTokens": 4})
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert loaded == [SMOLLM2_KEY]
    assert result.content
    assert result.stats.predicted_tokens_count is not None
    assert result.stats.predicted_tokens_count <= 4
