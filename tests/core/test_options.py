from __future__ import annotations

import pytest
from lmstudio_core.options import (
    config_from_fields,
    load_config_fields,
    prediction_config_fields,
)


def as_dict(fields: list[dict[str, object]]) -> dict[str, object]:
    return {field["key"]: field["value"] for field in fields}  # type: ignore[misc]


def test_prediction_options_map_to_kv_keys() -> None:
    fields = as_dict(
        prediction_config_fields(
            {
                "temperature": 0.3,
                "max_tokens": 50,
                "stop": "END",
                "top_p": 0.9,
                "top_k": 40,
                "min_p": False,
                "repeat_penalty": 1.2,
                "seed": 7,
                "context_overflow_policy": "rolling_window",
                "reasoning_parsing": ("<t>", "</t>"),
                "enable_thinking": False,
                "draft_model": "small",
            }
        )
    )
    p = "llm.prediction."
    assert fields[p + "temperature"] == 0.3
    assert fields[p + "maxPredictedTokens"] == {"checked": True, "value": 50}
    assert fields[p + "stopStrings"] == ["END"]
    assert fields[p + "topPSampling"] == {"checked": True, "value": 0.9}
    assert fields[p + "topKSampling"] == 40
    assert fields[p + "minPSampling"] == {"checked": False, "value": 0.05}
    assert fields[p + "seed"] == {"checked": True, "value": 7}
    assert fields[p + "contextOverflowPolicy"] == "rollingWindow"
    assert fields[p + "reasoning.parsing"] == {
        "enabled": True,
        "startString": "<t>",
        "endString": "</t>",
    }
    assert fields[p + "reasoning.enableThinking"] is False
    assert fields[p + "speculativeDecoding.draftModel"] == "small"


def test_none_means_unset() -> None:
    assert prediction_config_fields({"temperature": None, "max_tokens": None}) == []


def test_raw_passthrough_is_overridden_by_explicit_options() -> None:
    fields = prediction_config_fields(
        {"temperature": 0.5, "raw": {"llm.prediction.temperature": 1.0, "llm.prediction.x": 1}}
    )
    assert as_dict(fields) == {"llm.prediction.temperature": 0.5, "llm.prediction.x": 1}


def test_raw_keys_must_be_full_keys() -> None:
    with pytest.raises(ValueError, match="full LM Studio key"):
        prediction_config_fields({"raw": {"temperature": 1}})


def test_unknown_option_suggests_the_closest() -> None:
    with pytest.raises(TypeError, match=r"'temprature' \(did you mean 'temperature'\?\)"):
        prediction_config_fields({"temprature": 1})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"top_p": 1.5}, "top_p"),
        ({"temperature": -1}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"enable_thinking": 1}, "True or False"),
        ({"context_overflow_policy": "drop"}, "context_overflow_policy"),
    ],
)
def test_invalid_values_raise_value_error(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prediction_config_fields(options)


def test_load_options_per_domain() -> None:
    llm = as_dict(load_config_fields("llm", {"context_length": 8192, "gpu_offload": 0.5}))
    assert llm == {
        "llm.load.contextLength": 8192,
        "llm.load.llama.acceleration.offloadRatio": 0.5,
    }
    emb = as_dict(load_config_fields("embedding", {"context_length": 512}))
    assert emb == {"embedding.load.contextLength": 512}
    with pytest.raises(ValueError, match="LLMs only"):
        load_config_fields("embedding", {"flash_attention": True})


def test_gpu_split() -> None:
    fields = as_dict(load_config_fields("llm", {"main_gpu": 1, "disabled_gpus": [2]}))
    assert fields["load.gpuSplitConfig"] == {
        "strategy": "priorityOrder",
        "disabledGpus": [2],
        "priority": [1],
        "customRatio": [],
    }


def test_unknown_load_option() -> None:
    with pytest.raises(TypeError, match="did you mean 'context_length'"):
        load_config_fields("llm", {"context_lenght": 10})


def test_config_read_back() -> None:
    config = {
        "fields": [
            {"key": "llm.prediction.maxPredictedTokens", "value": {"checked": True, "value": 5}},
            {"key": "llm.prediction.topPSampling", "value": {"checked": False, "value": 0.9}},
            {"key": "llm.prediction.contextOverflowPolicy", "value": "stopAtLimit"},
            {"key": "llm.load.contextLength", "value": 4096},
            {"key": "some.unknown", "value": [1]},
            {"bad": True},
        ]
    }
    assert config_from_fields(config) == {
        "max_tokens": 5,
        "top_p": False,
        "context_overflow_policy": "stop_at_limit",
        "context_length": 4096,
        "some.unknown": [1],
    }
    assert config_from_fields(None) == {}
