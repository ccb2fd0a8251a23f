"""The clients of one model object, leased from the shared pool, and its model handles.

Theory of operation
-------------------
Nothing connects until the first request. A :class:`ModelClients` belongs to one framework
model object; it leases the blocking client and, per running event loop, the async client
from the process-wide :data:`~lmstudio_integrations._pool.POOL` (shared by every model
object with the same connection settings; see that module). ``close()`` / ``aclose()``
give the leases back, and so does a finalizer when the object is collected unclosed, so a
model object built per request holds nothing once dropped.

Clients passed in by the caller are used as they are, never pooled and never closed here.

Model handles (``getOrLoad`` with the load options and TTL) are cached on the pooled entry
per kind, key and load options. A handle whose instance LM Studio no longer knows (it was
unloaded, or evicted by JIT auto-evict when another model was loaded on demand) is resolved
again once: for a prediction only if nothing was received yet, for an embedding request
always (it is idempotent).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
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

from ._pool import POOL, AsyncEntry, ClientPool, ConnectionKey, SyncEntry

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
    api_token: str | None = field(default=None, repr=False)
    timeout: Timeouts | float | None = None
    max_retries: int | None = None
    load: Mapping[str, Any] = field(default_factory=dict)

    def connection_key(self) -> ConnectionKey:
        return ConnectionKey(self.base_url, self.api_token, self.timeout, self.max_retries)

    def load_key(self) -> str:
        """The load options as a key of the handle cache."""
        return json.dumps(self.load, sort_keys=True, default=repr)


class _Leases:
    """The pool entries one model object holds; given back by ``close()`` or by the
    finalizer of the object (so this must not refer to the object)."""

    def __init__(self, pool: ClientPool) -> None:
        self.pool = pool
        self.lock = threading.Lock()
        self.sync: SyncEntry | None = None
        self.loops: dict[asyncio.AbstractEventLoop, AsyncEntry] = {}

    def release_sync(self, *, wait: bool) -> None:
        with self.lock:
            entry, self.sync = self.sync, None
        if entry is not None:
            self.pool.release(entry, wait=wait)

    def release_loop(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[None] | None:
        with self.lock:
            entry = self.loops.pop(loop, None)
        return None if entry is None else self.pool.arelease(entry)

    def release_closed_loops(self) -> None:
        with self.lock:
            closed = [loop for loop in self.loops if loop.is_closed()]
        for loop in closed:
            self.release_loop(loop)

    def release_all(self) -> None:
        """The finalizer: give everything back without waiting (deferred while the pool is
        locked, see :meth:`ClientPool.defer`)."""
        self.pool.defer(self._release_all)

    def _release_all(self) -> None:
        self.release_sync(wait=False)
        with self.lock:
            entries, self.loops = list(self.loops.values()), {}
        for entry in entries:
            self.pool.arelease(entry)


class ModelClients:
    """The clients of one framework model object (see the module docstring).

    Args:
        settings: Where LM Studio is and how to load models.
        client: A blocking client to use instead of a pooled one (never closed here).
        async_client: An async client to use in every loop instead of pooled ones (never
            closed here).
        pool: The pool to lease from (the process-wide one by default).
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        pool: ClientPool = POOL,
    ) -> None:
        self.settings = settings
        self._key = settings.connection_key()
        self._load_key = settings.load_key()
        self._injected_client = client
        self._injected_async_client = async_client
        self._injected_handles: dict[tuple[Any, ...], Any] = {}
        self._injected_lock: asyncio.Lock | None = None
        self._infos: dict[tuple[Kind, str], LoadedModelInfo] = {}
        self._leases = _Leases(pool)
        self._finalizer = weakref.finalize(self, self._leases.release_all)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    def info(self, kind: Kind, key: str) -> LoadedModelInfo | None:
        """The description of the model ``key`` from the last handle resolved, if any
        (a dictionary lookup: no I/O)."""
        return self._infos.get((kind, key))

    def _remember(self, kind: Kind, key: str, handle: Any) -> None:
        info = getattr(handle, "info", None)
        if isinstance(info, LoadedModelInfo):
            self._infos[(kind, key)] = info

    # -- blocking ----------------------------------------------------------------------

    def _sync_entry(self) -> tuple[Client, dict[tuple[Any, ...], Any], threading.Lock]:
        if self._injected_client is not None:
            return self._injected_client, self._injected_handles, self._leases.lock
        self._leases.release_closed_loops()
        leases = self._leases
        with leases.lock:
            entry = leases.sync
            if entry is not None and not entry.client.closed:
                return entry.client, entry.handles, entry.lock
        fresh = leases.pool.acquire(self._key)
        with leases.lock:
            stale, leases.sync = leases.sync, fresh
        if stale is not None:
            leases.pool.release(stale)
        return fresh.client, fresh.handles, fresh.lock

    def client(self) -> Client:
        """The blocking client (leased on first use)."""
        return self._sync_entry()[0]

    def _handle(self, kind: Kind, key: str, load: Callable[[Client], H], fresh: bool) -> H:
        client, handles, lock = self._sync_entry()
        cache_key = (kind, key, self._load_key)
        with lock:
            cached = None if fresh else handles.get(cache_key)
        if cached is None:
            cached = load(client)
            with lock:
                handles[cache_key] = cached
        self._remember(kind, key, cached)
        return cached

    def llm(self, key: str, *, fresh: bool = False) -> LLM:
        """A handle to the LLM ``key`` (loaded on demand, cached)."""
        load = self.settings.load
        return self._handle("llm", key, lambda c: c.llm.model(key, **load), fresh)

    def embedding(self, key: str, *, fresh: bool = False) -> EmbeddingModel:
        """A handle to the embedding model ``key`` (loaded on demand, cached)."""
        load = self.settings.load
        return self._handle("embedding", key, lambda c: c.embedding.model(key, **load), fresh)

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
        """Give back the blocking client (closed if no other model object uses it) and the
        async clients of event loops that were closed meanwhile. A later call leases
        again."""
        self._leases.release_sync(wait=True)
        self._leases.release_closed_loops()
        self._leases.pool.sweep()

    # -- asyncio -----------------------------------------------------------------------

    def _loop_entry(self) -> AsyncEntry | None:
        """The leased entry of the running loop (``None`` with an injected client)."""
        if self._injected_async_client is not None:
            return None
        self._leases.release_closed_loops()
        loop = asyncio.get_running_loop()
        leases = self._leases
        with leases.lock:
            entry = leases.loops.get(loop)
            if entry is not None and not entry.client.closed:
                return entry
        fresh = leases.pool.aacquire(self._key)
        with leases.lock:
            stale, leases.loops[loop] = leases.loops.get(loop), fresh
        if stale is not None:
            leases.pool.arelease(stale)
        return fresh

    async def async_client(self) -> AsyncClient:
        """The async client of the running event loop."""
        entry = self._loop_entry()
        if entry is None:
            assert self._injected_async_client is not None
            return self._injected_async_client
        return entry.client

    async def _ahandle(
        self, kind: Kind, key: str, load: Callable[[AsyncClient], Awaitable[H]], fresh: bool
    ) -> H:
        entry = self._loop_entry()
        if entry is None:
            assert self._injected_async_client is not None
            if self._injected_lock is None:
                self._injected_lock = asyncio.Lock()
            client, handles, lock = self._injected_async_client, {}, self._injected_lock
        else:
            client, handles, lock = entry.client, entry.handles, entry.lock
        cache_key = (kind, key, self._load_key)
        cached = None if fresh else handles.get(cache_key)
        if cached is None:
            async with lock:  # concurrent first calls load the model once
                cached = None if fresh else handles.get(cache_key)
                if cached is None:
                    cached = handles[cache_key] = await load(client)
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
        """Give back the async client of the running loop (closed if no other model object
        uses it; unless it was passed in), and those of event loops closed meanwhile."""
        self._leases.release_closed_loops()
        self._leases.pool.sweep()
        guard = self._leases.release_loop(asyncio.get_running_loop())
        if guard is None:
            return
        try:
            await guard
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
