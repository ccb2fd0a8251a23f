"""Friendly prediction and load options, mapped to and from LM Studio's KV config keys.

Options are snake_case keyword arguments (``temperature=0.2, max_tokens=100``). Each maps
to one LM Studio key (``llm.prediction.temperature``, ...). "Checkbox" settings accept a
number to enable them or ``False`` to switch them off. ``raw={"llm.prediction.x": v}``
passes LM Studio KV keys through unchanged (explicit options win over ``raw``).
Unknown option names raise ``TypeError`` naming the closest valid option.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Final, Literal, get_type_hints

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

__all__ = [
    "LoadOptions",
    "PredictionOptions",
    "config_from_fields",
    "load_config_fields",
    "prediction_config_fields",
]

_Fraction = Annotated[float, Field(ge=0, le=1)]
_Positive = Annotated[int, Field(ge=1)]
ContextOverflowPolicy = Literal["stop_at_limit", "truncate_middle", "rolling_window"]
_CacheQuant = Literal["f32", "f16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"]


@with_config(ConfigDict(extra="forbid", strict=False))
class PredictionOptions(TypedDict, total=False):
    """Prediction options (every key optional; see LM Studio's docs for their effect)."""

    temperature: Annotated[float, Field(ge=0)]
    max_tokens: _Positive | Literal[False]
    stop: str | Sequence[str]
    top_p: _Fraction | Literal[False]
    top_k: Annotated[int, Field(ge=-1, le=500)]
    min_p: _Fraction | Literal[False]
    repeat_penalty: Annotated[float, Field(ge=0)] | Literal[False]
    presence_penalty: float | Literal[False]
    frequency_penalty: float | Literal[False]
    seed: int | Literal[False]
    context_overflow_policy: ContextOverflowPolicy
    reasoning_parsing: bool | tuple[str, str]
    enable_thinking: bool
    reasoning_budget: _Positive | Literal[False]
    draft_model: str
    num_draft_tokens: _Positive
    cpu_threads: _Positive
    log_probs: Annotated[int, Field(ge=0, le=100)] | Literal[False]
    system_prompt: str
    tool_call_stop: Sequence[str]
    raw: Mapping[str, Any]


@with_config(ConfigDict(extra="forbid", strict=False))
class LoadOptions(TypedDict, total=False):
    """Load options for ``model()`` / ``load()`` (every key optional)."""

    context_length: _Positive
    gpu_offload: _Fraction | Literal["max", "off"]
    flash_attention: bool
    eval_batch_size: _Positive
    seed: int | Literal[False]
    keep_model_in_memory: bool
    try_mmap: bool
    use_fp16_for_kv_cache: bool
    offload_kv_cache_to_gpu: bool
    num_experts: Annotated[int, Field(ge=0)]
    rope_frequency_base: float | Literal[False]
    rope_frequency_scale: float | Literal[False]
    k_cache_quantization: _CacheQuant | Literal[False]
    v_cache_quantization: _CacheQuant | Literal[False]
    split_strategy: Literal["evenly", "favor_main_gpu"]
    main_gpu: Annotated[int, Field(ge=0)]
    disabled_gpus: Sequence[int]
    max_parallel_predictions: _Positive
    raw: Mapping[str, Any]


_PREDICTION_ADAPTER: Final = TypeAdapter(PredictionOptions)
_LOAD_ADAPTER: Final = TypeAdapter(LoadOptions)
_HINTS: Final = {
    "prediction": get_type_hints(PredictionOptions),
    "load": get_type_hints(LoadOptions),
}

# How a value is written: "plain", "checkbox" ({checked, value}), or a converter.
Encoder = Callable[[Any], Any]


def _plain(value: Any) -> Any:
    return value


class _Checkbox:
    """Encodes a checkbox setting; ``False`` switches it off (keeping LM Studio's default)."""

    def __init__(self, default: Any) -> None:
        self.default = default

    def __call__(self, value: Any) -> Any:
        if value is False:
            return {"checked": False, "value": self.default}
        return {"checked": True, "value": value}


def _string_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else list(value)


def _camel(value: Any) -> Any:
    head, *rest = str(value).split("_")
    return head + "".join(part.title() for part in rest)


def _reasoning(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"enabled": True, "startString": value[0], "endString": value[1]}
    return {"enabled": bool(value), "startString": "<think>", "endString": "</think>"}


_P: Final = "llm.prediction."
PREDICTION_KEYS: Final[dict[str, tuple[str, Encoder]]] = {
    "temperature": (_P + "temperature", _plain),
    "max_tokens": (_P + "maxPredictedTokens", _Checkbox(1000)),
    "stop": (_P + "stopStrings", _string_list),
    "top_p": (_P + "topPSampling", _Checkbox(0.95)),
    "top_k": (_P + "topKSampling", _plain),
    "min_p": (_P + "minPSampling", _Checkbox(0.05)),
    "repeat_penalty": (_P + "repeatPenalty", _Checkbox(1.1)),
    "presence_penalty": (_P + "llama.presencePenalty", _Checkbox(0)),
    "frequency_penalty": (_P + "llama.frequencyPenalty", _Checkbox(0)),
    "seed": (_P + "seed", _Checkbox(-1)),
    "context_overflow_policy": (_P + "contextOverflowPolicy", _camel),
    "reasoning_parsing": (_P + "reasoning.parsing", _reasoning),
    "enable_thinking": (_P + "reasoning.enableThinking", _plain),
    "reasoning_budget": (_P + "reasoning.budgetTokens", _Checkbox(1024)),
    "draft_model": (_P + "speculativeDecoding.draftModel", _plain),
    "num_draft_tokens": (_P + "speculativeDecoding.numDraftTokensExact", _plain),
    "cpu_threads": (_P + "llama.cpuThreads", _plain),
    "log_probs": (_P + "logProbs", _Checkbox(0)),
    "system_prompt": (_P + "systemPrompt", _plain),
    "tool_call_stop": (_P + "toolCallStopStrings", _string_list),
}

# Load keys: option -> (llm key, embedding key or None when LLM-only, encoder).
LOAD_KEYS: Final[dict[str, tuple[str, str | None, Encoder]]] = {
    "context_length": ("llm.load.contextLength", "embedding.load.contextLength", _plain),
    "gpu_offload": (
        "llm.load.llama.acceleration.offloadRatio",
        "embedding.load.llama.acceleration.offloadRatio",
        _plain,
    ),
    "flash_attention": ("llm.load.llama.flashAttention", None, _plain),
    "eval_batch_size": (
        "llm.load.llama.evalBatchSize",
        "embedding.load.llama.evalBatchSize",
        _plain,
    ),
    "seed": ("llm.load.seed", "embedding.load.seed", _Checkbox(-1)),
    "keep_model_in_memory": (
        "llm.load.llama.keepModelInMemory",
        "embedding.load.llama.keepModelInMemory",
        _plain,
    ),
    "try_mmap": ("llm.load.llama.tryMmap", "embedding.load.llama.tryMmap", _plain),
    "use_fp16_for_kv_cache": ("llm.load.llama.useFp16ForKVCache", None, _plain),
    "offload_kv_cache_to_gpu": ("llm.load.offloadKVCacheToGpu", None, _plain),
    "num_experts": ("llm.load.numExperts", None, _plain),
    "rope_frequency_base": (
        "llm.load.llama.ropeFrequencyBase",
        "embedding.load.llama.ropeFrequencyBase",
        _Checkbox(0),
    ),
    "rope_frequency_scale": (
        "llm.load.llama.ropeFrequencyScale",
        "embedding.load.llama.ropeFrequencyScale",
        _Checkbox(0),
    ),
    "k_cache_quantization": ("llm.load.llama.kCacheQuantizationType", None, _Checkbox("f16")),
    "v_cache_quantization": ("llm.load.llama.vCacheQuantizationType", None, _Checkbox("f16")),
    "max_parallel_predictions": ("llm.load.numParallelSessions", None, _plain),
}
_GPU_SPLIT_OPTIONS: Final = ("split_strategy", "main_gpu", "disabled_gpus")


def _check_names(kind: str, given: Mapping[str, Any], valid: Sequence[str]) -> None:
    if not isinstance(given, Mapping):
        raise TypeError(f"{kind} options must be a mapping, not {type(given).__name__}")
    for name in given:
        if name in valid:
            continue
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(
            f"unknown {kind} option {name!r}{hint}; valid options are {', '.join(valid)}; "
            "pass LM Studio KV keys through raw={'full.key': value}"
        )


def _validate(kind: str, adapter: TypeAdapter[Any], options: Mapping[str, Any]) -> Any:
    try:
        valid = adapter.validate_python(dict(options))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][:1])
        raise ValueError(
            f"invalid {kind} option {where}={options.get(where)!r}: {first['msg']}"
        ) from None
    hints = _HINTS[kind]
    for name, value in valid.items():
        given = options[name]
        # pydantic's lax mode turns True into 1 and 0 into False: refuse both.
        if isinstance(value, bool) != isinstance(given, bool):
            raise ValueError(
                f"invalid {kind} option {name}={given!r}: {_expected(hints.get(name))}"
            )
    return valid


def _expected(annotation: Any) -> str:
    if annotation in (bool, "bool"):
        return "expected True or False"
    return "expected a valid number (or False to switch the setting off)"


def _raw_fields(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    for key in raw:
        if not isinstance(key, str) or "." not in key:
            raise ValueError(
                f"raw config key {key!r} must be a full LM Studio key such as "
                "'llm.prediction.temperature'"
            )
    return [{"key": key, "value": value} for key, value in raw.items()]


def _merge(raw: list[dict[str, Any]], explicit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    explicit_keys = {field["key"] for field in explicit}
    return [field for field in raw if field["key"] not in explicit_keys] + explicit


def prediction_config_fields(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """KV fields of the ``apiOverride`` layer for validated prediction options."""
    _check_names("prediction", options, [*PREDICTION_KEYS, "raw"])
    given = {name: value for name, value in options.items() if value is not None}
    valid = _validate("prediction", _PREDICTION_ADAPTER, given)
    fields = []
    for name, value in valid.items():
        if name == "raw" or value is None:
            continue
        key, encode = PREDICTION_KEYS[name]
        fields.append({"key": key, "value": encode(value)})
    return _merge(_raw_fields(valid.get("raw") or {}), fields)


def _gpu_split(options: Mapping[str, Any]) -> dict[str, Any]:
    main_gpu = options.get("main_gpu")
    favor = options.get("split_strategy", "favor_main_gpu" if main_gpu is not None else "evenly")
    priority = [main_gpu] if favor == "favor_main_gpu" and main_gpu is not None else []
    return {
        "strategy": "priorityOrder" if favor == "favor_main_gpu" else "evenly",
        "disabledGpus": list(options.get("disabled_gpus") or []),
        "priority": priority,
        "customRatio": [],
    }


def load_config_fields(domain: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """KV fields of the ``apiOverride`` layer for validated load options."""
    _check_names("load", options, [*LOAD_KEYS, *_GPU_SPLIT_OPTIONS, "raw"])
    given = {name: value for name, value in options.items() if value is not None}
    valid = _validate("load", _LOAD_ADAPTER, given)
    fields = []
    for name, value in valid.items():
        if name == "raw" or name in _GPU_SPLIT_OPTIONS or value is None:
            continue
        llm_key, embedding_key, encode = LOAD_KEYS[name]
        key = llm_key if domain == "llm" else embedding_key
        if key is None:
            raise ValueError(f"load option {name!r} applies to LLMs only, not embedding models")
        fields.append({"key": key, "value": encode(value)})
    if any(name in valid for name in _GPU_SPLIT_OPTIONS):
        if domain != "llm":
            raise ValueError("GPU split options apply to LLMs only, not embedding models")
        fields.append({"key": "load.gpuSplitConfig", "value": _gpu_split(valid)})
    return _merge(_raw_fields(valid.get("raw") or {}), fields)


def _decode(value: Any, encode: Encoder) -> Any:
    if isinstance(encode, _Checkbox) and isinstance(value, dict):
        return value.get("value") if value.get("checked") else False
    if encode is _camel and isinstance(value, str):
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in value)
    if encode is _reasoning and isinstance(value, dict):
        if not value.get("enabled"):
            return False
        return (value.get("startString", ""), value.get("endString", ""))
    return value


_REVERSE: Final[dict[str, tuple[str, Encoder]]] = {
    **{key: (name, enc) for name, (key, enc) in PREDICTION_KEYS.items()},
    **{llm: (name, enc) for name, (llm, _, enc) in LOAD_KEYS.items()},
    **{emb: (name, enc) for name, (_, emb, enc) in LOAD_KEYS.items() if emb is not None},
}


def config_from_fields(config: Any) -> dict[str, Any]:
    """Read a KV config back: known keys by option name, others by their full key."""
    fields = config.get("fields", []) if isinstance(config, dict) else []
    result: dict[str, Any] = {}
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("key"), str):
            continue
        key, value = field["key"], field.get("value")
        known = _REVERSE.get(key)
        if known is None:
            result[key] = value
        else:
            result[known[0]] = _decode(value, known[1])
    return result
