"""The process-wide pool of LM Studio clients that every model object of both adapters uses.

Theory of operation
-------------------
Model objects are cheap and disposable: web apps build one per request. They hold
settings, not connections. The connections live here, keyed by what defines a connection
(address, token, timeouts, retries): one blocking :class:`~lmstudio_core.Client` per key,
and one :class:`~lmstudio_core.AsyncClient` per key and event loop (an async client is
bound to the loop it connected in). Every model object with the same settings shares
them, and so do the model handles (``getOrLoad`` results) cached on each entry.

Each model object takes a *lease* on an entry when it first needs it and gives it back when
it is closed or garbage-collected (a ``weakref.finalize``, so a dropped object frees what it
alone held). An entry whose last lease is given back is closed:

- a blocking client at once (from a short daemon thread when a finalizer gives it back:
  a collecting thread may be an event loop's and must not wait for a closing handshake);
- an async client by cancelling its *guard*, a task that waits in the entry's loop and
  closes the client when cancelled. ``asyncio.run`` and ``asyncio.Runner`` cancel every
  task before closing their loop, so the guard also closes the client when its loop ends.
  The pool holds the guard, so it is never collected while pending.

A loop closed without cancelling its tasks (LlamaIndex's ``asyncio_run`` runs a coroutine
in a fresh loop and then just closes it) strands its entries. Every later acquisition, in
any loop or thread, sweeps them: lmstudio-core frees the sockets of a closed loop without
running it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lmstudio_core import AsyncClient, Client, Timeouts

__all__ = ["POOL", "AsyncEntry", "ClientPool", "ConnectionKey", "SyncEntry"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectionKey:
    """What makes two connections the same one."""

    base_url: str | None
    api_token: str | None = field(default=None, repr=False)
    timeout: Timeouts | float | None = None
    max_retries: int | None = None

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"api_token": self.api_token, "timeout": self.timeout}
        if self.max_retries is not None:
            kwargs["max_retries"] = self.max_retries
        return kwargs


@dataclass(eq=False, slots=True)
class SyncEntry:
    """A shared blocking client and its model handles."""

    key: ConnectionKey
    client: Client
    leases: int = 0
    handles: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(eq=False, slots=True)
class AsyncEntry:
    """A shared async client of one event loop and its model handles."""

    key: ConnectionKey
    client: AsyncClient
    loop: asyncio.AbstractEventLoop
    leases: int = 0
    handles: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    guard: asyncio.Task[None] | None = None


class ClientPool:
    """The shared clients (see the module docstring); :data:`POOL` is the one in use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[Callable[[], object]] = deque()
        self._sync: dict[ConnectionKey, SyncEntry] = {}
        self._async: dict[tuple[ConnectionKey, asyncio.AbstractEventLoop], AsyncEntry] = {}
        self._retired: set[AsyncEntry] = set()  # unleased, waiting for their guard to run

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            yield
        self._drain()

    def defer(self, action: Callable[[], object]) -> None:
        """Run ``action`` (a release) as soon as no thread holds the pool's lock.

        For finalizers: the collector can run one at any allocation, also in a thread that
        holds the lock (building a client inside :meth:`acquire`, say), where taking the
        lock again would deadlock. The action then waits until that thread lets go.
        """
        self._pending.append(action)
        self._drain()

    def _drain(self) -> None:
        while self._pending:
            if not self._lock.acquire(blocking=False):
                return  # whoever holds it drains when it lets go
            self._lock.release()
            try:
                action = self._pending.popleft()
            except IndexError:
                return
            try:
                action()
            except Exception:  # a finalizer's release has nobody to report to
                logger.debug("releasing a collected model object's client failed", exc_info=True)

    def stats(self) -> tuple[int, int]:
        """How many blocking and async clients the pool holds (leased or closing)."""
        with self._locked():
            return len(self._sync), len(self._async) + len(self._retired)

    # -- blocking ----------------------------------------------------------------------

    def acquire(self, key: ConnectionKey) -> SyncEntry:
        """A lease on the blocking client of ``key`` (built on first use)."""
        self.sweep()
        with self._locked():
            entry = self._sync.get(key)
            if entry is None or entry.client.closed:
                client = Client(key.base_url, **key.client_kwargs())
                entry = self._sync[key] = SyncEntry(key, client)
            entry.leases += 1
            return entry

    def release(self, entry: SyncEntry, *, wait: bool = True) -> None:
        """Give a lease back; the last one closes the client (in the background unless
        ``wait``)."""
        with self._locked():
            entry.leases -= 1
            if entry.leases > 0:
                return
            if self._sync.get(entry.key) is entry:
                del self._sync[entry.key]
        if wait:
            entry.client.close()
            return
        try:
            threading.Thread(
                target=entry.client.close, name="lmstudio-client-close", daemon=True
            ).start()
        except RuntimeError:  # interpreter shutdown: no new threads
            entry.client.close()

    # -- asyncio -----------------------------------------------------------------------

    def aacquire(self, key: ConnectionKey) -> AsyncEntry:
        """A lease on the async client of ``key`` for the running loop."""
        loop = asyncio.get_running_loop()
        self.sweep()
        with self._locked():
            entry = self._async.get((key, loop))
            if entry is None or entry.client.closed:
                client = AsyncClient(key.base_url, **key.client_kwargs())
                entry = self._async[(key, loop)] = AsyncEntry(key, client, loop)
                entry.guard = loop.create_task(self._guard(entry), name="lmstudio-client-guard")
            entry.leases += 1
            return entry

    async def _guard(self, entry: AsyncEntry) -> None:
        """Wait until cancelled (last lease given back, or the loop shutting down), then
        close the entry's client."""
        try:
            await entry.loop.create_future()
        except asyncio.CancelledError:
            self._forget(entry)
            await entry.client.close()
            raise

    def _forget(self, entry: AsyncEntry) -> None:
        with self._locked():
            self._retired.discard(entry)
            if self._async.get((entry.key, entry.loop)) is entry:
                del self._async[(entry.key, entry.loop)]

    def arelease(self, entry: AsyncEntry) -> asyncio.Task[None] | None:
        """Give a lease back, from any thread; the last one closes the client.

        Returns the guard when it was cancelled in the running loop (await it to wait for
        the close)."""
        with self._locked():
            entry.leases -= 1
            if entry.leases > 0:
                return None
            # New leases get a new client from now on; this one stays known until its
            # guard has closed it (swept if its loop closes before the guard runs).
            if self._async.get((entry.key, entry.loop)) is entry:
                del self._async[(entry.key, entry.loop)]
            guard = entry.guard
            if guard is not None and not guard.done():
                self._retired.add(entry)
        if guard is None or guard.done():
            return None
        if guard.cancelling():  # closing already: a second cancel would cut the close short
            return guard if _running_loop() is entry.loop else None
        if entry.loop.is_closed():
            self._forget(entry)
            self._close_stranded([entry])
            return None
        if _running_loop() is entry.loop:
            guard.cancel()
            return guard
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: swept later
            entry.loop.call_soon_threadsafe(guard.cancel)
        return None

    def sweep(self) -> None:
        """Close the async clients of event loops that were closed under them."""
        if not self._async and not self._retired:
            return
        with self._locked():
            stranded = [entry for entry in self._async.values() if entry.loop.is_closed()]
            for entry in stranded:
                del self._async[(entry.key, entry.loop)]
            retired = [entry for entry in self._retired if entry.loop.is_closed()]
            self._retired.difference_update(retired)
            stranded += retired
        if stranded:
            logger.debug("closing %d client(s) of closed event loops", len(stranded))
            self._close_stranded(stranded)

    def _close_stranded(self, entries: Iterable[AsyncEntry]) -> None:
        """Close clients whose loop is closed. lmstudio-core frees the sockets of a closed
        loop without waiting for anything, so the close runs here and now, in whatever
        thread this is: a task scheduled in another loop might never run."""
        for entry in entries:
            _drop_stranded_task(entry.guard)
            close = entry.client.close()
            try:
                close.send(None)
            except StopIteration:
                continue
            close.close()  # it waited for something: only a live loop could finish that
            logger.debug("could not close a client of a closed event loop")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _drop_stranded_task(task: asyncio.Task[None] | None) -> None:
    """Discard a task of a closed loop: it can never run again, so it must not be reported
    as destroyed while pending when it is collected (the SDK does the same for its own)."""
    if task is None or task.done():
        return
    setattr(task, "_log_destroy_pending", False)  # noqa: B010
    coroutine = task.get_coro()
    if isinstance(coroutine, Coroutine):
        coroutine.close()  # the guard does nothing on GeneratorExit


POOL = ClientPool()
"""The pool every model object uses."""
