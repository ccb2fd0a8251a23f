"""Asyncio transport: one socket per namespace, one reader task, a mailbox per id.

Theory of operation
-------------------
The mirror of ``_sync/transport.py`` on ``websockets.asyncio.client``. One reader task
per connection turns frames into events and puts them in the ``asyncio.Queue`` of the
call or channel they belong to; any number of tasks share the socket. When the socket
dies every pending mailbox receives ``ConnectionFailed`` (waiters raise
``DisconnectedError``). The transport is bound to the event loop it first connected in.
If that loop is closed without closing the client first (``loop.close()`` right after
``run_until_complete``, as LlamaIndex's ``asyncio_run`` does), the stranded socket is freed
the next time the client is used or closed, from any loop (:meth:`_Connection.release_orphaned`).
Cancel packets sent while a task unwinds are sent from a short background task, so
cleanup never blocks and never swallows ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any, Final

from tenacity import AsyncRetrying
from websockets.asyncio.client import ClientConnection as WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from .._retry import retry_arguments
from ..config import (
    CLOSE_TIMEOUT,
    GREETING_TIMEOUT,
    MAX_MESSAGE_SIZE,
    Credentials,
    RetryPolicy,
    discovery_candidates,
    greeting_request,
    is_greeting,
    parse_http_response,
)
from ..errors import (
    AuthenticationError,
    ConnectError,
    DisconnectedError,
    ProtocolError,
    RequestTimeoutError,
    failure_error,
)
from ..protocol import (
    ABSENT,
    AuthAccepted,
    AuthRejected,
    ChannelClosed,
    ChannelFailed,
    ChannelMessage,
    ClientConnection,
    ClientEvent,
    ConnectionFailed,
    PeerWarning,
    ProtocolViolation,
    RpcFailed,
    RpcSucceeded,
    UnknownMessage,
)

__all__ = ["CLOSED", "Channel", "Locator", "PendingCall", "Transport"]

logger = logging.getLogger(__name__)

CLOSED: Final = object()
"""Returned by :meth:`Channel.receive` once the server closed the channel normally."""

Mailbox = asyncio.Queue[Any]


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


class Locator:
    """Resolves the base URL once: the given one, or a local LM Studio found by probing."""

    def __init__(self, base_url: str | None) -> None:
        self._base_url = base_url
        self._lock: asyncio.Lock | None = None

    async def resolve(self) -> str:
        if self._base_url is not None:
            return self._base_url
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._base_url is None:
                self._base_url = await self._discover()
            return self._base_url

    @staticmethod
    async def _discover() -> str:
        candidates = discovery_candidates()
        found = await asyncio.gather(*(probe_greeting(host, port) for host, port in candidates))
        for (host, port), ok in zip(candidates, found, strict=True):
            if ok:
                logger.debug("found LM Studio on port %d", port)
                return f"ws://{host}:{port}"
        ports = ", ".join(str(port) for _, port in candidates)
        raise ConnectError(
            f"no local LM Studio found (probed ports {ports}). Start LM Studio and enable "
            "its server, or pass base_url='http://host:port'"
        )


class _Connection:
    """One authenticated socket with its reader task and mailboxes."""

    def __init__(self, ws: WebSocket, protocol: ClientConnection, namespace: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.namespace = namespace
        self.calls: dict[int, Mailbox] = {}
        self.channels: dict[int, Mailbox] = {}
        self.alive = True
        self.closing = False
        self.failure: BaseException | None = None
        self.background: set[asyncio.Task[None]] = set()
        self.released = False
        self.loop = asyncio.get_running_loop()
        self.reader = asyncio.create_task(self._read(), name=f"lmstudio-{namespace}-reader")

    # -- reader ----------------------------------------------------------------------

    async def _read(self) -> None:
        cause: BaseException | None = None
        try:
            while True:  # recv() itself, so that closing this coroutine reaches it
                self._route(self.protocol.receive(await self.ws.recv()))
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
            self._fail(cause)

    def _route(self, event: ClientEvent) -> None:
        if isinstance(event, ChannelMessage):
            mailbox = self.channels.get(event.channel_id)
            if mailbox is not None:
                mailbox.put_nowait(event)
        elif isinstance(event, RpcSucceeded | RpcFailed):
            self._deliver(self.calls, event.call_id, event)
        elif isinstance(event, ChannelClosed | ChannelFailed):
            self._deliver(self.channels, event.channel_id, event)
        elif isinstance(event, ProtocolViolation):
            if event.call_id is not None:
                self._deliver(self.calls, event.call_id, event)
            elif event.channel_id is not None:
                self._deliver(self.channels, event.channel_id, event)
            else:
                logger.debug("%s: ignored: %s", self.namespace, event.description)
        elif isinstance(event, PeerWarning):
            # A cancel racing the end of its channel is expected: not worth a warning.
            level = logging.DEBUG if event.kind == "channelUnknown" else logging.WARNING
            logger.log(level, "LM Studio reported a protocol problem: %s", event.warning)
        elif isinstance(event, UnknownMessage):
            logger.warning("ignored unknown message type %r from LM Studio", event.message_type)
        else:
            logger.debug("%s: ignored %s", self.namespace, type(event).__name__)

    @staticmethod
    def _deliver(mailboxes: dict[int, Mailbox], key: int, event: object) -> None:
        mailbox = mailboxes.pop(key, None)
        if mailbox is not None:
            mailbox.put_nowait(event)

    def _fail(self, cause: BaseException | None) -> None:
        reason = "the client was closed" if self.closing else "the connection to LM Studio was lost"
        self.alive = False
        self.failure = cause
        self.protocol.fail_all(reason)
        for call_id, mailbox in self.calls.items():
            mailbox.put_nowait(ConnectionFailed(call_id, None, reason))
        for channel_id, mailbox in self.channels.items():
            mailbox.put_nowait(ConnectionFailed(None, channel_id, reason))
        self.calls.clear()
        self.channels.clear()
        if not self.closing:
            logger.debug("%s connection ended: %r", self.namespace, cause)

    # -- callers ---------------------------------------------------------------------

    def check_loop(self) -> None:
        if asyncio.get_running_loop() is not self.loop:
            raise RuntimeError(
                "this AsyncClient is bound to the event loop it first connected in; "
                "create one AsyncClient per event loop"
            )

    async def send(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise DisconnectedError("the connection to LM Studio was lost") from exc

    def send_in_background(self, text: str) -> None:
        """Send without waiting (used while a cancelled task unwinds)."""
        task = self.loop.create_task(self._send_quietly(text))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _send_quietly(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except (ConnectionClosed, OSError):
            logger.debug("could not send a packet on the %s connection", self.namespace)

    async def start_call(self, endpoint: str, parameter: Any) -> PendingCall:
        if not self.alive:
            raise DisconnectedError("the connection to LM Studio was lost") from self.failure
        call_id, text = self.protocol.call(endpoint, parameter)
        mailbox: Mailbox = asyncio.Queue()
        self.calls[call_id] = mailbox
        await self.send(text)
        return PendingCall(self, call_id, mailbox, endpoint)

    async def open_channel(self, endpoint: str, parameter: Any) -> Channel:
        if not self.alive:
            raise DisconnectedError("the connection to LM Studio was lost") from self.failure
        channel_id, text = self.protocol.open_channel(endpoint, parameter)
        mailbox: Mailbox = asyncio.Queue()
        self.channels[channel_id] = mailbox
        await self.send(text)
        return Channel(self, channel_id, mailbox, endpoint)

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

    async def close(self) -> None:
        if self.orphaned:
            self.release_orphaned()
            return
        self.closing = True
        try:
            await self.ws.close()
        except Exception:  # best effort: the socket may already be gone
            logger.debug("error while closing the %s socket", self.namespace, exc_info=True)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await asyncio.gather(self.reader, *self.background, return_exceptions=True)
        except TimeoutError:
            self.reader.cancel()


def _raise_failure(conn: _Connection, event: object, context: str) -> None:
    error = failure_error(event, context)
    if isinstance(event, ConnectionFailed):
        raise error from conn.failure
    raise error


async def _get(mailbox: Mailbox, timeout: float | None) -> Any:
    if not mailbox.empty():
        return mailbox.get_nowait()
    if timeout is None:
        return await mailbox.get()
    async with asyncio.timeout(timeout):
        return await mailbox.get()


class PendingCall:
    """An RPC in flight; :meth:`wait` returns its result or raises its error."""

    def __init__(self, conn: _Connection, call_id: int, mailbox: Mailbox, endpoint: str) -> None:
        self._conn = conn
        self._call_id = call_id
        self._mailbox = mailbox
        self._endpoint = endpoint

    async def wait(self, timeout: float | None) -> Any:
        try:
            event = await _get(self._mailbox, timeout)
        except TimeoutError:
            self.abandon()
            raise RequestTimeoutError(
                f"LM Studio did not answer {self._endpoint!r} within {timeout} s"
            ) from None
        except BaseException:
            self.abandon()
            raise
        if isinstance(event, RpcSucceeded):
            return event.result
        _raise_failure(self._conn, event, f"{self._endpoint} failed")

    def abandon(self) -> None:
        self._conn.calls.pop(self._call_id, None)
        self._conn.protocol.release_call(self._call_id)


class Channel:
    """An open channel: receive packets, send packets, cancel, release."""

    def __init__(self, conn: _Connection, channel_id: int, mailbox: Mailbox, endpoint: str) -> None:
        self._conn = conn
        self.channel_id = channel_id
        self._mailbox = mailbox
        self.endpoint = endpoint
        self.finished = False

    async def receive(self, timeout: float | None) -> Any:
        """The next packet, or :data:`CLOSED`; raises on failure or timeout."""
        try:
            event = await _get(self._mailbox, timeout)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no {self.endpoint!r} packet from LM Studio within {timeout} s"
            ) from None
        if type(event) is ChannelMessage:
            return event.message
        self.finished = True
        if isinstance(event, ChannelClosed):
            return CLOSED
        _raise_failure(self._conn, event, f"{self.endpoint} failed")

    async def send(self, message: Any) -> None:
        text = self._conn.protocol.send_on_channel(self.channel_id, message)
        if text is None:
            raise ProtocolError(f"the {self.endpoint!r} channel is no longer open")
        await self._conn.send(text)

    def send_cancel(self) -> None:
        """Ask the server to stop, as a best effort, without waiting."""
        if self.finished or not self._conn.alive:
            return
        text = self._conn.protocol.send_on_channel(self.channel_id, {"type": "cancel"})
        if text is not None:
            self._conn.send_in_background(text)

    def release(self) -> None:
        """Stop listening; later packets for this channel are dropped."""
        self._conn.channels.pop(self.channel_id, None)
        self._conn.protocol.release_channel(self.channel_id)


class Transport:
    """The connection of one namespace, opened lazily and reopened after a drop."""

    def __init__(
        self,
        namespace: str,
        locator: Locator,
        credentials: Credentials,
        connect_timeout: float | None,
        retry: RetryPolicy,
    ) -> None:
        self.namespace = namespace
        self._locator = locator
        self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._retry = retry
        self._lock: asyncio.Lock | None = None
        self._conn: _Connection | None = None
        self._closed = False

    async def _connection(self) -> _Connection:
        conn = self._conn
        if conn is not None and conn.orphaned:
            # The loop it connected in was closed without closing this client: free the
            # old socket and connect again in the running loop.
            conn.release_orphaned()
            self._conn = None
            self._lock = None
        elif conn is not None and conn.alive:
            conn.check_loop()
            return conn
        if self._closed:
            raise RuntimeError("this client is closed; create a new one")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                raise RuntimeError("this client is closed; create a new one")
            if self._conn is not None and self._conn.alive:
                return self._conn
            if self._conn is not None:
                self._conn.check_loop()
                await self._conn.close()
            url = f"{await self._locator.resolve()}/{self.namespace}"
            async for attempt in AsyncRetrying(**retry_arguments(self._retry)):
                with attempt:
                    self._conn = await self._connect(url)
            assert self._conn is not None
            return self._conn

    async def _connect(self, url: str) -> _Connection:
        timeout = self._connect_timeout
        try:
            ws = await connect(
                url, open_timeout=timeout, max_size=MAX_MESSAGE_SIZE, compression=None,
                close_timeout=CLOSE_TIMEOUT,
            )  # fmt: skip
        except InvalidURI as exc:
            raise ValueError(f"invalid LM Studio URL {url!r}: {exc}") from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise ConnectError(
                f"cannot connect to LM Studio at {url}: {exc}. Is LM Studio running with "
                "its server enabled?"
            ) from exc
        try:
            return await self._authenticate(ws, url, timeout)
        except BaseException:
            await ws.close()
            raise

    async def _authenticate(self, ws: WebSocket, url: str, timeout: float | None) -> _Connection:
        protocol = ClientConnection(self.namespace)
        credentials = self._credentials
        try:
            await ws.send(protocol.authenticate(credentials.identifier, credentials.passkey))
            async with asyncio.timeout(timeout):
                event = protocol.receive(await ws.recv())
        except TimeoutError as exc:
            raise ConnectError(f"LM Studio at {url} did not answer authentication") from exc
        except (ConnectionClosed, OSError) as exc:
            raise ConnectError(f"LM Studio at {url} closed the connection: {exc}") from exc
        if isinstance(event, AuthRejected):
            raise AuthenticationError(
                f"LM Studio rejected the credentials: {event.reason}. Check the API token "
                "(api_token=..., or the LM_API_TOKEN environment variable)"
            )
        if not isinstance(event, AuthAccepted):
            raise ProtocolError(f"unexpected authentication reply from LM Studio: {event}")
        logger.debug("connected to the %s namespace", self.namespace)
        return _Connection(ws, protocol, self.namespace)

    # -- requests --------------------------------------------------------------------

    async def call(
        self,
        endpoint: str,
        parameter: Any = ABSENT,
        *,
        timeout: float | None,
        idempotent: bool = False,
    ) -> Any:
        """Run one RPC; idempotent ones are retried after a dropped connection."""
        if not idempotent:
            conn = await self._connection()
            return await (await conn.start_call(endpoint, parameter)).wait(timeout)
        async for attempt in AsyncRetrying(**retry_arguments(self._retry)):
            with attempt:
                conn = await self._connection()
                return await (await conn.start_call(endpoint, parameter)).wait(timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    async def call_many(
        self, endpoint: str, parameters: Sequence[Any], *, timeout: float | None, window: int
    ) -> list[Any]:
        """Run idempotent RPCs with up to ``window`` in flight; results in input order."""
        results: list[Any] = [ABSENT] * len(parameters)
        async for attempt in AsyncRetrying(**retry_arguments(self._retry)):
            with attempt:
                await self._pipeline(endpoint, parameters, results, timeout, window)
        return results

    async def _pipeline(
        self,
        endpoint: str,
        parameters: Sequence[Any],
        results: list[Any],
        timeout: float | None,
        window: int,
    ) -> None:
        conn = await self._connection()
        in_flight: deque[tuple[int, PendingCall]] = deque()
        try:
            for index, parameter in enumerate(parameters):
                if results[index] is not ABSENT:
                    continue
                if len(in_flight) >= window:
                    done, pending = in_flight.popleft()
                    results[done] = await pending.wait(timeout)
                in_flight.append((index, await conn.start_call(endpoint, parameter)))
            while in_flight:
                done, pending = in_flight.popleft()
                results[done] = await pending.wait(timeout)
        finally:
            for _, pending in in_flight:
                pending.abandon()

    async def open_channel(self, endpoint: str, parameter: Any = ABSENT) -> Channel:
        conn = await self._connection()
        return await conn.open_channel(endpoint, parameter)

    async def close(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
