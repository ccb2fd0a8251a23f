"""KV configs: defaults, stack collapsing and the typed view a prediction needs.

A KV config is a flat list of ``{key, value}`` fields with full dotted keys; a stack is an
ordered list of layers. Collapsing walks the layers in order, later layers (and later
duplicates inside a layer) overriding earlier ones. The emulator collapses
``defaults < model defaults < preset < client layers`` and always reports effective
values with full keys, normalised so both official clients accept them (checkbox values
in either client's style become ``{"checked": bool, "value": number}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ._catalog import ModelSpec

__all__ = [
    "PredictionSettings",
    "collapse",
    "kvconfig",
    "load_defaults",
    "normalize",
    "prediction_defaults",
]

_GPU_SPLIT: Final = {"strategy": "evenly", "disabledGpus": [], "priority": [], "customRatio": []}
_QWEN_TEMPLATE: Final = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Checkbox-valued keys and their default ``value`` (used when a client sends "off").
_CHECKBOX_DEFAULTS: Final[dict[str, Any]] = {
    "llm.load.seed": -1,
    "llm.load.llama.ropeFrequencyBase": 0,
    "llm.load.llama.ropeFrequencyScale": 0,
    "llm.load.llama.kCacheQuantizationType": "f16",
    "llm.load.llama.vCacheQuantizationType": "f16",
    "embedding.load.seed": -1,
    "embedding.load.llama.ropeFrequencyBase": 0,
    "embedding.load.llama.ropeFrequencyScale": 0,
    "llm.prediction.maxPredictedTokens": 1000,
    "llm.prediction.seed": -1,
    "llm.prediction.repeatPenalty": 1.1,
    "llm.prediction.minPSampling": 0.05,
    "llm.prediction.topPSampling": 0.95,
    "llm.prediction.logProbs": 0,
    "llm.prediction.reasoning.budgetTokens": 1024,
    "llm.prediction.llama.presencePenalty": 0,
    "llm.prediction.llama.frequencyPenalty": 0,
    "llm.prediction.llama.xtcProbability": 0.5,
    "llm.prediction.llama.xtcThreshold": 0.1,
    "llm.prediction.llama.tailFreeSampling": 0.95,
    "llm.prediction.llama.locallyTypicalSampling": 0.9,
}
_CACHE_TYPES: Final = frozenset({"f32", "f16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"})


def load_defaults(spec: ModelSpec) -> dict[str, Any]:
    """Effective load config of a fresh instance of ``spec``, before client overrides."""
    ctx = spec.initial_context_length
    if spec.type == "embedding":
        return {
            "embedding.load.contextLength": ctx,
            "embedding.load.seed": {"checked": False, "value": -1},
            "embedding.load.llama.acceleration.offloadRatio": "max",
            "embedding.load.llama.evalBatchSize": 512,
            "embedding.load.llama.ropeFrequencyBase": {"checked": False, "value": 0},
            "embedding.load.llama.ropeFrequencyScale": {"checked": False, "value": 0},
            "embedding.load.llama.keepModelInMemory": True,
            "embedding.load.llama.tryMmap": True,
            "load.gpuSplitConfig": dict(_GPU_SPLIT),
        }
    return {
        "llm.load.contextLength": ctx,
        "llm.load.numExperts": 0,
        "llm.load.seed": {"checked": False, "value": -1},
        "llm.load.offloadKVCacheToGpu": True,
        "llm.load.llama.acceleration.offloadRatio": "max",
        "llm.load.llama.cpuThreadPoolSize": 4,
        "llm.load.llama.evalBatchSize": 512,
        "llm.load.llama.flashAttention": False,
        "llm.load.llama.ropeFrequencyBase": {"checked": False, "value": 0},
        "llm.load.llama.ropeFrequencyScale": {"checked": False, "value": 0},
        "llm.load.llama.keepModelInMemory": True,
        "llm.load.llama.useFp16ForKVCache": True,
        "llm.load.llama.tryMmap": True,
        "llm.load.llama.kCacheQuantizationType": {"checked": False, "value": "f16"},
        "llm.load.llama.vCacheQuantizationType": {"checked": False, "value": "f16"},
        "load.gpuSplitConfig": dict(_GPU_SPLIT),
        "load.gpuStrictVramCap": False,
    }


def prediction_defaults(spec: ModelSpec) -> dict[str, Any]:
    """Schema defaults of every prediction key the emulator reports."""
    return {
        "llm.prediction.temperature": 0.8,
        "llm.prediction.maxPredictedTokens": {"checked": False, "value": 1000},
        "llm.prediction.stopStrings": [],
        "llm.prediction.toolCallStopStrings": [],
        "llm.prediction.contextOverflowPolicy": "truncateMiddle",
        "llm.prediction.structured": {"type": "none"},
        "llm.prediction.tools": {"type": "none"},
        "llm.prediction.toolChoice": {"type": "generic", "mode": "auto"},
        "llm.prediction.toolNaming": "removeSpecial",
        "llm.prediction.promptTemplate": {
            "type": "jinja",
            "jinjaPromptTemplate": {"template": _QWEN_TEMPLATE},
            "stopStrings": [],
        },
        "llm.prediction.systemPrompt": "",
        "llm.prediction.seed": {"checked": False, "value": -1},
        "llm.prediction.contextPrefill": [],
        "llm.prediction.topKSampling": 40,
        "llm.prediction.repeatPenalty": {"checked": True, "value": 1.1},
        "llm.prediction.minPSampling": {"checked": True, "value": 0.05},
        "llm.prediction.topPSampling": {"checked": True, "value": 0.95},
        "llm.prediction.logProbs": {"checked": False, "value": 0},
        "llm.prediction.reasoning.parsing": {
            "enabled": True,
            "startString": "<think>",
            "endString": "</think>",
        },
        "llm.prediction.speculativeDecoding.draftModel": "",
        "llm.prediction.speculativeDecoding.minDraftLengthToConsider": 0,
        "llm.prediction.speculativeDecoding.minContinueDraftingProbability": 0.75,
        "llm.prediction.speculativeDecoding.numDraftTokensExact": 2,
        "llm.prediction.llama.cpuThreads": 4,
    }


def collapse(base: Mapping[str, Any], *layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Apply layers of ``{key, value}`` fields over ``base``, in order, normalising values.

    Fields without a ``value`` are ignored (nothing to override with).
    """
    result = dict(base)
    for fields in layers:
        for kv in fields:
            key = kv.get("key")
            if isinstance(key, str) and "value" in kv:
                result[key] = normalize(key, kv["value"], result.get(key))
    return result


def kvconfig(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialize collapsed values as a ``KVConfig``."""
    return {"fields": [{"key": key, "value": value} for key, value in values.items()]}


def normalize(key: str, value: Any, previous: Any = None) -> Any:
    """Turn a client-supplied value into the shape LM Studio would report."""
    if key in _CHECKBOX_DEFAULTS:
        return _checkbox(key, value, previous)
    if key == "llm.prediction.promptTemplate" and isinstance(value, Mapping):
        return _prompt_template(value)
    return value


def _checkbox(key: str, value: Any, previous: Any) -> dict[str, Any]:
    default = _CHECKBOX_DEFAULTS[key]
    if isinstance(previous, Mapping) and _valid_checkbox_value(key, previous.get("value")):
        default = previous["value"]
    if isinstance(value, Mapping):
        inner = value.get("value")
        checked = bool(value.get("checked", False))
        if _valid_checkbox_value(key, inner):
            return {"checked": checked, "value": inner}
        return {"checked": False, "value": default}
    if _valid_checkbox_value(key, value):
        return {"checked": True, "value": value}
    return {"checked": False, "value": default}


def _valid_checkbox_value(key: str, value: Any) -> bool:
    if key.endswith("CacheQuantizationType"):
        return value in _CACHE_TYPES
    return isinstance(value, int | float) and not isinstance(value, bool)


def _prompt_template(value: Mapping[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = {
        "type": value.get("type", "jinja"),
        "stopStrings": list(value.get("stopStrings", [])),
    }
    jinja = value.get("jinjaPromptTemplate")
    if isinstance(jinja, Mapping) and isinstance(jinja.get("template"), str):
        template["jinjaPromptTemplate"] = {"template": jinja["template"]}
    manual = value.get("manualPromptTemplate")
    if isinstance(manual, Mapping):
        template["manualPromptTemplate"] = dict(manual)
    return template


def _checked_number(value: Any) -> float | None:
    if isinstance(value, Mapping) and value.get("checked"):
        inner = value.get("value")
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return float(inner)
    return None


@dataclass(frozen=True, slots=True)
class PredictionSettings:
    """The parts of a collapsed prediction config that steer generation."""

    max_tokens: int | None
    stop_strings: tuple[str, ...]
    overflow_policy: str
    structured_type: str
    json_schema: Any
    gbnf_grammar: str | None
    tools: tuple[Mapping[str, Any], ...]
    tool_choice: str
    reasoning_parsing: bool
    reasoning_start: str
    reasoning_end: str
    enable_thinking: bool
    prompt_template: Mapping[str, Any] | None
    seed: int | None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> PredictionSettings:
        """Read the settings from collapsed ``llm.prediction.*`` values."""
        structured = values.get("llm.prediction.structured")
        structured = structured if isinstance(structured, Mapping) else {"type": "none"}
        parsing = values.get("llm.prediction.reasoning.parsing")
        parsing = parsing if isinstance(parsing, Mapping) else {}
        max_tokens = _checked_number(values.get("llm.prediction.maxPredictedTokens"))
        seed = _checked_number(values.get("llm.prediction.seed"))
        template = values.get("llm.prediction.promptTemplate")
        return cls(
            max_tokens=int(max_tokens) if max_tokens is not None else None,
            stop_strings=_strings(values.get("llm.prediction.stopStrings")),
            overflow_policy=str(values.get("llm.prediction.contextOverflowPolicy", "")),
            structured_type=str(structured.get("type", "none")),
            json_schema=structured.get("jsonSchema"),
            gbnf_grammar=_str_or_none(structured.get("gbnfGrammar")),
            tools=_tools(values.get("llm.prediction.tools")),
            tool_choice=_tool_choice(values.get("llm.prediction.toolChoice")),
            reasoning_parsing=bool(parsing.get("enabled", True)),
            reasoning_start=str(parsing.get("startString", "<think>")),
            reasoning_end=str(parsing.get("endString", "</think>")),
            enable_thinking=values.get("llm.prediction.reasoning.enableThinking") is not False,
            prompt_template=template if isinstance(template, Mapping) else None,
            seed=int(seed) if seed is not None else None,
            temperature=_number(values.get("llm.prediction.temperature")),
            top_k=_int_or_none(_number(values.get("llm.prediction.topKSampling"))),
            top_p=_checked_number(values.get("llm.prediction.topPSampling")),
            min_p=_checked_number(values.get("llm.prediction.minPSampling")),
            repeat_penalty=_checked_number(values.get("llm.prediction.repeatPenalty")),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _int_or_none(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(item for item in value if isinstance(item, str) and item)
    return ()


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _tools(value: Any) -> tuple[Mapping[str, Any], ...]:
    if isinstance(value, Mapping) and value.get("type") == "toolArray":
        tools = value.get("tools") or []
        return tuple(tool for tool in tools if isinstance(tool, Mapping))
    return ()


def _tool_choice(value: Any) -> str:
    if isinstance(value, Mapping) and value.get("mode") in ("none", "auto", "required"):
        return str(value["mode"])
    return "auto"
