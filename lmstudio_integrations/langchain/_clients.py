"""Lazily built LM Studio clients and the connection fields of every LangChain model.

Nothing connects when a model object is created. The first blocking call creates one
:class:`lmstudio_core.Client` for the model object (thread-safe, shared by ``batch``).
Async calls use one :class:`lmstudio_core.AsyncClient` per event loop, because an async
client is bound to the loop it connected in; it is closed when that loop shuts down
(``asyncio.run`` and test runners cancel the remaining tasks, which closes it) or by
``aclose()``. Model handles are cached per client and re-resolved once when LM Studio
no longer knows the instance (it was unloaded or evicted meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.utils import from_env, secret_from_env
from lmstudio_core import (
    LLM,
    AsyncClient,
    AsyncEmbeddingModel,
    AsyncLLM,
    AsyncPredictionStream,
    Client,
    EmbeddingModel,
    LMStudioError,
    ModelNotFoundError,
    PredictionEvent,
    PredictionResult,
    PredictionStream,
)
from pydantic import BaseModel, Field, PrivateAttr, SecretStr

from ._convert import to_langchain_error

__all__ = ["TOKEN_ENV_VARS", "Clients", "LMStudioConnection", "lmstudio_errors", "merge_options"]

logger = logging.getLogger(__name__)

TOKEN_ENV_VARS = ("LM_API_TOKEN", "LMSTUDIO_API_TOKEN")
"""Environment variables read, in order, for the API token."""

H = TypeVar("H")


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


@dataclass(frozen=True, slots=True)
class ClientSettings:
    base_url: str | None
    api_token: str | None
    timeout: float | None
    max_retries: int
    ttl: float | None
    load_config: dict[str, Any]

    def client_kwargs(self) -> dict[str, Any]:
        return {
            "api_token": self.api_token,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def load_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"config": self.load_config or None}
        if self.ttl is not None:
            kwargs["ttl"] = self.ttl
        return kwargs


@dataclass
class _LoopClient:
    """The async client of one event loop and its model handles."""

    client: AsyncClient
    handles: dict[tuple[str, str], Any] = field(default_factory=dict)
    guardian: asyncio.Task[None] | None = None


class Clients:
    """The clients of one LangChain model object (see the module docstring)."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._handles: dict[tuple[str, str], Any] = {}
        self._loops: dict[asyncio.AbstractEventLoop, _LoopClient] = {}

    # -- blocking ------------------------------------------------------------------------

    def client(self) -> Client:
        with self._lock:
            if self._client is None or self._client.closed:
                self._client = Client(self.settings.base_url, **self.settings.client_kwargs())
                self._handles.clear()
            return self._client

    def _handle(self, kind: str, key: str, load: Callable[[], H], fresh: bool) -> H:
        cached = None if fresh else self._handles.get((kind, key))
        if cached is None:
            cached = self._handles[(kind, key)] = load()
        return cached

    def llm(self, key: str, *, fresh: bool = False) -> LLM:
        """A handle to the LLM ``key`` (loaded on demand, cached)."""
        client = self.client()
        load = self.settings.load_kwargs()
        return self._handle("llm", key, lambda: client.llm.model(key, **load), fresh)

    def embedding(self, key: str, *, fresh: bool = False) -> EmbeddingModel:
        """A handle to the embedding model ``key`` (loaded on demand, cached)."""
        client = self.client()
        load = self.settings.load_kwargs()
        return self._handle("embedding", key, lambda: client.embedding.model(key, **load), fresh)

    def stream(
        self, key: str, start: Callable[[LLM], PredictionStream]
    ) -> Iterator[PredictionEvent | PredictionResult]:
        """The events of a prediction, then its result.

        ``start`` opens the stream on a model handle. A handle whose instance LM Studio no
        longer knows is replaced once, if nothing was received yet.
        """
        for fresh in (False, True):
            stream = start(self.llm(key, fresh=fresh))
            received = False
            try:
                with stream:
                    for event in stream:
                        received = True
                        yield event
                    result = stream.result()
            except ModelNotFoundError:
                if received or fresh:
                    raise
                logger.debug("model %r is no longer loaded; resolving it again", key)
                continue
            yield result
            return

    def embed(self, key: str, texts: list[str]) -> list[list[float]]:
        """Embeddings of ``texts`` (a stale handle is replaced once)."""
        try:
            return self.embedding(key).embed(texts)
        except ModelNotFoundError:
            return self.embedding(key, fresh=True).embed(texts)

    def close(self) -> None:
        """Close the blocking client (the next call opens a new one)."""
        with self._lock:
            client, self._client = self._client, None
            self._handles.clear()
        if client is not None:
            client.close()

    # -- asyncio -------------------------------------------------------------------------

    def _loop_client(self) -> _LoopClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            for other in [other for other in self._loops if other.is_closed()]:
                del self._loops[other]
            entry = self._loops.get(loop)
            if entry is None or entry.client.closed:
                client = AsyncClient(self.settings.base_url, **self.settings.client_kwargs())
                entry = self._loops[loop] = _LoopClient(client)
                entry.guardian = loop.create_task(
                    self._close_at_shutdown(loop, entry), name="lmstudio-client-closer"
                )
            return entry

    async def _close_at_shutdown(self, loop: asyncio.AbstractEventLoop, entry: _LoopClient) -> None:
        """Wait until the loop shuts down (this task is cancelled), then close the client."""
        try:
            await loop.create_future()
        finally:
            with self._lock:
                if self._loops.get(loop) is entry:
                    del self._loops[loop]
            await entry.client.close()

    async def _ahandle(
        self, kind: str, key: str, load: Callable[[AsyncClient], Awaitable[H]], fresh: bool
    ) -> H:
        entry = self._loop_client()
        cached = None if fresh else entry.handles.get((kind, key))
        if cached is None:
            cached = entry.handles[(kind, key)] = await load(entry.client)
        return cached

    async def allm(self, key: str, *, fresh: bool = False) -> AsyncLLM:
        load = self.settings.load_kwargs()
        return await self._ahandle("llm", key, lambda c: c.llm.model(key, **load), fresh)

    async def aembedding(self, key: str, *, fresh: bool = False) -> AsyncEmbeddingModel:
        load = self.settings.load_kwargs()
        return await self._ahandle(
            "embedding", key, lambda c: c.embedding.model(key, **load), fresh
        )

    async def astream(
        self, key: str, start: Callable[[AsyncLLM], AsyncPredictionStream]
    ) -> AsyncIterator[PredictionEvent | PredictionResult]:
        """Async twin of :meth:`stream`."""
        for fresh in (False, True):
            stream = start(await self.allm(key, fresh=fresh))
            received = False
            try:
                async with stream:
                    async for event in stream:
                        received = True
                        yield event
                    result = await stream.result()
            except ModelNotFoundError:
                if received or fresh:
                    raise
                logger.debug("model %r is no longer loaded; resolving it again", key)
                continue
            yield result
            return

    async def aembed(self, key: str, texts: list[str]) -> list[list[float]]:
        """Async twin of :meth:`embed`."""
        try:
            return await (await self.aembedding(key)).embed(texts)
        except ModelNotFoundError:
            return await (await self.aembedding(key, fresh=True)).embed(texts)

    async def aclose(self) -> None:
        """Close the async client of the running loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.pop(loop, None)
        if entry is not None:
            if entry.guardian is not None:
                entry.guardian.cancel()
            await entry.client.close()


class LMStudioConnection(BaseModel):
    """Where LM Studio is, how to authenticate, and how models get loaded."""

    base_url: str | None = Field(default_factory=from_env("LMSTUDIO_BASE_URL", default=None))
    """LM Studio's address: ``http://host:port``, ``ws://host:port`` or ``host:port``
    (a trailing ``/v1`` is ignored). Default: ``LMSTUDIO_BASE_URL``, else a local LM Studio
    found on its usual ports."""
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

    _clients: Clients | None = PrivateAttr(default=None)

    def _client_settings(self) -> ClientSettings:
        token = self.api_key.get_secret_value().strip() if self.api_key is not None else ""
        load: dict[str, Any] = dict(self.load_config or {})
        if self.context_length is not None:
            load["context_length"] = self.context_length
        if self.gpu_offload is not None:
            load["gpu_offload"] = self.gpu_offload
        return ClientSettings(
            base_url=self.base_url,
            api_token=token or None,
            timeout=self.timeout,
            max_retries=self.max_retries,
            ttl=self.ttl,
            load_config=load,
        )

    @property
    def clients(self) -> Clients:
        """The lazily created clients of this object (new ones if its settings changed,
        e.g. in a ``model_copy(update=...)``)."""
        settings = self._client_settings()
        if self._clients is None or self._clients.settings != settings:
            self._clients = Clients(settings)
        return self._clients

    def close(self) -> None:
        """Close the blocking connection to LM Studio (reopened on the next call).

        Models that this object loaded are unloaded by LM Studio once its connections close.
        """
        if self._clients is not None:
            self._clients.close()

    async def aclose(self) -> None:
        """Close the async connection of the running event loop (reopened on demand)."""
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
