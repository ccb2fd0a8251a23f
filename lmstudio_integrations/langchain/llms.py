"""``LMStudioLLM``: raw text completion (no chat template) as a LangChain LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseLLM, LangSmithParams
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from lmstudio_core import PredictionResult
from pydantic import ConfigDict

from ._connection import LMStudioConnection, lmstudio_errors, merge_options
from ._convert import PROVIDER, completion_chunk, completion_info

__all__ = ["LMStudioLLM"]


class LMStudioLLM(BaseLLM, LMStudioConnection):
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

    model: str
    """Model key, path or loaded instance identifier."""
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    top_p: float | None = None
    top_k: int | None = None
    repeat_penalty: float | None = None
    seed: int | None = None
    preset: str | None = None
    """Name of an LM Studio preset to apply."""
    extra_config: dict[str, Any] | None = None
    """Other lmstudio-core prediction options (``min_p``, ``raw={...}``, ...)."""
    streaming: bool = False
    """Report the tokens of ``invoke``/``generate`` to the callbacks as they arrive."""

    @property
    def _llm_type(self) -> str:
        return "lmstudio-llm"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "LM_API_TOKEN"}

    def _prediction_options(self) -> dict[str, Any]:
        return merge_options(
            self.extra_config,
            {
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "stop": self.stop,
                "top_p": self.top_p,
                "top_k": self.top_k,
                "repeat_penalty": self.repeat_penalty,
                "seed": self.seed,
            },
        )

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, **self._prediction_options()}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=str(kwargs.get("model") or self.model),
            ls_model_type="llm",
        )
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop or [])
        return params

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
                if isinstance(item, PredictionResult):
                    chunk = GenerationChunk(text="", generation_info=completion_info(item, model))
                else:
                    chunk = completion_chunk(item)  # type: ignore[assignment]
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
                if isinstance(item, PredictionResult):
                    chunk = GenerationChunk(text="", generation_info=completion_info(item, model))
                else:
                    chunk = completion_chunk(item)  # type: ignore[assignment]
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


def _aggregate(chunks: list[GenerationChunk]) -> Generation:
    if not chunks:
        return Generation(text="")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return Generation(text=total.text, generation_info=total.generation_info)
