"""Lazily built LM Studio clients and model handles, shared by both adapters.

Theory of operation
-------------------
Nothing connects until the first request. The blocking :class:`~lmstudio_core.Client` is
built once per model object and shared by every thread. An
:class:`~lmstudio_core.AsyncClient` is bound to the event loop it connected in, so there
is one per running loop, built on first use in that loop.

Closing the async clients:

- ``asyncio.run`` and ``asyncio.Runner`` cancel every task before closing their loop: a
  small *guard* task per owned client waits for that cancellation and closes the client.
- ``aclose()`` closes the client of the running loop the same way.
- A loop closed without cancelling its tasks (LlamaIndex's ``asyncio_run`` runs a
  coroutine in a fresh loop and then just closes it) strands the client's sockets. The
  next use of the model object, in any loop or thread, and ``close()`` find such loops
  and close their clients; lmstudio-core frees the sockets of a closed loop without
  running it.

Clients passed in by the caller are used as they are and never closed here.

Model handles (``getOrLoad`` with the load options and TTL) are cached per client and key.
A handle whose instance LM Studio no longer knows (it was unloaded, or evicted by JIT
auto-evict when another model was loaded on demand) is resolved again once: for a
prediction only if nothing was received yet, for an embedding request always (it is
idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from lmstudio_core import (
    LLM,
    AsyncClient,
    AsyncEmbeddingModel,
    AsyncLLM,
    AsyncPredictionStream,
    Client,
    EmbeddingModel,
    LoadedModelInfo,
    ModelNotFoundError,
    PredictionEvent,
    PredictionResult,
    PredictionStream,
    Timeouts,
)

__all__ = ["ClientSettings", "ModelClients"]

logger = logging.getLogger(__name__)

Kind = Literal["llm", "embedding"]
H = TypeVar("H")


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How to reach LM Studio and how models get loaded (``None``: the SDK's default).

    Attributes:
        base_url: LM Studio's address (``None``: ``LMSTUDIO_BASE_URL``, else discovery).
        api_token: An ``sk-lm-...`` token (``None``: from the environment).
        timeout: Seconds for every timeout, or a :class:`~lmstudio_core.Timeouts`.
        max_retries: Retries for connecting and idempotent requests.
        load: Keyword arguments of ``client.llm.model(key, ...)`` (``ttl``, ``config``).
    """

    base_url: str | None = None
    api_token: str | None = None
    timeout: Timeouts | float | None = None
    max_retries: int | None = None
    load: Mapping[str, Any] = field(default_factory=dict)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"api_token": self.api_token, "timeout": self.timeout}
        if self.max_retries is not None:
            kwargs["max_retries"] = self.max_retries
        return kwargs


@dataclass(slots=True)
class _LoopClient:
    """The async client of one event loop and its model handles."""

    client: AsyncClient
    owned: bool
    handles: dict[tuple[Kind, str], Any] = field(default_factory=dict)
    guard: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ModelClients:
    """The clients of one framework model object (see the module docstring).

    Args:
        settings: Where LM Studio is and how to load models.
        client: A blocking client to use instead of building one (never closed here).
        async_client: An async client to use in every loop instead of building one per
            loop (never closed here).
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self._injected_client = client
        self._injected_async_client = async_client
        self._lock = threading.Lock()
        self._client: Client | None = client
        self._handles: dict[tuple[Kind, str], Any] = {}
        self._loops: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        self._infos: dict[tuple[Kind, str], LoadedModelInfo] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def info(self, kind: Kind, key: str) -> LoadedModelInfo | None:
        """The description of the model ``key`` from the last handle resolved, if any."""
        return self._infos.get((kind, key))

    def _remember(self, kind: Kind, key: str, handle: Any) -> None:
        info = getattr(handle, "info", None)
        if isinstance(info, LoadedModelInfo):
            self._infos[(kind, key)] = info

    # -- blocking ----------------------------------------------------------------------

    def client(self) -> Client:
        """The blocking client (built on first use)."""
        self._close_clients_of_closed_loops()
        with self._lock:
            if self._client is None or self._client.closed:
                self._client = Client(self.settings.base_url, **self.settings.client_kwargs())
                self._handles.clear()
            return self._client

    def _handle(self, kind: Kind, key: str, load: Callable[[], H], fresh: bool) -> H:
        with self._lock:
            cached = None if fresh else self._handles.get((kind, key))
        if cached is None:
            cached = load()
            with self._lock:
                self._handles[(kind, key)] = cached
            self._remember(kind, key, cached)
        return cached

    def llm(self, key: str, *, fresh: bool = False) -> LLM:
        """A handle to the LLM ``key`` (loaded on demand, cached)."""
        client = self.client()
        return self._handle("llm", key, lambda: client.llm.model(key, **self.settings.load), fresh)

    def embedding(self, key: str, *, fresh: bool = False) -> EmbeddingModel:
        """A handle to the embedding model ``key`` (loaded on demand, cached)."""
        client = self.client()
        return self._handle(
            "embedding", key, lambda: client.embedding.model(key, **self.settings.load), fresh
        )

    def stream(
        self, key: str, start: Callable[[LLM], PredictionStream]
    ) -> Generator[PredictionEvent | PredictionResult, None, None]:
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
            logger.debug("embedding model %r is no longer loaded; resolving it again", key)
            return self.embedding(key, fresh=True).embed(texts)

    def close(self) -> None:
        """Close the blocking client (unless it was passed in) and the async clients of
        event loops that were closed meanwhile. A later call reconnects."""
        with self._lock:
            client, self._client = self._client, self._injected_client
            self._handles.clear()
        if client is not None and client is not self._injected_client:
            client.close()
        self._close_clients_of_closed_loops()

    # -- asyncio -----------------------------------------------------------------------

    def _take_closed_loops(self) -> list[_LoopClient]:
        """Forget the clients of closed event loops; the owned ones, to be closed."""
        with self._lock:
            closed = [loop for loop in self._loops if loop.is_closed()]
            entries = [self._loops.pop(loop) for loop in closed]
        return [entry for entry in entries if entry.owned]

    def _close_clients_of_closed_loops(self) -> None:
        """Free the sockets of clients whose loop was closed without closing them
        (lmstudio-core does it without their loop, so any loop can run the close)."""
        if not self._loops:
            return
        entries = self._take_closed_loops()
        if not entries:
            return
        logger.debug("closing %d client(s) of closed event loops", len(entries))
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is None:
            loop = asyncio.new_event_loop()  # not the thread's current loop: left untouched
            try:
                for entry in entries:
                    loop.run_until_complete(entry.client.close())
            finally:
                loop.close()
            return
        for entry in entries:
            task = running.create_task(entry.client.close(), name="lmstudio-client-close")
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _loop_client(self) -> _LoopClient:
        for stale in self._take_closed_loops():
            logger.debug("closing the async client of a closed event loop")
            await stale.client.close()
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.get(loop)
            if entry is not None and not entry.client.closed:
                return entry
            injected = self._injected_async_client
            if injected is not None:
                entry = self._loops[loop] = _LoopClient(injected, owned=False)
                return entry
            client = AsyncClient(self.settings.base_url, **self.settings.client_kwargs())
            entry = self._loops[loop] = _LoopClient(client, owned=True)
            entry.guard = loop.create_task(
                self._close_at_shutdown(loop, entry), name="lmstudio-client-guard"
            )
            return entry

    async def _close_at_shutdown(self, loop: asyncio.AbstractEventLoop, entry: _LoopClient) -> None:
        """Wait until cancelled (``aclose()`` or the loop shutting down), then close."""
        try:
            await loop.create_future()
        finally:
            with self._lock:
                if self._loops.get(loop) is entry:
                    del self._loops[loop]
            await entry.client.close()

    async def async_client(self) -> AsyncClient:
        """The async client of the running event loop."""
        return (await self._loop_client()).client

    async def _ahandle(
        self, kind: Kind, key: str, load: Callable[[AsyncClient], Awaitable[H]], fresh: bool
    ) -> H:
        entry = await self._loop_client()
        cached = None if fresh else entry.handles.get((kind, key))
        if cached is None:
            async with entry.lock:  # concurrent first calls load the model once
                cached = None if fresh else entry.handles.get((kind, key))
                if cached is None:
                    cached = entry.handles[(kind, key)] = await load(entry.client)
                    self._remember(kind, key, cached)
        return cached

    async def allm(self, key: str, *, fresh: bool = False) -> AsyncLLM:
        """Async twin of :meth:`llm`."""
        load = self.settings.load
        return await self._ahandle("llm", key, lambda c: c.llm.model(key, **load), fresh)

    async def aembedding(self, key: str, *, fresh: bool = False) -> AsyncEmbeddingModel:
        """Async twin of :meth:`embedding`."""
        load = self.settings.load
        return await self._ahandle(
            "embedding", key, lambda c: c.embedding.model(key, **load), fresh
        )

    async def astream(
        self, key: str, start: Callable[[AsyncLLM], AsyncPredictionStream]
    ) -> AsyncGenerator[PredictionEvent | PredictionResult, None]:
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
            logger.debug("embedding model %r is no longer loaded; resolving it again", key)
            return await (await self.aembedding(key, fresh=True)).embed(texts)

    async def aclose(self) -> None:
        """Close the async client of the running loop (unless it was passed in), and
        those of event loops that were closed meanwhile."""
        for stale in self._take_closed_loops():
            await stale.client.close()
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.pop(loop, None)
        if entry is None or entry.guard is None:
            return
        entry.guard.cancel()
        try:
            await entry.guard
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
