"""What only blocking code does: the reader thread, waiting, locking, sockets.

Hand-written (the other modules of ``_sync/`` are generated from ``_async/``); its asyncio
counterpart is ``_async/_io.py`` with the same names.

A connection is a ``websockets.sync.client`` socket and one reader thread (no hidden event
loop) that routes every frame to the ``queue.SimpleQueue`` of the call or channel it
belongs to (:class:`Router`, under a lock shared with the calling threads). Callers block
on their own mailbox, so any number of threads can share one socket.

A client collected without ``close()`` frees its connections from whatever thread the
collector ran in (:meth:`Connection.release_collected`): the sockets are shut down, which
neither blocks nor takes a lock, and the threads of each connection then end by themselves.
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import logging
import queue
import socket
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync import client as websockets_client

from .._routing import LOST, Router
from ..act import ToolInvocation
from ..config import (
    CLOSE_TIMEOUT,
    GREETING_PATH,
    GREETING_TIMEOUT,
    MAX_MESSAGE_SIZE,
    discovery_candidates,
    is_greeting,
)
from ..errors import DisconnectedError
from ..protocol import ClientConnection
from ..tools import UnsupportedToolError

logger = logging.getLogger("lmstudio_core.transport")

WebSocket = websockets_client.ClientConnection

Mailbox = queue.SimpleQueue[Any]
Lock = threading.Lock


def new_mailbox() -> Mailbox:
    return queue.SimpleQueue()


def receive(mailbox: Mailbox, timeout: float | None) -> Any:
    """The next item of ``mailbox``; ``TimeoutError`` after ``timeout`` seconds."""
    try:
        return mailbox.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError from None


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


def discover() -> tuple[list[tuple[str, int]], str | None]:
    """Probe the local candidates in turn; returns them with the first that answered."""
    candidates = discovery_candidates()
    for host, port in candidates:
        if probe_greeting(host, port):
            return candidates, f"ws://{host}:{port}"
    return candidates, None


def open_socket(url: str, timeout: float | None) -> WebSocket:
    ws = websockets_client.connect(
        url, open_timeout=timeout, max_size=MAX_MESSAGE_SIZE, compression=None,
        close_timeout=CLOSE_TIMEOUT,
    )  # fmt: skip
    # We own the socket's lifetime (closed in Connection.close); entering it tells
    # websockets >= 17.1 that it is managed, as a ``with`` block would.
    ws.__enter__()
    return ws


def receive_frame(ws: WebSocket, timeout: float | None) -> str | bytes:
    return ws.recv(timeout=timeout)


def call_tool(invocation: ToolInvocation) -> Any:
    """Run a plain tool; an ``async`` one needs the asyncio client."""
    assert invocation.function is not None
    value = invocation.function(**invocation.arguments)
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()
        raise UnsupportedToolError(
            f"tool {invocation.request.name!r} is async: use AsyncClient for async tools"
        )
    return value


class Connection(Router):
    """One authenticated socket with its reader thread."""

    def __init__(self, ws: WebSocket, protocol: ClientConnection, namespace: str) -> None:
        super().__init__(protocol, namespace, threading.Lock())
        self.ws = ws
        self.reader = threading.Thread(
            target=self._read, name=f"lmstudio-{namespace}-reader", daemon=True
        )
        self.reader.start()

    def _read(self) -> None:
        cause: BaseException | None = None
        try:
            recv, lock = self.ws.recv, self.lock
            while True:
                text = recv()
                with lock:
                    self.route(text)
        except ConnectionClosed as exc:
            cause = exc
        except BaseException as exc:  # a bug must fail the requests, not hang them
            logger.exception("reader of the %s connection failed", self.namespace)
            cause = exc
        finally:
            self.fail(cause)

    def usable(self) -> bool:
        """Whether requests can go on this connection."""
        return self.alive

    def send(self, text: str) -> None:
        try:
            self.ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise DisconnectedError(LOST) from exc

    def send_quietly(self, text: str) -> None:
        """Send as a best effort (never raises an I/O error)."""
        try:
            self.ws.send(text)
        except (ConnectionClosed, OSError):
            logger.debug("could not send a packet on the %s connection", self.namespace)

    def release_collected(self) -> bool:
        """Free this connection of a client collected unclosed; whether it was open.

        Runs in whatever thread the collector ran in (an application's event loop, say), so
        it must not wait: no closing handshake, no lock (the collector may have interrupted
        a thread holding one). Shutting the socket down wakes websockets' own thread with
        the end of the stream: it closes the socket, and the reader thread, seeing the
        connection closed, ends.
        """
        was_open = self.alive
        self.closing = True
        sock = self.ws.socket
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already closed
                # the plain socket's shutdown: SSLSocket's would also drop its TLS state
                # under websockets' thread
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        else:  # a TLS stream inside a TLS proxy connection: no socket to shut down here
            closer = threading.Thread(target=self.ws.close_socket, daemon=True)
            with contextlib.suppress(RuntimeError):  # no new threads at interpreter exit
                closer.start()
        return was_open

    def close(self) -> None:
        self.closing = True
        try:
            self.ws.close()
        except Exception:  # best effort: the socket may already be gone
            logger.debug("error while closing the %s socket", self.namespace, exc_info=True)
        if threading.current_thread() is not self.reader:
            self.reader.join(CLOSE_TIMEOUT)
