"""``LMStudioLLM``: raw text completion (no chat template) as a LangChain LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, closing
from typing import Any, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseLLM, LangSmithParams, LanguageModelInput
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from langchain_core.runnables import Runnable, RunnableConfig
from lmstudio_core import PredictionResult
from pydantic import ConfigDict
from typing_extensions import override

from ._connection import LMStudioPredictionModel, lmstudio_errors, merge_options
from ._convert import StreamBinding, TransformStream, completion_chunk, completion_info

__all__ = ["LMStudioLLM"]


class LMStudioLLM(LMStudioPredictionModel, BaseLLM):
    """LM Studio text completion: the prompt is continued as is, without a chat template.

    Example:
        ```python
        from lmstudio_integrations.langchain import LMStudioLLM

        llm = LMStudioLLM(model="qwen2.5-7b-instruct", max_tokens=64)
        llm.invoke("The capital of France is")
        ```

    Usage: each generation's ``generation_info`` carries the finish reason, timings and
    ``usage_metadata`` (``input_tokens``, ``output_tokens``, ``total_tokens``), and
    ``generate()`` results (and ``on_llm_end`` callbacks) have
    ``llm_output={"token_usage": {"prompt_tokens": ..., "completion_tokens": ...,
    "total_tokens": ...}, "model_name": ...}`` summed over the prompts. In a stream the
    final chunk carries that ``generation_info``. (langchain-core's
    ``get_usage_metadata_callback()`` only reads chat models' messages, so it sees no
    usage of a text-completion LLM.)

    Cancellation: leaving a stream early stops the generation once the stream is closed,
    as with ``ChatLMStudio`` (close a stream kept in a variable: ``stream.close()`` or
    ``await stream.aclose()``).
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
            with closing(items):
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
            async with aclosing(items):
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
        return _result(generations, str(kwargs.get("model") or self.model))

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
        return _result(generations, str(kwargs.get("model") or self.model))

    @override
    def transform(
        self,
        input: Iterator[LanguageModelInput],
        config: RunnableConfig | None = None,
        **kwargs: Any | None,
    ) -> Iterator[str]:
        """Stream the completion of the input (as a step of a chain); leaving the chain's
        stream early cancels the generation (see ``ChatLMStudio.transform``)."""
        return TransformStream(super().transform(input, config, **kwargs))

    @override
    def bind(self, **kwargs: Any) -> Runnable[LanguageModelInput, str]:
        """Bind arguments to every call (a ``RunnableBinding``; see :meth:`transform`)."""
        return StreamBinding(bound=self, kwargs=kwargs, config={})

    @override
    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, str]:
        """Bind a config to every call (a ``RunnableBinding``; see :meth:`transform`)."""
        merged = cast("RunnableConfig", {**(config or {}), **kwargs})
        return StreamBinding(bound=self, kwargs={}, config=merged)


def _chunk(item: Any, model: str) -> GenerationChunk | None:
    """The chunk of a stream's event (``None``: nothing to report) or final result."""
    if isinstance(item, PredictionResult):
        return GenerationChunk(text="", generation_info=completion_info(item, model))
    return completion_chunk(item)


_USAGE_KEYS = (
    ("input_tokens", "prompt_tokens"),
    ("output_tokens", "completion_tokens"),
    ("total_tokens", "total_tokens"),
)


def _result(generations: list[list[Generation]], model: str) -> LLMResult:
    """The result of ``generate``: the generations and, in ``llm_output``, their token
    usage under the OpenAI-style keys langchain's callbacks read, summed."""
    token_usage: dict[str, int] = {}
    model_name = model
    for generation in (g for per_prompt in generations for g in per_prompt):
        info = generation.generation_info or {}
        model_name = str(info.get("model_name") or model_name)
        usage = info.get("usage_metadata") or {}
        for ours, theirs in _USAGE_KEYS:
            if isinstance(usage.get(ours), int):
                token_usage[theirs] = token_usage.get(theirs, 0) + usage[ours]
    return LLMResult(
        generations=generations,
        llm_output={"token_usage": token_usage, "model_name": model_name},
    )


def _aggregate(chunks: list[GenerationChunk]) -> Generation:
    if not chunks:
        return Generation(text="")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return Generation(text=total.text, generation_info=total.generation_info)
