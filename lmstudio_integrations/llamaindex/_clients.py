"""Lazily built SDK clients and model handles for the LlamaIndex classes.

Theory of operation
-------------------
Nothing connects until the first request. The blocking :class:`~lmstudio_core.Client`
is built once and shared by every thread. An :class:`~lmstudio_core.AsyncClient` is bound
to the event loop it connected in, so there is one per running loop, built on first use in
that loop. Each owned async client has a small *guard* task in its loop: when the loop
shuts down (``asyncio.run`` or ``asyncio.Runner`` cancel every task before closing the
loop), the guard closes the client's sockets instead of leaking them; ``aclose()`` stops
the guard of the current loop the same way. Clients passed in by the caller are used as
they are and never closed here.

Each client keeps the model handle it resolved (``getOrLoad`` with the load options and
TTL), and the description of the model it got (context length, tool use) for metadata.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lmstudio_core import AsyncClient, Client, LoadedModelInfo, Timeouts

__all__ = ["DEFAULT_TTL", "ClientSettings", "ModelClients"]

logger = logging.getLogger(__name__)

DEFAULT_TTL = 3600.0
"""Seconds an idle model loaded by these classes stays loaded (the SDK's default too)."""

H = TypeVar("H")  # a blocking model handle (LLM, EmbeddingModel)
AH = TypeVar("AH")  # an asyncio model handle (AsyncLLM, AsyncEmbeddingModel)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How to reach LM Studio (``None`` keeps the SDK's default)."""

    base_url: str | None = None
    api_token: str | None = None
    timeout: Timeouts | float | None = None
    max_retries: int | None = None

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"api_token": self.api_token, "timeout": self.timeout}
        if self.max_retries is not None:
            kwargs["max_retries"] = self.max_retries
        return kwargs


@dataclass(slots=True)
class _LoopEntry(Generic[AH]):
    client: AsyncClient
    owned: bool
    handle: AH | None = None
    guard: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ModelClients(Generic[H, AH]):
    """The clients of one LlamaIndex object and the model handles they resolved."""

    def __init__(
        self,
        settings: ClientSettings,
        load: Callable[[Client], H],
        aload: Callable[[AsyncClient], Awaitable[AH]],
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
    ) -> None:
        self._settings = settings
        self._load = load
        self._aload = aload
        self._injected_client = client
        self._injected_async_client = async_client
        self._lock = threading.Lock()
        self._client: Client | None = client
        self._handle: H | None = None
        self._loops: dict[asyncio.AbstractEventLoop, _LoopEntry[AH]] = {}
        self.info: LoadedModelInfo | None = None
        """The description of the model from the last handle resolved (``None`` before)."""

    # -- blocking ----------------------------------------------------------------------

    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = Client(self._settings.base_url, **self._settings.client_kwargs())
            return self._client

    def model(self, *, refresh: bool = False) -> H:
        """The blocking model handle (loading the model on first use)."""
        client = self.client()
        with self._lock:
            handle = self._handle
        if handle is None or refresh:
            handle = self._load(client)
            with self._lock:
                self._handle = handle
            self._remember(handle)
        return handle

    def close(self) -> None:
        """Close the blocking client (unless it was passed in)."""
        with self._lock:
            client, self._client = self._client, self._injected_client
            self._handle = None
        if client is not None and client is not self._injected_client:
            client.close()

    # -- asyncio -----------------------------------------------------------------------

    def _entry(self) -> _LoopEntry[AH]:
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.get(loop)
            if entry is not None and not entry.client.closed:
                return entry
            for stale in [other for other in self._loops if other.is_closed()]:
                logger.debug("dropping the async client of a closed event loop")
                del self._loops[stale]
            injected = self._injected_async_client
            if injected is not None:
                entry = _LoopEntry(injected, owned=False)
            else:
                client = AsyncClient(self._settings.base_url, **self._settings.client_kwargs())
                entry = _LoopEntry(client, owned=True)
                entry.guard = loop.create_task(
                    self._guard(loop, entry), name="lmstudio-llamaindex-client-guard"
                )
            self._loops[loop] = entry
            return entry

    async def _guard(self, loop: asyncio.AbstractEventLoop, entry: _LoopEntry[AH]) -> None:
        """Wait until cancelled (``aclose()`` or the loop shutting down), then close."""
        try:
            await loop.create_future()
        finally:
            with self._lock:
                if self._loops.get(loop) is entry:
                    del self._loops[loop]
            await entry.client.close()

    def async_client(self) -> AsyncClient:
        """The async client of the running event loop."""
        return self._entry().client

    async def amodel(self, *, refresh: bool = False) -> AH:
        """The async model handle of the running event loop."""
        entry = self._entry()
        if entry.handle is None or refresh:
            async with entry.lock:
                if entry.handle is None or refresh:
                    entry.handle = await self._aload(entry.client)
                    self._remember(entry.handle)
        return entry.handle

    async def aclose(self) -> None:
        """Close the async client of the running loop (unless it was passed in)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.get(loop)
        if entry is None or entry.guard is None:
            with self._lock:
                self._loops.pop(loop, None)
            return
        entry.guard.cancel()
        try:
            await entry.guard
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    def _remember(self, handle: Any) -> None:
        info = getattr(handle, "info", None)
        if isinstance(info, LoadedModelInfo):
            self.info = info
