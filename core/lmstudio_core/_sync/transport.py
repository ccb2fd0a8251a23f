"""Blocking transport: one socket per namespace, one reader thread, a mailbox per id.

Theory of operation
-------------------
:class:`Transport` owns the current :class:`_Connection` of one namespace and replaces
it when it dies (the next request reconnects). A connection is a
``websockets.sync.client`` socket, the sans-I/O :class:`ClientConnection`, and one reader
thread that turns every frame into an event and puts it in the mailbox (a
``queue.SimpleQueue``) of the call or channel it belongs to. Callers block on their own
mailbox, so any number of threads can share one socket. When the socket dies, every
pending mailbox receives a ``ConnectionFailed`` event: waiters raise
``DisconnectedError`` instead of hanging. I/O exceptions are translated here, chained.
"""

from __future__ import annotations

import http.client
import logging
import queue
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, Final

from tenacity import Retrying
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.sync.client import ClientConnection as WebSocket
from websockets.sync.client import connect

from .._retry import retry_arguments
from ..config import (
    CLOSE_TIMEOUT,
    GREETING_PATH,
    GREETING_TIMEOUT,
    MAX_MESSAGE_SIZE,
    Credentials,
    RetryPolicy,
    discovery_candidates,
    is_greeting,
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

Mailbox = queue.SimpleQueue[Any]


def probe_greeting(host: str, port: int, timeout: float = GREETING_TIMEOUT) -> bool:
    """Whether LM Studio answers its greeting on ``host:port``."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", GREETING_PATH)
        response = conn.getresponse()
        return is_greeting(response.status, response.read(4096))
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class Locator:
    """Resolves the base URL once: the given one, or a local LM Studio found by probing."""

    def __init__(self, base_url: str | None) -> None:
        self._base_url = base_url
        self._lock = threading.Lock()

    def resolve(self) -> str:
        if self._base_url is not None:
            return self._base_url
        with self._lock:
            if self._base_url is None:
                self._base_url = self._discover()
            return self._base_url

    @staticmethod
    def _discover() -> str:
        candidates = discovery_candidates()
        for host, port in candidates:
            if probe_greeting(host, port):
                logger.debug("found LM Studio on port %d", port)
                return f"ws://{host}:{port}"
        ports = ", ".join(str(port) for _, port in candidates)
        raise ConnectError(
            f"no local LM Studio found (probed ports {ports}). Start LM Studio and enable "
            "its server, or pass base_url='http://host:port'"
        )


class _Connection:
    """One authenticated socket with its reader thread and mailboxes."""

    def __init__(self, ws: WebSocket, protocol: ClientConnection, namespace: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.namespace = namespace
        self.lock = threading.Lock()
        self.calls: dict[int, Mailbox] = {}
        self.channels: dict[int, Mailbox] = {}
        self.alive = True
        self.closing = False
        self.failure: BaseException | None = None
        self.reader = threading.Thread(
            target=self._read, name=f"lmstudio-{namespace}-reader", daemon=True
        )
        self.reader.start()

    # -- reader ----------------------------------------------------------------------

    def _read(self) -> None:
        cause: BaseException | None = None
        try:
            while True:
                text = self.ws.recv()
                with self.lock:
                    event = self.protocol.receive(text)
                    self._route(event)
        except ConnectionClosed as exc:
            cause = exc
        except BaseException as exc:  # a bug must fail the requests, not hang them
            logger.exception("reader of the %s connection failed", self.namespace)
            cause = exc
        finally:
            self._fail(cause)

    def _route(self, event: ClientEvent) -> None:
        if isinstance(event, ChannelMessage):
            mailbox = self.channels.get(event.channel_id)
            if mailbox is not None:
                mailbox.put(event)
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
            mailbox.put(event)

    def _fail(self, cause: BaseException | None) -> None:
        reason = "the client was closed" if self.closing else "the connection to LM Studio was lost"
        with self.lock:
            self.alive = False
            self.failure = cause
            self.protocol.fail_all(reason)
            pending = [*self.calls.items()], [*self.channels.items()]
            self.calls.clear()
            self.channels.clear()
        for call_id, mailbox in pending[0]:
            mailbox.put(ConnectionFailed(call_id, None, reason))
        for channel_id, mailbox in pending[1]:
            mailbox.put(ConnectionFailed(None, channel_id, reason))
        if not self.closing:
            logger.debug("%s connection ended: %r", self.namespace, cause)

    # -- callers ---------------------------------------------------------------------

    def send(self, text: str) -> None:
        try:
            self.ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise DisconnectedError("the connection to LM Studio was lost") from exc

    def start_call(self, endpoint: str, parameter: Any) -> PendingCall:
        mailbox: Mailbox = queue.SimpleQueue()
        with self.lock:
            if not self.alive:
                raise DisconnectedError("the connection to LM Studio was lost") from self.failure
            call_id, text = self.protocol.call(endpoint, parameter)
            self.calls[call_id] = mailbox
        self.send(text)
        return PendingCall(self, call_id, mailbox, endpoint)

    def open_channel(self, endpoint: str, parameter: Any) -> Channel:
        mailbox: Mailbox = queue.SimpleQueue()
        with self.lock:
            if not self.alive:
                raise DisconnectedError("the connection to LM Studio was lost") from self.failure
            channel_id, text = self.protocol.open_channel(endpoint, parameter)
            self.channels[channel_id] = mailbox
        self.send(text)
        return Channel(self, channel_id, mailbox, endpoint)

    def close(self) -> None:
        self.closing = True
        try:
            self.ws.close()
        except Exception:  # best effort: the socket may already be gone
            logger.debug("error while closing the %s socket", self.namespace, exc_info=True)
        if threading.current_thread() is not self.reader:
            self.reader.join(CLOSE_TIMEOUT)


def _raise_failure(conn: _Connection, event: object, context: str) -> None:
    error = failure_error(event, context)
    if isinstance(event, ConnectionFailed):
        raise error from conn.failure
    raise error


class PendingCall:
    """An RPC in flight; :meth:`wait` returns its result or raises its error."""

    def __init__(self, conn: _Connection, call_id: int, mailbox: Mailbox, endpoint: str) -> None:
        self._conn = conn
        self._call_id = call_id
        self._mailbox = mailbox
        self._endpoint = endpoint

    def wait(self, timeout: float | None) -> Any:
        try:
            event = self._mailbox.get(timeout=timeout)
        except queue.Empty:
            self._abandon()
            raise RequestTimeoutError(
                f"LM Studio did not answer {self._endpoint!r} within {timeout} s"
            ) from None
        except BaseException:
            self._abandon()
            raise
        if isinstance(event, RpcSucceeded):
            return event.result
        _raise_failure(self._conn, event, f"{self._endpoint} failed")

    def _abandon(self) -> None:
        with self._conn.lock:
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

    def receive(self, timeout: float | None) -> Any:
        """The next packet, or :data:`CLOSED`; raises on failure or timeout."""
        try:
            event = self._mailbox.get(timeout=timeout)
        except queue.Empty:
            raise RequestTimeoutError(
                f"no {self.endpoint!r} packet from LM Studio within {timeout} s"
            ) from None
        if type(event) is ChannelMessage:
            return event.message
        self.finished = True
        if isinstance(event, ChannelClosed):
            return CLOSED
        _raise_failure(self._conn, event, f"{self.endpoint} failed")

    def send(self, message: Any) -> None:
        with self._conn.lock:
            text = self._conn.protocol.send_on_channel(self.channel_id, message)
        if text is None:
            raise ProtocolError(f"the {self.endpoint!r} channel is no longer open")
        self._conn.send(text)

    def send_cancel(self) -> None:
        """Ask the server to stop, as a best effort (never raises an I/O error)."""
        if self.finished or not self._conn.alive:
            return
        try:
            self.send({"type": "cancel"})
        except (DisconnectedError, ProtocolError):
            logger.debug("could not send cancel on channel %d", self.channel_id)

    def release(self) -> None:
        """Stop listening; later packets for this channel are dropped."""
        with self._conn.lock:
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
        self._lock = threading.Lock()
        self._conn: _Connection | None = None
        self._closed = False

    def _connection(self) -> _Connection:
        conn = self._conn
        if conn is not None and conn.alive:
            return conn
        with self._lock:
            if self._closed:
                raise RuntimeError("this client is closed; create a new one")
            if self._conn is not None and self._conn.alive:
                return self._conn
            if self._conn is not None:
                self._conn.close()
            url = f"{self._locator.resolve()}/{self.namespace}"
            for attempt in Retrying(**retry_arguments(self._retry)):
                with attempt:
                    self._conn = self._connect(url)
            assert self._conn is not None
            return self._conn

    def _connect(self, url: str) -> _Connection:
        timeout = self._connect_timeout
        try:
            ws = connect(
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
        # We own the socket's lifetime (closed in _Connection.close); entering it tells
        # websockets >= 17.1 that it is managed, as a ``with`` block would.
        ws.__enter__()
        try:
            return self._authenticate(ws, url, timeout)
        except BaseException:
            ws.close()
            raise

    def _authenticate(self, ws: WebSocket, url: str, timeout: float | None) -> _Connection:
        protocol = ClientConnection(self.namespace)
        try:
            ws.send(protocol.authenticate(self._credentials.identifier, self._credentials.passkey))
            event = protocol.receive(ws.recv(timeout=timeout))
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

    def call(
        self,
        endpoint: str,
        parameter: Any = ABSENT,
        *,
        timeout: float | None,
        idempotent: bool = False,
    ) -> Any:
        """Run one RPC; idempotent ones are retried after a dropped connection."""
        if not idempotent:
            return self._connection().start_call(endpoint, parameter).wait(timeout)
        for attempt in Retrying(**retry_arguments(self._retry)):
            with attempt:
                return self._connection().start_call(endpoint, parameter).wait(timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    def call_many(
        self, endpoint: str, parameters: Sequence[Any], *, timeout: float | None, window: int
    ) -> list[Any]:
        """Run idempotent RPCs with up to ``window`` in flight; results in input order."""
        results: list[Any] = [ABSENT] * len(parameters)
        for attempt in Retrying(**retry_arguments(self._retry)):
            with attempt:
                self._pipeline(endpoint, parameters, results, timeout, window)
        return results

    def _pipeline(
        self,
        endpoint: str,
        parameters: Sequence[Any],
        results: list[Any],
        timeout: float | None,
        window: int,
    ) -> None:
        conn = self._connection()
        in_flight: deque[tuple[int, PendingCall]] = deque()
        try:
            for index, parameter in enumerate(parameters):
                if results[index] is not ABSENT:
                    continue
                if len(in_flight) >= window:
                    done, pending = in_flight.popleft()
                    results[done] = pending.wait(timeout)
                in_flight.append((index, conn.start_call(endpoint, parameter)))
            while in_flight:
                done, pending = in_flight.popleft()
                results[done] = pending.wait(timeout)
        finally:
            for _, pending in in_flight:
                pending._abandon()

    def open_channel(self, endpoint: str, parameter: Any = ABSENT) -> Channel:
        return self._connection().open_channel(endpoint, parameter)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
