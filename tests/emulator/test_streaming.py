"""Fast streaming: long replies at an unlimited token rate, pre-encoded fragments, batching.

The prediction path encodes fragments straight to JSON text, writes them in batches and
yields to the event loop every few fragments; none of that may change what a client
receives, or how quickly a cancel or a slow token rate takes effect.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from emulator_wire import LLM_KEY, Wire, WireFactory, fragments, predict_params, query, text_of
from lmstudio_core.emulator import EmulatorThread
from lmstudio_core.emulator._engine import Tokenizer
from lmstudio_core.emulator._generation import fragment_json
from lmstudio_core.emulator._tokenizer import IncrementalTokenizer
from lmstudio_core.protocol import encode_json

LONG_REPLY_TOKENS = 3000


@pytest.mark.parametrize(
    "text", ["plain", ' "quoted" ', "back\\slash", "new\nline\ttab", "é 😀 \u2028\x00", ""]
)
@pytest.mark.parametrize(
    "reasoning_type", ["none", "reasoning", "reasoningStartTag", "reasoningEndTag", "other"]
)
def test_fragment_json_is_the_encoded_packet(text: str, reasoning_type: str) -> None:
    packet = {
        "type": "fragment",
        "fragment": {
            "content": text,
            "tokensCount": 3,
            "containsDrafted": False,
            "reasoningType": reasoning_type,
            "isStructural": False,
        },
    }
    assert fragment_json(text, 3, reasoning_type) == encode_json(packet)


@pytest.mark.parametrize("lmstudio_emulator_options", [{"reply_tokens": LONG_REPLY_TOKENS}])
def test_long_reply_arrives_whole_and_in_order(llm: Wire) -> None:
    packets, end = llm.stream("predict", predict_params("Tell me a long story"))
    again, _ = llm.stream("predict", predict_params("Tell me a long story"))

    assert end["type"] == "channelClose"
    assert [p["type"] for p in packets[:2]] == ["promptProcessingProgress"] * 2
    assert packets[-1]["type"] == "success"
    stats = packets[-1]["stats"]
    assert stats["predictedTokensCount"] == len(fragments(packets)) >= LONG_REPLY_TOKENS - 5
    assert all(f["tokensCount"] == 1 for f in fragments(packets))
    assert text_of(packets) == text_of(again)


@pytest.mark.parametrize("lmstudio_emulator_options", [{"reply_tokens": 1000}])
def test_concurrent_long_replies_on_one_socket_are_not_mixed_up(llm: Wire) -> None:
    prompts = [f"Tell me story number {i}" for i in range(8)]
    expected = {
        prompt: text_of(llm.stream("predict", predict_params(prompt))[0]) for prompt in prompts
    }
    channels = {llm.open("predict", predict_params(prompt)): prompt for prompt in prompts}
    received: dict[int, list[dict[str, Any]]] = {cid: [] for cid in channels}
    open_channels = set(channels)
    while open_channels:
        message = llm.recv()
        if message["type"] == "channelSend":
            received[message["channelId"]].append(message["message"])
        else:
            assert message["type"] == "channelClose"
            open_channels.discard(message["channelId"])
    for cid, prompt in channels.items():
        assert received[cid][-1]["type"] == "success"
        assert text_of(received[cid]) == expected[prompt]


def test_cancel_stops_a_fast_long_stream(emu: EmulatorThread, llm: Wire) -> None:
    words = 50_000
    emu.engine.script_reply(" ".join(["word"] * words))
    channel_id = llm.open("predict", predict_params("Go"))
    while llm.recv()["message"]["type"] != "fragment":
        pass
    llm.channel_send(channel_id, {"type": "cancel"})

    packets, end = llm.drain(channel_id)

    assert end["type"] == "channelClose"
    assert packets[-1]["stats"]["stopReason"] == "userStopped"
    assert len(fragments(packets)) < words - 1


def test_other_connections_are_served_during_a_fast_long_stream(
    emu: EmulatorThread, wire: WireFactory
) -> None:
    emu.engine.script_reply(" ".join(["word"] * 50_000))
    streaming, other = wire("llm"), wire("llm")
    channel_id = streaming.open("predict", predict_params("Go"))
    while streaming.recv()["message"]["type"] != "fragment":
        pass

    assert other.rpc("listLoaded")["type"] == "rpcResult"
    streaming.channel_send(channel_id, {"type": "cancel"})
    packets, _ = streaming.drain(channel_id)
    assert packets[-1]["stats"]["stopReason"] == "userStopped"


def test_a_slow_token_rate_still_sends_each_fragment_as_it_is_made(
    emu: EmulatorThread, llm: Wire
) -> None:
    # At 2 tokens/s the 40-token reply takes 20 s: the first fragment must not wait for
    # a batch to fill up.
    emu.engine.script_reply(" ".join(["word"] * 40))
    emu.faults.set_tokens_per_second(2)
    channel_id = llm.open("predict", predict_params("Go"))
    seen = []
    while len(fragments(seen)) < 2:
        seen.append(llm.recv(timeout=10)["message"])
    llm.channel_send(channel_id, {"type": "cancel"})
    packets, _ = llm.drain(channel_id)
    assert packets[-1]["stats"]["stopReason"] == "userStopped"


def test_predictions_with_stop_strings_and_limits_are_unchanged(llm: Wire) -> None:
    fields = [{"key": "llm.prediction.maxPredictedTokens", "value": {"checked": True, "value": 5}}]
    packets, _ = llm.stream("predict", predict_params("Tell me a story", fields=fields))
    assert len(fragments(packets)) == 5
    assert packets[-1]["stats"]["stopReason"] == "maxPredictedTokensReached"


def test_wide_characters_are_counted_as_the_tokenizer_counts_them(
    emu: EmulatorThread, llm: Wire
) -> None:
    reply = "東京の天気は晴れ 😀, 24 °C."
    emu.engine.script_reply(reply)

    packets = llm.stream("predict", predict_params("Weather in Tokyo?"))[0]

    assert text_of(packets) == reply
    counted = llm.result("countTokens", {"specifier": query(LLM_KEY), "inputString": reply})
    predicted = packets[-1]["stats"]["predictedTokensCount"]
    assert predicted == counted["tokenCount"] == sum(f["tokensCount"] for f in fragments(packets))
    # A character of two tokens comes in one fragment that says so, as LM Studio sends it.
    assert {f["content"]: f["tokensCount"] for f in fragments(packets)}["東"] == 2


# -- the incremental token count ------------------------------------------------------


def test_incremental_count_matches_the_engine_tokenizer_on_growing_texts() -> None:
    rng = random.Random(7)
    alphabet = ["ab", "Zq", " ", "  ", "9", "123456", ".", ",!", "\n", "\t", "_", "é", "\u00a0"]
    alphabet += ["東京", "😀", "\u3000", "Привет"]
    plain, incremental = Tokenizer(), IncrementalTokenizer()
    for _ in range(300):
        text = ""
        for _ in range(15):
            if text and rng.random() < 0.2:
                text = text[: rng.randrange(len(text))]  # not an extension: starts over
            else:
                text += "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
            assert incremental.count(text) == plain.count(text), json.dumps(text)


def test_incremental_count_of_sentences_and_unrelated_texts() -> None:
    plain, incremental = Tokenizer(), IncrementalTokenizer()
    sentences = ["Sure.", "The cat sleeps.", "Moreover, 12345 dogs bark!", "Done  ", "x"]
    sentences.append("猫が寝る。")
    text = ""
    for sentence in sentences * 20:
        text = f"{text} {sentence}" if text else sentence
        assert incremental.count(text) == plain.count(text)
        assert incremental.count("unrelated words here") == plain.count("unrelated words here")
    assert incremental.pieces(text) == plain.pieces(text)
    assert incremental.encode(text) == plain.encode(text)


def test_default_engine_uses_the_incremental_tokenizer(emu: EmulatorThread) -> None:
    assert isinstance(emu.engine.tokenizer, IncrementalTokenizer)
