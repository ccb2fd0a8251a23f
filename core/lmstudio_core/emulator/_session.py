"""One authenticated WebSocket: event routing, dispatch and task ownership.

Each RPC call and channel runs in its own task owned by the session; when the socket
closes, every task is cancelled and awaited, so nothing outlives the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from websockets.asyncio.server import ServerConnection as WebSocket
from websockets.exceptions import ConnectionClosed

from ..protocol import (
    ChannelAcked,
    ChannelMessage,
    ChannelRequested,
    KeepAliveRequested,
    PeerWarning,
    ProtocolViolation,
    RpcRequested,
    ServerConnection,
    SignalRequested,
    UnknownMessage,
)
from ._endpoint import Channel, ConnectionGone, Endpoint, Request
from ._errors import EmulatorError
from ._record import CancelRecord, RequestRecord
from ._state import EmulatorState

__all__ = ["Session", "send_frames"]

logger = logging.getLogger(__name__)


class Session:
    """Server side of one authenticated namespace socket."""

    def __init__(
        self,
        state: EmulatorState,
        websocket: WebSocket,
        connection: ServerConnection,
        endpoints: Mapping[str, Endpoint],
        client: str,
    ) -> None:
        self.state = state
        self.websocket = websocket
        self.connection = connection
        self.namespace = connection.namespace
        self.endpoints = endpoints
        self.client = client
        self._tasks: set[asyncio.Task[None]] = set()
        self._channels: dict[int, tuple[Endpoint, Channel]] = {}
        self._closed = False
        self._outbox: list[str] = []

    # -- sending -----------------------------------------------------------------------

    async def send_text(self, text: str | None) -> None:
        """Send a frame (after any queued ones); ``None`` only flushes the queue."""
        if text is None and not self._outbox:
            return
        if self._closed:
            raise ConnectionGone()
        if text is not None:
            self._outbox.append(text)
        await self._write()

    def queue_channel_encoded(self, channel_id: int, packet_json: str) -> None:
        """Queue a pre-encoded channel packet; the next send or :meth:`flush` writes it.

        Whoever queues must flush before awaiting anything else (a prediction flushes
        before every yield), so frames of other tasks never overtake queued ones.
        """
        frame = self.connection.channel_send_encoded(channel_id, packet_json)
        if frame is None or self._closed:
            raise ConnectionGone()
        self._outbox.append(frame)

    async def flush(self) -> None:
        """Write the queued frames, if any."""
        if self._outbox:
            await self.send_text(None)

    async def _write(self) -> None:
        frames, self._outbox = self._outbox, []
        try:
            if len(frames) == 1:
                await self.websocket.send(frames[0])
            else:
                await send_frames(self.websocket, frames)
        except ConnectionClosed:
            self._closed = True
            raise ConnectionGone() from None

    async def send_channel(self, channel_id: int, packet: Mapping[str, Any]) -> None:
        frame = self.connection.channel_send(channel_id, packet)
        if frame is None:
            raise ConnectionGone()
        await self.send_text(frame)

    async def warn(self, text: str, kind: str | None) -> None:
        logger.debug("%s: communicationWarning %s", self.namespace, kind)
        with contextlib.suppress(ConnectionGone):
            await self.send_text(self.connection.warning(text, kind))

    async def send_raw(self, message: Mapping[str, Any]) -> None:
        await self.send_text(self.connection.raw(dict(message)))

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (fault injection)."""
        self._closed = True
        self._outbox.clear()
        transport = self.websocket.transport
        if transport is not None:
            transport.abort()

    # -- receiving ---------------------------------------------------------------------

    async def run(self) -> None:
        """Serve frames until the socket closes, then end every task."""
        try:
            async for frame in self.websocket:
                self._record_frame(frame)
                await self._on_event(self.connection.receive(frame))
        except (ConnectionClosed, ConnectionGone):
            pass
        finally:
            self._closed = True
            await self._end_tasks()

    def _record_frame(self, frame: str | bytes) -> None:
        try:
            decoded = json.loads(frame)
        except ValueError:
            decoded = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        self.state.record.add_frame(self.namespace, self.client, decoded)

    async def _end_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._channels.clear()

    async def _on_event(self, event: object) -> None:
        match event:
            case RpcRequested():
                await self._on_rpc(event)
            case ChannelRequested():
                await self._on_channel(event)
            case ChannelMessage(channel_id=cid, message=payload):
                await self._on_channel_packet(cid, payload)
            case KeepAliveRequested():
                await self.send_text(self.connection.keep_alive_ack())
            case ProtocolViolation(description=text, warning_kind=kind):
                if kind is not None:
                    await self.warn(text, kind)
            case UnknownMessage(message_type=message_type):
                await self.warn(f"Received message of unknown type {message_type!r}", "unknown")
            case SignalRequested(endpoint=endpoint, writable=writable):
                kind = "writableSignalEndpointUnknown" if writable else "signalEndpointUnknown"
                await self.warn(f"Unknown signal endpoint, endpointName = {endpoint}", kind)
            case PeerWarning(warning=text, kind=kind):
                logger.debug("%s: client warning %s: %s", self.namespace, kind, text)
            case ChannelAcked():
                pass
            case _:
                logger.debug("%s: ignored event %r", self.namespace, type(event).__name__)

    # -- RPC ---------------------------------------------------------------------------

    async def _on_rpc(self, event: RpcRequested) -> None:
        endpoint = self.endpoints.get(event.endpoint)
        if endpoint is None or endpoint.kind != "rpc":
            text = f"Received rpcCall for unknown endpoint, endpointName = {event.endpoint}"
            await self._reject_rpc(event.call_id, text, "rpcEndpointUnknown")
            return
        params = self._parse(endpoint, event.parameter, event.has_parameter)
        if isinstance(params, str):
            text = (
                f"Received invalid parameter for rpcCall, endpointName = {event.endpoint}: {params}"
            )
            await self._reject_rpc(event.call_id, text, "rpcParameterTypeError")
            return
        self._record(endpoint, event.call_id, event.parameter)
        self._spawn(self._serve_rpc(endpoint, event.call_id, params))

    async def _reject_rpc(self, call_id: int, text: str, kind: str) -> None:
        await self.warn(text, kind)
        if self.state.settings.strict:
            await self.send_text(self.connection.rpc_error(call_id, {"title": text}))

    async def _serve_rpc(self, endpoint: Endpoint, call_id: int, params: Any) -> None:
        request = Request(self, endpoint.name, call_id)
        try:
            await self._before(endpoint.name)
            result = await endpoint.handler(request, params)
        except ConnectionGone:
            return
        except EmulatorError as exc:
            logger.debug("%s.%s #%d failed: %s", self.namespace, endpoint.name, call_id, exc)
            await self._finish(self.connection.rpc_error(call_id, exc.to_wire()))
            return
        except Exception as exc:
            logger.exception("%s.%s #%d crashed", self.namespace, endpoint.name, call_id)
            await self._finish(self.connection.rpc_error(call_id, {"title": str(exc)}))
            return
        await self._finish(self.connection.rpc_result(call_id, result))

    async def _before(self, endpoint: str) -> None:
        """Apply armed faults that act before a request is handled."""
        faults = self.state.faults
        if faults.take_request_drop(self.namespace, endpoint):
            logger.debug("%s.%s: dropping the connection (fault)", self.namespace, endpoint)
            self.abort()
            raise ConnectionGone()
        unknown = faults.take_unknown_message(self.namespace, endpoint)
        if unknown is not None:
            await self.send_raw(unknown)
        delay = faults.delay_for(self.namespace, endpoint)
        if delay > 0:
            await asyncio.sleep(delay)
        error = faults.take_error(self.namespace, endpoint)
        if error is not None:
            raise error

    # -- channels ------------------------------------------------------------------------

    async def _on_channel(self, event: ChannelRequested) -> None:
        endpoint = self.endpoints.get(event.endpoint)
        cid = event.channel_id
        if endpoint is None or endpoint.kind != "channel":
            text = f"Received channelCreate for unknown endpoint, endpointName = {event.endpoint}"
            await self._reject_channel(cid, text, "channelEndpointUnknown")
            return
        params = self._parse(endpoint, event.creation_parameter, event.has_creation_parameter)
        if isinstance(params, str):
            text = (
                "Received invalid creationParameter for channelCreate, "
                f"endpointName = {event.endpoint}: {params}"
            )
            await self._reject_channel(cid, text, "channelCreationParameterTypeError")
            return
        self._record(endpoint, cid, event.creation_parameter)
        self.connection.accept_channel(cid)
        ch = Channel(self, endpoint.name, cid, endpoint.counted_type)
        self._channels[cid] = (endpoint, ch)
        self._spawn(self._serve_channel(endpoint, ch, params))

    async def _reject_channel(self, channel_id: int, text: str, kind: str) -> None:
        await self.warn(text, kind)
        if self.state.settings.strict:
            self.connection.accept_channel(channel_id)
            await self.send_text(self.connection.channel_error(channel_id, {"title": text}))

    async def _serve_channel(self, endpoint: Endpoint, ch: Channel, params: Any) -> None:
        cid = ch.channel_id
        try:
            await self._before(endpoint.name)
            await ch.first_packet_faults()
            await endpoint.handler(ch, params)
        except ConnectionGone:
            return
        except EmulatorError as exc:
            logger.debug("%s.%s channel %d failed: %s", self.namespace, endpoint.name, cid, exc)
            await self._finish(self.connection.channel_error(cid, exc.to_wire()))
        except Exception as exc:
            logger.exception("%s.%s channel %d crashed", self.namespace, endpoint.name, cid)
            await self._finish(self.connection.channel_error(cid, {"title": str(exc)}))
        else:
            await self._finish(self.connection.channel_close(cid))
        finally:
            self._channels.pop(cid, None)

    async def _finish(self, frame: str | None) -> None:
        with contextlib.suppress(ConnectionGone):
            await self.send_text(frame)

    async def _on_channel_packet(self, channel_id: int, payload: Any) -> None:
        entry = self._channels.get(channel_id)
        if entry is None:
            await self.warn(
                f"Received channelSend for unknown channel, channelId = {channel_id}",
                "channelUnknown",
            )
            return
        endpoint, ch = entry
        packet_type = payload.get("type") if isinstance(payload, dict) else None
        if packet_type not in endpoint.client_packets:
            await self.warn(
                f"Received invalid message for channel, endpointName = {endpoint.name}, "
                f"channelId = {channel_id}",
                "channelMessageTypeError",
            )
            return
        self.state.record.add_cancel(
            CancelRecord(self.namespace, endpoint.name, channel_id, self.client, packet_type)
        )
        ch.deliver(payload)

    # -- helpers ---------------------------------------------------------------------

    def _parse(self, endpoint: Endpoint, raw: Any, present: bool) -> Any:
        """The validated parameter, or a description of why it is invalid."""
        model: type[BaseModel] | None = endpoint.params
        if model is None:
            return None if not present else "this endpoint takes no parameter"
        if not present:
            return "parameter is missing"
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "parameter"
            return f"{where}: {first['msg']}"

    def _record(self, endpoint: Endpoint, request_id: int, parameter: Any) -> None:
        logger.debug("%s: %s %s #%d", self.namespace, endpoint.kind, endpoint.name, request_id)
        self.state.record.add_request(
            RequestRecord(
                self.namespace, endpoint.kind, endpoint.name, request_id, self.client, parameter
            )
        )

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def send_frames(websocket: WebSocket, frames: list[str]) -> None:
    """Send text messages in order with one write to the socket (instead of one each).

    Same frames and the same flow control and error handling as ``websocket.send`` per
    message (``send_context`` checks the state, then waits for the buffer to drain), but
    one system call for the lot. Used for bursts of fragments at an unlimited token rate.
    """
    protocol, transport = websocket.protocol, websocket.transport
    async with websocket.send_context():
        for frame in frames:
            protocol.send_text(frame.encode())
        chunks = protocol.data_to_send()
        if all(chunks):
            transport.write(b"".join(chunks))
            return
        for chunk in chunks:  # an end-of-stream marker (not expected while open)
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()
