"""The connection fields of every LangChain model, and the mapping of core errors.

The clients themselves (lazy, one async client per event loop, model handles resolved
again after an unload) are built by :mod:`lmstudio_integrations._clients`, shared with the
LlamaIndex adapter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from langchain_core.utils import secret_from_env
from lmstudio_core import LMStudioError
from pydantic import BaseModel, Field, PrivateAttr, SecretStr

from .._clients import ClientSettings, ModelClients
from ._convert import to_langchain_error

__all__ = ["TOKEN_ENV_VARS", "LMStudioConnection", "lmstudio_errors", "merge_options"]

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


def merge_options(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge option dicts; later layers win and ``None`` values are skipped."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is not None:
                merged[key] = value
    return merged
