"""The transport of one namespace: connect, authenticate, calls and channels over one socket.

Theory of operation
-------------------
:class:`Transport` owns the current connection of one namespace and replaces it when it
dies (the next request reconnects). A connection (``_io.Connection``) is a websockets
socket, the sans-I/O :class:`ClientConnection` and one reader that routes every frame to
the mailbox of the call or channel it belongs to. When the socket dies, every pending
mailbox receives a ``ConnectionFailed`` event: waiters raise ``DisconnectedError`` instead
of hanging. I/O exceptions are translated here, chained.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tenacity import AsyncRetrying
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from .._retry import retry_arguments
from ..config import Credentials, RetryPolicy
from ..errors import (
    AuthenticationError,
    ConnectError,
    ProtocolError,
    RequestTimeoutError,
    failure_error,
)
from ..protocol import (
    ABSENT,
    AuthAccepted,
    AuthRejected,
    ChannelClosed,
    ChannelMessage,
    ClientConnection,
    ConnectionFailed,
    RpcSucceeded,
)
from ._io import (
    Connection,
    Lock,
    Mailbox,
    WebSocket,
    discover,
    new_mailbox,
    open_socket,
    receive,
    receive_frame,
)

__all__ = ["CLOSED", "Channel", "Locator", "PendingCall", "Transport", "release_unclosed"]

logger = logging.getLogger("lmstudio_core.transport")

CLOSED: Final = object()
"""Returned by :meth:`Channel.receive` once the server closed the channel normally."""

CLIENT_CLOSED = "this client is closed; create a new one"


class Locator:
    """Resolves the base URL once: the given one, or a local LM Studio found by probing."""

    def __init__(self, base_url: str | None) -> None:
        self._base_url = base_url
        self._lock = Lock()

    async def resolve(self) -> str:
        if self._base_url is not None:
            return self._base_url
        async with self._lock:
            if self._base_url is None:
                candidates, found = await discover()
                if found is None:
                    ports = ", ".join(str(port) for _, port in candidates)
                    raise ConnectError(
                        f"no local LM Studio found (probed ports {ports}). Start LM Studio "
                        "and enable its server, or pass base_url='http://host:port'"
                    )
                logger.debug("found LM Studio at %s", found)
                self._base_url = found
            return self._base_url


def _raise_failure(conn: Connection, event: object, context: str) -> None:
    error = failure_error(event, context)
    if isinstance(event, ConnectionFailed):
        raise error from conn.failure
    raise error


class PendingCall:
    """An RPC in flight; :meth:`wait` returns its result or raises its error."""

    def __init__(self, conn: Connection, call_id: int, mailbox: Mailbox, endpoint: str) -> None:
        self._conn = conn
        self._call_id = call_id
        self._mailbox = mailbox
        self._endpoint = endpoint

    async def wait(self, timeout: float | None) -> Any:
        try:
            event = await receive(self._mailbox, timeout)
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
        self._conn.release_call(self._call_id)


class Channel:
    """An open channel: receive packets, send packets, cancel, release."""

    def __init__(self, conn: Connection, channel_id: int, mailbox: Mailbox, endpoint: str) -> None:
        self._conn = conn
        self.channel_id = channel_id
        self._mailbox = mailbox
        self.endpoint = endpoint
        self.finished = False

    async def receive(self, timeout: float | None) -> Any:
        """The next packet, or :data:`CLOSED`; raises on failure or timeout."""
        try:
            event = await receive(self._mailbox, timeout)
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
        text = self._conn.channel_frame(self.channel_id, message)
        if text is None:
            raise ProtocolError(f"the {self.endpoint!r} channel is no longer open")
        await self._conn.send(text)

    def send_cancel(self) -> None:
        """Ask the server to stop, as a best effort, without raising an I/O error."""
        if self.finished or not self._conn.alive:
            return
        text = self._conn.channel_frame(self.channel_id, {"type": "cancel"})
        if text is not None:
            self._conn.send_quietly(text)

    def release(self) -> None:
        """Stop listening; later packets for this channel are dropped."""
        self._conn.release_channel(self.channel_id)


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
        self._lock = Lock()
        self._conn: Connection | None = None
        self._closed = False
        self.leaked = False
        """Whether the client was collected unclosed while this held an open connection."""

    async def _connection(self) -> Connection:
        conn = self._conn
        if conn is not None and conn.usable():
            return conn
        if self._closed:
            raise RuntimeError(CLIENT_CLOSED)
        async with self._lock:
            if self._closed:
                raise RuntimeError(CLIENT_CLOSED)
            if self._conn is not None:
                if self._conn.usable():
                    return self._conn
                await self._conn.close()
            url = f"{await self._locator.resolve()}/{self.namespace}"
            async for attempt in AsyncRetrying(**retry_arguments(self._retry)):
                with attempt:
                    self._conn = await self._connect(url)
            conn = self._conn
            assert conn is not None
        if self._closed:  # close() ran while this was connecting
            await conn.close()
            raise RuntimeError(CLIENT_CLOSED)
        return conn

    async def _connect(self, url: str) -> Connection:
        timeout = self._connect_timeout
        try:
            ws = await open_socket(url, timeout)
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

    async def _authenticate(self, ws: WebSocket, url: str, timeout: float | None) -> Connection:
        protocol = ClientConnection(self.namespace)
        credentials = self._credentials
        try:
            await ws.send(protocol.authenticate(credentials.identifier, credentials.passkey))
            event = protocol.receive(await receive_frame(ws, timeout))
        except TimeoutError as exc:
            raise ConnectError(f"LM Studio at {url} did not answer authentication") from exc
        except (ConnectionClosed, OSError) as exc:
            raise ConnectError(f"LM Studio at {url} closed the connection: {exc}") from exc
        if isinstance(event, AuthRejected):
            reason = str(event.reason).strip().rstrip(".")
            raise AuthenticationError(
                f"LM Studio rejected the credentials: {reason}. Check the API token "
                "(api_token=..., or the LM_API_TOKEN environment variable).",
                reason=reason,
            )
        if not isinstance(event, AuthAccepted):
            raise ProtocolError(f"unexpected authentication reply from LM Studio: {event}")
        logger.debug("connected to the %s namespace", self.namespace)
        return Connection(ws, protocol, self.namespace)

    # -- requests --------------------------------------------------------------------

    async def _start_call(self, conn: Connection, endpoint: str, parameter: Any) -> PendingCall:
        mailbox = new_mailbox()
        call_id, text = conn.register_call(endpoint, parameter, mailbox)
        await conn.send(text)
        return PendingCall(conn, call_id, mailbox, endpoint)

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
            pending = await self._start_call(await self._connection(), endpoint, parameter)
            return await pending.wait(timeout)
        async for attempt in AsyncRetrying(**retry_arguments(self._retry)):
            with attempt:
                pending = await self._start_call(await self._connection(), endpoint, parameter)
                return await pending.wait(timeout)
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
                in_flight.append((index, await self._start_call(conn, endpoint, parameter)))
            while in_flight:
                done, pending = in_flight.popleft()
                results[done] = await pending.wait(timeout)
        finally:
            for _, pending in in_flight:
                pending.abandon()

    async def open_channel(self, endpoint: str, parameter: Any = ABSENT) -> Channel:
        conn = await self._connection()
        mailbox = new_mailbox()
        channel_id, text = conn.register_channel(endpoint, parameter, mailbox)
        await conn.send(text)
        return Channel(conn, channel_id, mailbox, endpoint)

    async def close(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    def release_collected(self) -> None:
        """Free the connection of a client collected without :meth:`close` (any thread).

        Never blocks: the connection frees its socket and reader in the background
        (``Connection.release_collected``).
        """
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None and conn.release_collected():
            self.leaked = True


def release_unclosed(transports: Mapping[str, Transport]) -> None:
    """The finalizer of a client collected without ``close()``: free its connections.

    It gets the client's transports, never the client itself (which it would keep alive),
    runs in whatever thread the collector ran in (or at interpreter exit) and must neither
    block nor raise.
    """
    for transport in list(transports.values()):
        try:
            transport.release_collected()
        except Exception:  # a finalizer has nobody to report to
            logger.debug("could not free the %s connection", transport.namespace, exc_info=True)
