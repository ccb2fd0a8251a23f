"""The predict channel over raw frames: packets, stop reasons, tools, reasoning, images."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from emulator_wire import (
    LLM_KEY,
    REASONING_KEY,
    VISION_KEY,
    Wire,
    WireFactory,
    fragments,
    predict_params,
    query,
    text_of,
)
from lmstudio_core.emulator import EmulatorThread, ScriptedToolCall, ScriptedTurn

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
ADD_TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two numbers",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


def _field(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def test_chat_prediction_packet_sequence(llm: Wire) -> None:
    packets, end = llm.stream("predict", predict_params("Say hello."))

    types = [p["type"] for p in packets]
    assert types[:2] == ["promptProcessingProgress", "promptProcessingProgress"]
    assert set(types[2:-1]) == {"fragment"}
    assert types[-1] == "success"
    assert end["type"] == "channelClose"
    assert packets[0]["progress"] == 0
    assert packets[1]["progress"] == 1
    details = packets[1]["details"]
    assert details["processedPromptTokenCount"] == details["totalPromptTokenCount"] > 0
    for fragment in fragments(packets):
        assert fragment["reasoningType"] == "none"
        assert fragment["isStructural"] is False
        assert fragment["containsDrafted"] is False
        assert fragment["tokensCount"] == 1
    success = packets[-1]
    stats = success["stats"]
    assert stats["stopReason"] == "eosFound"
    assert stats["predictedTokensCount"] == len(fragments(packets))
    assert stats["totalTokensCount"] == stats["promptTokensCount"] + stats["predictedTokensCount"]
    assert stats["promptTokensCount"] == details["totalPromptTokenCount"]
    assert {"timeToFirstTokenSec", "totalTimeSec", "numGpuLayers"} <= stats.keys()
    assert success["modelInfo"]["identifier"] == LLM_KEY
    load_keys = {f["key"] for f in success["loadModelConfig"]["fields"]}
    assert "llm.load.contextLength" in load_keys
    config = {f["key"]: f["value"] for f in success["predictionConfig"]["fields"]}
    assert config["llm.prediction.temperature"] == 0.8


def test_prediction_is_deterministic(llm: Wire) -> None:
    first = text_of(llm.stream("predict", predict_params("Tell me about otters"))[0])
    second = text_of(llm.stream("predict", predict_params("Tell me about otters"))[0])
    assert first == second
    assert first


def test_config_stack_collapses_in_order_with_checkbox_styles(
    emu: EmulatorThread, llm: Wire
) -> None:
    params = predict_params("Hi")
    params["predictionConfigStack"]["layers"] = [
        {
            "layerName": "apiOverride",
            "config": {"fields": [_field("llm.prediction.temperature", 0.1)]},
        },
        {
            "layerName": "conversationSpecific",
            "config": {
                "fields": [
                    _field("llm.prediction.temperature", 0.3),
                    _field("llm.prediction.topPSampling", {"checked": True, "value": False}),
                    _field("llm.prediction.minPSampling", 0.2),
                ]
            },
        },
    ]
    success = llm.stream("predict", params)[0][-1]

    config = {f["key"]: f["value"] for f in success["predictionConfig"]["fields"]}
    assert config["llm.prediction.temperature"] == 0.3
    assert config["llm.prediction.topPSampling"] == {"checked": False, "value": 0.95}
    assert config["llm.prediction.minPSampling"] == {"checked": True, "value": 0.2}
    recorded = emu.record.predictions[-1]
    assert recorded.config["llm.prediction.temperature"] == 0.3
    assert recorded.history[0]["content"][0]["text"] == "Hi"


def test_cancel_ends_with_user_stopped(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.set_tokens_per_second(50)
    channel_id = llm.open("predict", predict_params("Write a long story"))
    while llm.recv()["message"]["type"] != "fragment":
        pass
    llm.channel_send(channel_id, {"type": "cancel"})

    packets, end = llm.drain(channel_id)

    assert packets[-1]["type"] == "success"
    assert packets[-1]["stats"]["stopReason"] == "userStopped"
    assert end["type"] == "channelClose"
    cancel = emu.record.cancels[0]
    assert (cancel.namespace, cancel.endpoint, cancel.channel_id) == ("llm", "predict", channel_id)
    assert cancel.client_identifier == "test-client"


def test_cancel_after_completion_warns_channel_unknown(llm: Wire) -> None:
    channel_id = llm.open("predict", predict_params("Hi"))
    llm.drain(channel_id)
    llm.channel_send(channel_id, {"type": "cancel"})

    warning = llm.recv()
    assert warning["type"] == "communicationWarning"
    assert warning["kind"] == "channelUnknown"


def test_stop_string_is_not_emitted(emu: EmulatorThread, llm: Wire) -> None:
    emu.engine.script_reply("The answer is 42. Done here.")
    fields = [_field("llm.prediction.stopStrings", ["Done"])]

    packets = llm.stream("predict", predict_params("Question?", fields=fields))[0]

    assert text_of(packets) == "The answer is 42. "
    stats = packets[-1]["stats"]
    assert stats["stopReason"] == "stopStringFound"
    assert stats["stopString"] == "Done"


def test_max_tokens(llm: Wire) -> None:
    fields = [_field("llm.prediction.maxPredictedTokens", {"checked": True, "value": 3})]
    packets = llm.stream("predict", predict_params("Tell me a story", fields=fields))[0]

    assert len(fragments(packets)) == 3
    assert packets[-1]["stats"]["stopReason"] == "maxPredictedTokensReached"
    assert packets[-1]["stats"]["predictedTokensCount"] == 3


def test_unchecked_max_tokens_does_not_limit(llm: Wire) -> None:
    fields = [_field("llm.prediction.maxPredictedTokens", {"checked": False, "value": 2})]
    packets = llm.stream("predict", predict_params("Tell me a story", fields=fields))[0]
    assert packets[-1]["stats"]["stopReason"] == "eosFound"


def test_structured_json_output_validates(llm: Wire) -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "year": {"type": "integer", "minimum": 1900},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["title", "year", "tags"],
        "additionalProperties": False,
    }
    fields = [_field("llm.prediction.structured", {"type": "json", "jsonSchema": schema})]

    packets = llm.stream("predict", predict_params("A book please", fields=fields))[0]

    jsonschema.validate(json.loads(text_of(packets)), schema)
    assert len(fragments(packets)) > 1


def test_gbnf_grammar_is_followed(llm: Wire) -> None:
    grammar = 'root ::= "yes" | "no"'
    fields = [_field("llm.prediction.structured", {"type": "gbnf", "gbnfGrammar": grammar})]
    packets = llm.stream("predict", predict_params("Well?", fields=fields))[0]
    assert text_of(packets) in ("yes", "no")


def test_tool_call_packets(llm: Wire) -> None:
    fields = [_field("llm.prediction.tools", {"type": "toolArray", "tools": [ADD_TOOL]})]
    packets = llm.stream("predict", predict_params("What is 12 plus 30?", fields=fields))[0]

    types = [p["type"] for p in packets if not p["type"].startswith("prompt")]
    start = types.index("toolCallGenerationStart")
    assert types[start + 1] == "toolCallGenerationNameReceived"
    end = types.index("toolCallGenerationEnd")
    assert set(types[start + 2 : end]) == {"toolCallGenerationArgumentFragmentGenerated"}
    assert types[-1] == "success"
    start_packet = packets[[p["type"] for p in packets].index("toolCallGenerationStart")]
    end_packet = packets[[p["type"] for p in packets].index("toolCallGenerationEnd")]
    request = end_packet["toolCallRequest"]
    assert request == {
        "type": "function",
        "id": start_packet["toolCallId"],
        "name": "add",
        "arguments": {"a": 12, "b": 30},
    }
    args = "".join(
        p["content"] for p in packets if p["type"] == "toolCallGenerationArgumentFragmentGenerated"
    )
    assert json.loads(args) == {"a": 12, "b": 30}
    assert packets[-1]["stats"]["stopReason"] == "toolCalls"


def test_scripted_tool_call_and_result_round(emu: EmulatorThread, llm: Wire) -> None:
    emu.engine.script(
        None, ScriptedTurn(tool_calls=[ScriptedToolCall("add", {"a": 1, "b": 2}, "c1")])
    )
    fields = [_field("llm.prediction.tools", {"type": "toolArray", "tools": [ADD_TOOL]})]
    first = llm.stream("predict", predict_params("Add please", fields=fields))[0]
    request = next(p for p in first if p["type"] == "toolCallGenerationEnd")["toolCallRequest"]
    assert request["id"] == "c1"

    history = [
        {"role": "user", "content": [{"type": "text", "text": "Add please"}]},
        {"role": "assistant", "content": [{"type": "toolCallRequest", "toolCallRequest": request}]},
        {
            "role": "tool",
            "content": [{"type": "toolCallResult", "content": "3", "toolCallId": "c1"}],
        },
    ]
    second = llm.stream("predict", predict_params(messages=history, fields=fields))[0]

    assert "3" in text_of(second)
    assert second[-1]["stats"]["stopReason"] == "eosFound"


def test_reasoning_fragments_are_classified(emu: EmulatorThread, llm: Wire) -> None:
    emu.load_model(REASONING_KEY)
    packets = llm.stream("predict", predict_params("Why is the sky blue?", model=REASONING_KEY))[0]

    kinds = [f["reasoningType"] for f in fragments(packets)]
    assert kinds[0] == "reasoningStartTag"
    assert fragments(packets)[0]["content"] == "<think>"
    end = kinds.index("reasoningEndTag")
    assert set(kinds[1:end]) == {"reasoning"}
    assert set(kinds[end + 1 :]) == {"none"}
    assert all(f["isStructural"] is False for f in fragments(packets))


def test_reasoning_parsing_disabled(emu: EmulatorThread, llm: Wire) -> None:
    emu.load_model(REASONING_KEY)
    parsing = {"enabled": False, "startString": "<think>", "endString": "</think>"}
    fields = [_field("llm.prediction.reasoning.parsing", parsing)]
    packets = llm.stream("predict", predict_params("Why?", model=REASONING_KEY, fields=fields))[0]
    assert {f["reasoningType"] for f in fragments(packets)} == {"none"}
    assert text_of(packets).startswith("<think>")


def _image_history(wire: WireFactory) -> list[dict[str, Any]]:
    files = wire("files")
    upload = files.result(
        "uploadFileBase64", {"name": "dot.png", "contentBase64": base64.b64encode(PNG).decode()}
    )
    assert upload["fileType"] == "image"
    part = {"type": "file", "name": "dot.png", **upload}
    return [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]}]


def test_images_need_a_vision_model(emu: EmulatorThread, wire: WireFactory) -> None:
    emu.load_model(VISION_KEY)
    llm = wire("llm")
    history = _image_history(wire)

    refused = llm.stream("predict", predict_params(model=LLM_KEY, messages=history))
    accepted = llm.stream("predict", predict_params(model=VISION_KEY, messages=history))

    assert refused[0] == []
    assert refused[1]["type"] == "channelError"
    assert refused[1]["error"]["title"] == (
        "Model does not support images. Please use a model that does."
    )
    assert accepted[0][-1]["type"] == "success"


def test_prompt_longer_than_context_fails(emu: EmulatorThread, llm: Wire) -> None:
    emu.load_model(REASONING_KEY, identifier="tiny", context_length=32)
    packets, end = llm.stream("predict", predict_params("word " * 200, model="tiny"))

    assert packets == []
    assert end["type"] == "channelError"
    assert "context length of only 32 tokens" in end["error"]["title"]


def test_stop_at_limit_reports_context_length_reached(emu: EmulatorThread, llm: Wire) -> None:
    emu.load_model(LLM_KEY, identifier="small", context_length=40)
    emu.engine.script_reply("word " * 100)
    fields = [_field("llm.prediction.contextOverflowPolicy", "stopAtLimit")]

    packets = llm.stream("predict", predict_params("Hi", model="small", fields=fields))[0]

    stats = packets[-1]["stats"]
    assert stats["stopReason"] == "contextLengthReached"
    assert stats["totalTokensCount"] == 40


def test_complete_mode_formatting_renders_raw_prompt(emu: EmulatorThread, llm: Wire) -> None:
    template: dict[str, Any] = {
        "type": "jinja",
        "jinjaPromptTemplate": {
            "bosToken": "",
            "eosToken": "",
            "template": "{% for message in messages %}{{ message['content'] }}{% endfor %}",
        },
        "stopStrings": [],
    }
    params = predict_params("Once upon a time")
    params["predictionConfigStack"]["layers"].append(
        {
            "layerName": "completeModeFormatting",
            "config": {"fields": [_field("llm.prediction.promptTemplate", template)]},
        }
    )
    success = llm.stream("predict", params)[0][-1]

    assert emu.record.predictions[-1].prompt == "Once upon a time"
    config = {f["key"]: f["value"] for f in success["predictionConfig"]["fields"]}
    assert config["llm.prediction.promptTemplate"]["jinjaPromptTemplate"] == {
        "template": template["jinjaPromptTemplate"]["template"]
    }


def test_complete_raw_text(emu: EmulatorThread, llm: Wire) -> None:
    params = {
        "modelSpecifier": query(LLM_KEY),
        "rawPrompt": "1, 2, 3,",
        "predictionConfigStack": {"layers": []},
    }
    packets, _end = llm.stream("completeRawText", params)

    assert packets[-1]["type"] == "success"
    assert text_of(packets)
    assert emu.record.predictions[-1].prompt == "1, 2, 3,"
    assert emu.record.predictions[-1].endpoint == "completeRawText"


def test_apply_prompt_template(llm: Wire) -> None:
    params = {
        "specifier": query(LLM_KEY),
        "history": {
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            ]
        },
        "predictionConfigStack": {"layers": []},
        "opts": {},
    }
    formatted = llm.result("applyPromptTemplate", params)["formatted"]
    assert formatted == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_prediction_on_unknown_model(llm: Wire) -> None:
    packets, end = llm.stream("predict", predict_params(model="nope"))
    assert packets == []
    assert end["error"]["displayData"]["code"] == "generic.noModelMatchingQuery"


def test_scripted_error_becomes_channel_error(emu: EmulatorThread, llm: Wire) -> None:
    from lmstudio_core.emulator import ScriptedError

    emu.engine.script(None, ScriptedTurn(error=ScriptedError("Boom", cause="scripted")))
    _packets, end = llm.stream("predict", predict_params())
    assert end["type"] == "channelError"
    assert end["error"]["title"] == "Boom"
    assert end["error"]["cause"] == "scripted"


def test_unknown_preset_is_reported(llm: Wire) -> None:
    params = {**predict_params(), "fuzzyPresetIdentifier": "no-such-preset"}
    end = llm.stream("predict", params)[1]
    assert end["error"]["displayData"]["code"] == "generic.presetNotFound"


@pytest.mark.parametrize(
    "lmstudio_emulator_options",
    [{"presets": {"@local:terse": ("Terse", [_field("llm.prediction.temperature", 0.05)])}}],
)
def test_presets_sit_below_client_layers(emu: EmulatorThread, llm: Wire) -> None:
    params = {**predict_params(), "fuzzyPresetIdentifier": "terse"}
    llm.stream("predict", params)
    assert emu.record.predictions[-1].config["llm.prediction.temperature"] == 0.05


def test_unloading_mid_prediction_stops_with_model_unloaded(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.set_tokens_per_second(50)
    channel_id = llm.open("predict", predict_params("Tell me a story"))
    while llm.recv()["message"]["type"] != "fragment":
        pass
    assert emu.unload_model(LLM_KEY)

    packets, end = llm.drain(channel_id)

    assert packets[-1]["stats"]["stopReason"] == "modelUnloaded"
    assert end["type"] == "channelClose"
