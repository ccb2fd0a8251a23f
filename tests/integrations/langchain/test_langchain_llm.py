"""LMStudioLLM (text completion) against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core import exceptions as lc_errors
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import GenerationChunk, LLMResult
from langchain_models import CHAT_MODEL, REASONING_MODEL
from lmstudio_core import Client
from lmstudio_core.emulator import EmulatorThread

from lmstudio_integrations.langchain import LMStudioLLM

COMPLETION_LAYER = "completeModeFormatting"


def _layers(emu: EmulatorThread) -> list[str]:
    stack = emu.record.predictions[-1].config_stack
    return [layer["layerName"] for layer in stack["layers"]]


def test_invoke_completes_raw_text(emu: EmulatorThread, completion_llm: LMStudioLLM) -> None:
    text = completion_llm.invoke("The capital of France is")
    assert isinstance(text, str)
    assert text
    record = emu.record.predictions[-1]
    assert COMPLETION_LAYER in _layers(emu)
    assert record.prompt == "The capital of France is"  # no chat template around it


def test_generate_reports_usage(completion_llm: LMStudioLLM) -> None:
    result = completion_llm.generate(["Once upon a time", "In a galaxy"])
    assert len(result.generations) == 2
    info = result.generations[0][0].generation_info
    assert info is not None
    assert info["model_name"] == CHAT_MODEL
    assert info["finish_reason"] == "stop"
    assert info["usage_metadata"]["input_tokens"] > 0


def _lm_studio_usage(emu: EmulatorThread, prompts: list[str]) -> dict[str, int]:
    """What LM Studio reports for completing ``prompts`` (through the core client)."""
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    with Client(emu.base_url) as client:
        model = client.llm.model(CHAT_MODEL)
        for prompt in prompts:
            stats = model.complete(prompt).stats
            assert stats.prompt_tokens is not None
            assert stats.predicted_tokens is not None
            totals["prompt_tokens"] += stats.prompt_tokens
            totals["completion_tokens"] += stats.predicted_tokens
            totals["total_tokens"] += stats.prompt_tokens + stats.predicted_tokens
    return totals


class LLMEnd(BaseCallbackHandler):
    """The results callbacks get at the end of each LLM run."""

    def __init__(self) -> None:
        self.results: list[LLMResult] = []

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.results.append(response)


def test_token_usage_in_llm_output(emu: EmulatorThread, completion_llm: LMStudioLLM) -> None:
    """BaseLLM's convention (what OpenAI's LLM reports): ``llm_output["token_usage"]``,
    summed over the prompts, for ``generate`` and for the callbacks of ``invoke``."""
    prompts = ["Once upon a time", "In a galaxy"]
    expected = _lm_studio_usage(emu, prompts)
    result = completion_llm.generate(prompts)
    assert result.llm_output == {"token_usage": expected, "model_name": CHAT_MODEL}
    per_prompt = [g[0].generation_info["usage_metadata"] for g in result.generations]  # type: ignore[index]
    assert sum(u["input_tokens"] for u in per_prompt) == expected["prompt_tokens"]

    handler = LLMEnd()
    completion_llm.invoke(prompts[0], config={"callbacks": [handler]})
    assert handler.results[-1].llm_output == {
        "token_usage": _lm_studio_usage(emu, prompts[:1]),
        "model_name": CHAT_MODEL,
    }


async def test_token_usage_in_llm_output_async(
    emu: EmulatorThread, completion_llm: LMStudioLLM
) -> None:
    expected = await asyncio.to_thread(_lm_studio_usage, emu, ["Once upon a time"])
    result = await completion_llm.agenerate(["Once upon a time"])
    assert result.llm_output == {"token_usage": expected, "model_name": CHAT_MODEL}
    handler = LLMEnd()
    await completion_llm.ainvoke("Once upon a time", config={"callbacks": [handler]})
    await completion_llm.aclose()
    assert handler.results[-1].llm_output == {"token_usage": expected, "model_name": CHAT_MODEL}


def test_stream(completion_llm: LMStudioLLM) -> None:
    pieces = list(completion_llm.stream("Once upon a time"))
    assert len(pieces) > 2
    assert "".join(pieces) == completion_llm.invoke("Once upon a time")


def test_options_and_model_override(emu: EmulatorThread) -> None:
    llm = LMStudioLLM(model=CHAT_MODEL, base_url=emu.base_url, temperature=0.1, max_tokens=20)
    llm.invoke("x", stop=["\n"], model=REASONING_MODEL)
    record = emu.record.predictions[-1]
    assert record.model_key == REASONING_MODEL
    assert record.config["llm.prediction.temperature"] == 0.1
    assert record.config["llm.prediction.maxPredictedTokens"] == {"checked": True, "value": 20}
    assert record.config["llm.prediction.stopStrings"] == ["\n"]
    assert llm._get_ls_params(model="m")["ls_model_name"] == "m"


async def test_async(completion_llm: LMStudioLLM) -> None:
    text = await completion_llm.ainvoke("Once upon a time")
    pieces = [piece async for piece in completion_llm.astream("Once upon a time")]
    assert "".join(pieces) == text
    results = await completion_llm.abatch(["a", "b"])
    assert all(results)


def test_streaming_callbacks(completion_llm: LMStudioLLM) -> None:
    seen: list[str] = []

    class Collect(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:  # type: ignore[override]
            seen.append(token)

    streaming = completion_llm.model_copy(update={"streaming": True})
    text = streaming.invoke("Once upon a time", config={"callbacks": [Collect()]})
    assert "".join(seen) == text


async def test_cancelling_a_completion(emu: EmulatorThread, completion_llm: LMStudioLLM) -> None:
    emu.faults.set_tokens_per_second(20)
    emu.engine.script_reply(" ".join(["word"] * 200))
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in completion_llm.astream("Go on"):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(emu.record.wait_for, lambda r: bool(r.cancels), 5)


def test_errors_are_mapped(emu: EmulatorThread) -> None:
    llm = LMStudioLLM(model="missing-model", base_url=emu.base_url)
    with pytest.raises(lc_errors.ModelNotFoundError):
        llm.invoke("hi")


def test_serializable() -> None:
    assert LMStudioLLM.is_lc_serializable()
    llm = LMStudioLLM(model=CHAT_MODEL, api_key="sk-lm-abcDEF78:abcDEF7890abcDEF7890")
    assert llm.lc_secrets == {"api_key": "LM_API_TOKEN"}
    assert isinstance(GenerationChunk(text="a") + GenerationChunk(text="b"), GenerationChunk)
