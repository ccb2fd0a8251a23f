"""The connection fields of every LangChain model, the prediction fields of the chat and
completion models, and the mapping of core errors.

The clients themselves (lazy, one async client per event loop, model handles resolved
again after an unload) are built by :mod:`lmstudio_integrations._clients`, shared with the
LlamaIndex adapter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from langchain_core.language_models import LangSmithParams
from langchain_core.utils import secret_from_env
from lmstudio_core import LMStudioError
from pydantic import BaseModel, Field, PrivateAttr, SecretStr

from .._clients import ClientSettings, ModelClients
from ._convert import PROVIDER, to_langchain_error

__all__ = [
    "TOKEN_ENV_VARS",
    "LMStudioConnection",
    "LMStudioPredictionModel",
    "lmstudio_errors",
    "merge_options",
]

TOKEN_ENV_VARS = ("LM_API_TOKEN", "LMSTUDIO_API_TOKEN")
"""Environment variables read, in order, for the API token."""


@contextlib.contextmanager
def lmstudio_errors() -> Iterator[None]:
    """Re-raise core errors as langchain-core's matching error types (chained)."""
    try:
        yield
    except LMStudioError as exc:
        mapped = to_langchain_error(exc)
        if mapped is exc:
            raise
        raise mapped from exc


class LMStudioConnection(BaseModel):
    """Where LM Studio is, how to authenticate, and how models get loaded."""

    base_url: str | None = None
    """LM Studio's address: ``http://host:port``, ``ws://host:port`` or ``host:port``
    (a trailing ``/v1`` is ignored). Default: lmstudio-core reads ``LMSTUDIO_BASE_URL``,
    else finds a local LM Studio on its usual ports."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(list(TOKEN_ENV_VARS), default=None)
    )
    """LM Studio API token (``sk-lm-...``). Default: ``LM_API_TOKEN`` or
    ``LMSTUDIO_API_TOKEN`` from the environment."""
    timeout: float | None = None
    """Seconds for connecting, each reply, the first token and each later token
    (default: lmstudio-core's defaults, with 10 minutes for the first token)."""
    max_retries: int = 2
    """Retries for connecting and idempotent requests (a running prediction is never
    retried)."""
    ttl: float | None = None
    """Seconds an idle model loaded by this object stays loaded (default: 1 hour)."""
    context_length: int | None = None
    """Context length to load the model with, if this object loads it."""
    gpu_offload: float | Literal["max", "off"] | None = None
    """Fraction of the model to offload to the GPU (0-1, ``"max"`` or ``"off"``), if
    this object loads it."""
    load_config: dict[str, Any] | None = None
    """Other load options of lmstudio-core (``flash_attention``, ``raw={...}``, ...)."""

    _clients: ModelClients | None = PrivateAttr(default=None)

    def _client_settings(self) -> ClientSettings:
        token = self.api_key.get_secret_value().strip() if self.api_key is not None else ""
        config: dict[str, Any] = dict(self.load_config or {})
        if self.context_length is not None:
            config["context_length"] = self.context_length
        if self.gpu_offload is not None:
            config["gpu_offload"] = self.gpu_offload
        load: dict[str, Any] = {"config": config or None}
        if self.ttl is not None:
            load["ttl"] = self.ttl
        return ClientSettings(
            base_url=self.base_url,
            api_token=token or None,
            timeout=self.timeout,
            max_retries=self.max_retries,
            load=load,
        )

    @property
    def clients(self) -> ModelClients:
        """The lazily created clients of this object (new ones if its settings changed,
        e.g. in a ``model_copy(update=...)``)."""
        settings = self._client_settings()
        if self._clients is None or self._clients.settings != settings:
            self._clients = ModelClients(settings)
        return self._clients

    def close(self) -> None:
        """Close the blocking connection to LM Studio (reopened on the next call), and the
        async connections of event loops that were closed without closing them.

        Models that this object loaded are unloaded by LM Studio once its connections close.
        """
        if self._clients is not None:
            self._clients.close()

    async def aclose(self) -> None:
        """Close the async connection of the running event loop (reopened on demand).

        Not required: the connection of a loop is also closed when ``asyncio.run`` ends."""
        if self._clients is not None:
            await self._clients.aclose()


class LMStudioPredictionModel(LMStudioConnection):
    """The model and prediction options of ``ChatLMStudio`` and ``LMStudioLLM``, and the
    LangChain plumbing they share.

    List it before the LangChain base class (``class ChatLMStudio(LMStudioPredictionModel,
    BaseChatModel)``): langchain-core defines ``lc_secrets``, ``is_lc_serializable`` and
    ``_identifying_params`` too, and the definitions here must come first.
    """

    model: str
    """Model key, path or loaded instance identifier (e.g. ``qwen2.5-7b-instruct``)."""
    temperature: float | None = None
    max_tokens: int | None = None
    """Maximum number of tokens to generate."""
    stop: list[str] | None = None
    """Stop strings."""
    top_p: float | None = None
    top_k: int | None = None
    repeat_penalty: float | None = None
    seed: int | None = None
    preset: str | None = None
    """Name of an LM Studio preset to apply (explicit options override it)."""
    extra_config: dict[str, Any] | None = None
    """Other lmstudio-core prediction options (``min_p``, ``context_overflow_policy``,
    ``draft_model``, ``raw={"llm.prediction.<key>": value}``, ...)."""
    streaming: bool = False
    """Report the tokens of ``invoke`` to the callbacks as they arrive."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "LM_API_TOKEN"}

    def _model_options(self) -> dict[str, Any]:
        """Prediction options of the fields a subclass adds (``None``: not set)."""
        return {}

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
                **self._model_options(),
            },
        )

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, **self._prediction_options()}

    def _ls_params(
        self,
        model_type: Literal["chat", "llm"],
        stop: list[str] | None,
        model: Any,
        temperature: Any,
        max_tokens: Any,
    ) -> LangSmithParams:
        """LangSmith's tracing parameters of a call to ``model`` (``None``: this one's)."""
        params = LangSmithParams(
            ls_provider=PROVIDER, ls_model_name=str(model or self.model), ls_model_type=model_type
        )
        if isinstance(temperature, int | float):
            params["ls_temperature"] = float(temperature)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop or [])
        return params


def merge_options(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge option dicts; later layers win and ``None`` values are skipped."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is not None:
                merged[key] = value
    return merged
