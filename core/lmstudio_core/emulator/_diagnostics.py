"""The ``diagnostics`` namespace: ``streamLogs`` and the hub predictions publish to."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from ._endpoint import Channel, Endpoint, channel

__all__ = ["LogHub", "diagnostics_endpoints"]


class LogHub:
    """Fan-out of log events to every open ``streamLogs`` channel."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    def publish(self, data: Mapping[str, Any]) -> None:
        """Send ``data`` (a ``LogData`` object) to every subscriber, timestamped now."""
        log = {"timestamp": int(time.time() * 1000), "data": dict(data)}
        for queue in self._subscribers:
            queue.put_nowait(log)

    def prediction_input(self, prompt: str, model_path: str, identifier: str) -> None:
        self.publish(
            {
                "type": "llm.prediction.input",
                "input": prompt,
                "modelPath": model_path,
                "modelIdentifier": identifier,
            }
        )


async def _stream_logs(ch: Channel, _params: None) -> None:
    hub = ch.state.logs
    queue = hub.subscribe()
    try:
        while True:
            next_log = asyncio.ensure_future(queue.get())
            stopped = asyncio.ensure_future(ch.cancelled.wait())
            try:
                done, _ = await asyncio.wait(
                    {next_log, stopped}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                next_log.cancel()
                stopped.cancel()
            if next_log in done and not next_log.cancelled():
                await ch.send({"type": "log", "log": next_log.result()})
            if stopped in done:
                return
    finally:
        hub.unsubscribe(queue)


def diagnostics_endpoints() -> list[Endpoint]:
    return [channel("streamLogs", None, _stream_logs, client_packets=frozenset({"stop"}))]
