"""Endpoint definitions and the contexts their handlers receive.

An :class:`Endpoint` names a handler, its kind (RPC or channel) and the pydantic model
of its parameter (``None`` for a void endpoint). RPC handlers return the result
(:data:`ABSENT` for void); channel handlers send packets through their
:class:`Channel` and return to close it. Either raises :class:`EmulatorError` to fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from ..protocol import ABSENT

if TYPE_CHECKING:
    from ._session import Session
    from ._state import EmulatorState

__all__ = ["ABSENT", "Channel", "ConnectionGone", "Endpoint", "Request", "channel", "rpc"]


class ConnectionGone(Exception):
    """The socket closed while a handler was still sending."""


class Request:
    """Context of one RPC call or channel: who asked, and the emulator state."""

    def __init__(self, session: Session, endpoint: str, request_id: int) -> None:
        self.session = session
        self.endpoint = endpoint
        self.request_id = request_id

    @property
    def state(self) -> EmulatorState:
        return self.session.state

    @property
    def namespace(self) -> str:
        return self.session.namespace

    @property
    def client(self) -> str:
        return self.session.client


class Channel(Request):
    """A channel being served: send packets, watch for client packets."""

    def __init__(
        self, session: Session, endpoint: str, channel_id: int, counted_type: str | None
    ) -> None:
        super().__init__(session, endpoint, channel_id)
        self.channel_id = channel_id
        self.cancelled = asyncio.Event()
        self.packets: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self._counted_type = counted_type
        self.counted = 0
        self.faults = session.state.faults.take_stream_faults(session.namespace, endpoint)
        self._faults_armed = self.faults.any

    def deliver(self, packet: Mapping[str, Any]) -> None:
        """A validated client packet arrived (``cancel``/``stop``)."""
        self.packets.put_nowait(packet)
        self.cancelled.set()

    async def send(self, packet: Mapping[str, Any]) -> None:
        """Send one packet; apply armed stream faults around counted packets.

        Raises:
            ConnectionGone: The socket is closed (or was dropped by a fault).
            EmulatorError: A mid-stream error was injected.
        """
        await self.session.send_channel(self.channel_id, packet)
        if self._counted_type is None or packet.get("type") == self._counted_type:
            self.counted += 1
            if self._faults_armed:
                await self._after_count()

    async def send_encoded(self, packet_type: str, packet_json: str) -> None:
        """:meth:`send` for a packet already encoded with ``encode_json`` (hot paths).

        ``packet_type`` is the packet's ``type``, used for counting. The packet is only
        queued on the session: call :meth:`flush` before awaiting anything else.
        """
        self.session.queue_channel_encoded(self.channel_id, packet_json)
        if self._counted_type is None or packet_type == self._counted_type:
            self.counted += 1
            if self._faults_armed:
                await self.session.flush()
                await self._after_count()

    async def flush(self) -> None:
        """Write the packets queued by :meth:`send_encoded`."""
        await self.session.flush()

    async def _after_count(self) -> None:
        faults = self.faults
        if faults.unknown_after is not None and self.counted >= faults.unknown_after:
            await self.session.send_channel(self.channel_id, faults.unknown_packet or {})
            self.faults = faults = replace(faults, unknown_after=None)
            self._faults_armed = faults.any
        if faults.drop_after is not None and self.counted >= faults.drop_after:
            self.session.abort()
            raise ConnectionGone()
        if (
            faults.error is not None
            and faults.error_after is not None
            and (self.counted >= faults.error_after)
        ):
            raise faults.error

    async def first_packet_faults(self) -> None:
        """Apply faults armed for "after 0 packets" before anything is sent."""
        if self.counted == 0 and self._faults_armed:
            await self._after_count()


RpcHandler = Callable[[Request, Any], Awaitable[Any]]
ChannelHandler = Callable[[Channel, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint of a namespace.

    Attributes:
        name: Endpoint name on the wire.
        kind: ``rpc`` or ``channel``.
        params: Parameter model, or ``None`` for a void parameter.
        handler: The coroutine serving it.
        client_packets: ``type`` values the client may send on the channel.
        counted_type: Packet type counted by stream faults (``None``: every packet).
    """

    name: str
    kind: Literal["rpc", "channel"]
    params: type[BaseModel] | None
    handler: Callable[..., Awaitable[Any]]
    client_packets: frozenset[str] = frozenset()
    counted_type: str | None = None


def rpc(name: str, params: type[BaseModel] | None, handler: RpcHandler) -> Endpoint:
    return Endpoint(name, "rpc", params, handler)


def channel(
    name: str,
    params: type[BaseModel] | None,
    handler: ChannelHandler,
    *,
    client_packets: frozenset[str] = frozenset({"cancel"}),
    counted_type: str | None = None,
) -> Endpoint:
    return Endpoint(name, "channel", params, handler, client_packets, counted_type)
