"""What only asyncio does: the reader task, waiting, locking, sockets, a closed loop.

Hand-written (the rest of ``_async/`` is the source of the generated ``_sync/``); its
blocking counterpart is ``_sync/_io.py`` with the same names.

One reader task per connection turns frames into events and puts them in the
``asyncio.Queue`` of the call or channel they belong to (:class:`Router`); any number of
tasks share the socket. A connection is bound to the event loop it connected in. If that
loop is closed without closing the client first (``loop.close()`` right after
``run_until_complete``, as LlamaIndex's ``asyncio_run`` does), the stranded socket is freed
the next time the client is used or closed, from any loop
(:meth:`Connection.release_orphaned`). Cancel packets sent while a task unwinds go out from
a short background task, so cleanup never blocks and never swallows ``CancelledError``.

A client collected without ``close()`` frees its connections from whatever thread the
collector ran in (:meth:`Connection.release_collected`): through its loop, thread-safely,
while that loop may still run; directly once the loop is closed (or the interpreter exits).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import logging
import threading
from types import TracebackType
from typing import Any

from websockets.asyncio import client as websockets_client
from websockets.exceptions import ConnectionClosed

from .._routing import LOST, Router
from ..act import ToolInvocation
from ..config import (
    CLOSE_TIMEOUT,
    GREETING_TIMEOUT,
    MAX_MESSAGE_SIZE,
    discovery_candidates,
    greeting_request,
    is_greeting,
    parse_http_response,
)
from ..errors import DisconnectedError
from ..protocol import ClientConnection

logger = logging.getLogger("lmstudio_core.transport")

WebSocket = websockets_client.ClientConnection

Mailbox = asyncio.Queue[Any]

_RELEASING: set[Connection] = set()
"""Connections that their loop is freeing with nobody waiting for it: a collected client's,
or one whose :meth:`Connection.close` was cut short.

Held strongly: if the loop is closed before it has freed one, the connection is still here
to be released without its loop (:func:`_sweep_released`) instead of being collected with
a pending reader task and an open transport.
"""


def new_mailbox() -> Mailbox:
    return asyncio.Queue()


async def receive(mailbox: Mailbox, timeout: float | None) -> Any:
    """The next item of ``mailbox``; ``TimeoutError`` after ``timeout`` seconds."""
    if not mailbox.empty():
        return mailbox.get_nowait()
    if timeout is None:
        return await mailbox.get()
    async with asyncio.timeout(timeout):
        return await mailbox.get()


class Lock:
    """An ``asyncio.Lock`` for the running loop, made anew when the loop changes.

    A client may outlive the loop it first ran in (one ``asyncio.run`` after another); an
    ``asyncio.Lock`` stays bound to the loop that first waited on it.
    """

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        await self._lock.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._lock is not None
        self._lock.release()


async def probe_greeting(host: str, port: int, timeout: float = GREETING_TIMEOUT) -> bool:
    """Whether LM Studio answers its greeting on ``host:port``."""
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(greeting_request(host, port))
            raw = await reader.read(65536)
            while chunk := await reader.read(65536):
                raw += chunk
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return is_greeting(*parse_http_response(raw))


async def discover() -> tuple[list[tuple[str, int]], str | None]:
    """Probe every local candidate at once; returns them with the first that answered."""
    candidates = discovery_candidates()
    found = await asyncio.gather(*(probe_greeting(host, port) for host, port in candidates))
    for (host, port), ok in zip(candidates, found, strict=True):
        if ok:
            return candidates, f"ws://{host}:{port}"
    return candidates, None


async def open_socket(url: str, timeout: float | None) -> WebSocket:
    return await websockets_client.connect(
        url, open_timeout=timeout, max_size=MAX_MESSAGE_SIZE, compression=None,
        close_timeout=CLOSE_TIMEOUT,
    )  # fmt: skip


async def receive_frame(ws: WebSocket, timeout: float | None) -> str | bytes:
    async with asyncio.timeout(timeout):
        return await ws.recv()


async def call_tool(invocation: ToolInvocation) -> Any:
    """Run a tool, plain or ``async``."""
    assert invocation.function is not None
    value = invocation.function(**invocation.arguments)
    if inspect.isawaitable(value):
        value = await value
    return value


class Connection(Router):
    """One authenticated socket with its reader task."""

    def __init__(self, ws: WebSocket, protocol: ClientConnection, namespace: str) -> None:
        super().__init__(protocol, namespace, contextlib.nullcontext())
        self.ws = ws
        self.background: set[asyncio.Task[None]] = set()
        self.released = False
        self.loop = asyncio.get_running_loop()
        self.reader = asyncio.create_task(self._read(), name=f"lmstudio-{namespace}-reader")
        if _RELEASING:
            _sweep_released()

    async def _read(self) -> None:
        cause: BaseException | None = None
        try:
            while True:  # recv() itself, so that closing this coroutine reaches it
                self.route(await self.ws.recv())
        except ConnectionClosed as exc:
            cause = exc
        except asyncio.CancelledError as exc:
            cause = exc
            raise
        except Exception as exc:  # a bug must fail the requests, not hang them
            if not self.loop.is_closed():
                logger.exception("reader of the %s connection failed", self.namespace)
            cause = exc
        finally:
            self.fail(cause)

    def usable(self) -> bool:
        """Whether requests can go on this connection (frees it if its loop is gone)."""
        if self.orphaned:
            self.release_orphaned()
        if self.released:
            return False
        if asyncio.get_running_loop() is not self.loop:
            raise RuntimeError(
                "this AsyncClient is bound to the event loop it first connected in; "
                "create one AsyncClient per event loop"
            )
        return self.alive

    async def send(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise DisconnectedError(LOST) from exc

    def send_quietly(self, text: str) -> None:
        """Send as a best effort without waiting (used while a cancelled task unwinds)."""
        task = self.loop.create_task(self._send_quietly(text))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _send_quietly(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except (ConnectionClosed, OSError):
            logger.debug("could not send a packet on the %s connection", self.namespace)

    @property
    def orphaned(self) -> bool:
        """Whether the event loop of this connection was closed while it was still open."""
        return self.loop.is_closed() and not self.released

    def release_orphaned(self) -> None:
        """Free the socket and tasks of a connection whose event loop was closed under it.

        Closing a loop without cancelling its tasks (``loop.close()`` after
        ``run_until_complete``) strands the reader, and the socket stays open: a closed loop
        never runs again, so neither the reader nor the socket's own shutdown can finish
        there, and asyncio has no public call that frees a transport without its loop. The
        stranded coroutines are closed here (their cleanup runs, nothing is sent) and the
        socket is closed directly; LM Studio sees the connection drop.
        """
        if self.released:
            return
        self.released = True
        self.closing = True
        self.alive = False
        self.calls.clear()
        self.channels.clear()
        for task in (self.reader, self.ws.keepalive_task, *self.background):
            if task is None or task.done():
                continue
            # Its loop is gone: the task can never finish, so it must not be reported as
            # "destroyed but pending" when it is collected.
            setattr(task, "_log_destroy_pending", False)  # noqa: B010
            coroutine = task.get_coro()
            close = getattr(coroutine, "close", None)
            if callable(close):
                with contextlib.suppress(RuntimeError):  # cleanup needing the closed loop
                    close()
        transport = self.ws.transport
        sock = getattr(transport, "_sock", None)
        if sock is not None:
            transport._sock = None  # type: ignore[attr-defined]  # what connection_lost does
            sock.close()
        logger.debug("released the %s connection of a closed event loop", self.namespace)

    def release_collected(self) -> bool:
        """Free this connection of a client collected unclosed; whether it was open.

        Runs in whatever thread the collector ran in, so it never blocks and never touches
        a running loop directly. If the loop is gone (closed, or the interpreter is exiting
        and no thread runs it), the socket is freed right here (:meth:`release_orphaned`).
        Otherwise the loop is asked, thread-safely, to abort the socket (no closing
        handshake to wait for); the reader then sees the connection end and finishes.
        """
        if self.released:
            return False
        was_open = self.alive
        self.closing = True
        if _RELEASING:
            _sweep_released()
        if self._loop_gone():
            self.release_orphaned()
            return was_open
        _RELEASING.add(self)
        try:
            self.loop.call_soon_threadsafe(self._abort)
        except RuntimeError:  # the loop was closed meanwhile
            _RELEASING.discard(self)
            self.release_orphaned()
        return was_open

    def _loop_gone(self) -> bool:
        """Whether no thread will ever run this connection's loop again."""
        loop = self.loop
        return loop.is_closed() or (not loop.is_running() and _exiting())

    def _abort(self) -> None:
        """On the loop: drop the socket now, no handshake; the reader then ends.

        Until it has, the connection stays in :data:`_RELEASING`, so that a loop closed
        first leaves it to be released without the loop.
        """
        if self.released:
            return
        _RELEASING.add(self)
        self.ws.transport.abort()
        self.reader.add_done_callback(self._forget)

    def _forget(self, _reader: asyncio.Task[None]) -> None:
        _RELEASING.discard(self)

    async def close(self) -> None:
        if self.released:
            return
        if self.orphaned:
            self.release_orphaned()
            return
        self.closing = True
        try:
            try:
                await self.ws.close()
            except Exception:  # best effort: the socket may already be gone
                logger.debug("error while closing the %s socket", self.namespace, exc_info=True)
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await asyncio.gather(self.reader, *self.background, return_exceptions=True)
            except TimeoutError:
                self.reader.cancel()
        except asyncio.CancelledError:
            # Cut short (cancelled again while closing, say as asyncio.run ends): nobody
            # holds this connection any more, so drop the socket rather than strand it.
            self._abort()
            raise


def _exiting() -> bool:
    """Whether the interpreter is exiting: in the main thread, after its threads were joined.

    Then a loop that is not running will never run again (``atexit`` handlers, and so the
    finalizers of clients still alive, run in the main thread after that point).
    """
    main = threading.main_thread()
    return threading.current_thread() is main and not main.is_alive()


def _sweep_released() -> None:
    """Release the connections of collected clients whose loop is gone before freeing them."""
    for conn in list(_RELEASING):
        if conn._loop_gone():
            try:
                _RELEASING.remove(conn)
            except KeyError:  # another thread is releasing it
                continue
            conn.release_orphaned()


# At exit the loops of the connections still waiting stop for good: free them while the
# interpreter is intact, not later when their tasks are destroyed pending.
atexit.register(_sweep_released)
