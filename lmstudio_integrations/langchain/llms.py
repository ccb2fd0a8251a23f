"""``LMStudioLLM``: raw text completion (no chat template) as a LangChain LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseLLM, LangSmithParams
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from lmstudio_core import PredictionResult
from pydantic import ConfigDict

from ._connection import LMStudioPredictionModel, lmstudio_errors, merge_options
from ._convert import completion_chunk, completion_info

__all__ = ["LMStudioLLM"]


class LMStudioLLM(LMStudioPredictionModel, BaseLLM):
    """LM Studio text completion: the prompt is continued as is, without a chat template.

    Example:
        ```python
        from lmstudio_integrations.langchain import LMStudioLLM

        llm = LMStudioLLM(model="qwen2.5-7b-instruct", max_tokens=64)
        llm.invoke("The capital of France is")
        ```

    The final chunk of a stream carries ``generation_info`` with the finish reason,
    token counts and timings.
    """

    model_config = ConfigDict(extra="forbid")

    @property
    def _llm_type(self) -> str:
        return "lmstudio-llm"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return self._ls_params("llm", stop, kwargs.get("model"), self.temperature, self.max_tokens)

    def _arguments(
        self, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        kwargs = dict(kwargs)
        model = str(kwargs.pop("model", None) or self.model)
        preset = kwargs.pop("preset", None) or self.preset
        config = merge_options(self._prediction_options(), kwargs, {"stop": stop})
        return model, {"config": config, "preset": preset}

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        model, arguments = self._arguments(stop, kwargs)
        with lmstudio_errors():
            items = self.clients.stream(model, lambda llm: llm.complete_stream(prompt, **arguments))
            for item in items:
                chunk = _chunk(item, model)
                if chunk is None:
                    continue
                if run_manager is not None:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        model, arguments = self._arguments(stop, kwargs)
        with lmstudio_errors():
            items = self.clients.astream(
                model, lambda llm: llm.complete_stream(prompt, **arguments)
            )
            async for item in items:
                chunk = _chunk(item, model)
                if chunk is None:
                    continue
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        generations: list[list[Generation]] = []
        tokens_to = run_manager if self.streaming else None
        for prompt in prompts:
            chunks = list(self._stream(prompt, stop, tokens_to, **kwargs))
            generations.append([_aggregate(chunks)])
        return LLMResult(generations=generations)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        generations: list[list[Generation]] = []
        tokens_to = run_manager if self.streaming else None
        for prompt in prompts:
            chunks = [chunk async for chunk in self._astream(prompt, stop, tokens_to, **kwargs)]
            generations.append([_aggregate(chunks)])
        return LLMResult(generations=generations)


def _chunk(item: Any, model: str) -> GenerationChunk | None:
    """The chunk of a stream's event (``None``: nothing to report) or final result."""
    if isinstance(item, PredictionResult):
        return GenerationChunk(text="", generation_info=completion_info(item, model))
    return completion_chunk(item)


def _aggregate(chunks: list[GenerationChunk]) -> Generation:
    if not chunks:
        return Generation(text="")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return Generation(text=total.text, generation_info=total.generation_info)
