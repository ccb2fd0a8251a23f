"""What the emulator received, for tests to assert on.

The record is appended to by the server's event loop and read from any thread; every
access goes through one lock and readers get copies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "CancelRecord",
    "NotificationRecord",
    "PredictionRecord",
    "ReceivedRecord",
    "RequestRecord",
]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """An RPC call or channel creation the server accepted for dispatch."""

    namespace: str
    kind: str  # "rpc" or "channel"
    endpoint: str
    request_id: int
    client_identifier: str
    parameter: Any


@dataclass(frozen=True, slots=True)
class CancelRecord:
    """A ``cancel`` (or ``stop``) packet the client sent on a channel."""

    namespace: str
    endpoint: str
    channel_id: int
    client_identifier: str
    packet_type: str = "cancel"


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One prediction request as the model saw it.

    Attributes:
        endpoint: ``predict`` or ``completeRawText``.
        model_identifier: Identifier of the instance that served it.
        model_key: Model key of that instance.
        history: Wire chat messages (``[]`` for ``completeRawText``).
        config: Collapsed prediction config (full keys).
        config_stack: The layers exactly as the client sent them.
        prompt: The rendered prompt text.
        client_identifier: Who asked.
        channel_id: Channel of the request.
    """

    endpoint: str
    model_identifier: str
    model_key: str
    history: list[dict[str, Any]]
    config: dict[str, Any]
    config_stack: dict[str, Any]
    prompt: str
    client_identifier: str
    channel_id: int


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A ``system.notify`` call."""

    title: str
    description: str | None
    no_auto_dismiss: bool | None
    client_identifier: str


class ReceivedRecord:
    """Thread-safe log of requests, cancels, predictions and notifications."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._requests: list[RequestRecord] = []
        self._cancels: list[CancelRecord] = []
        self._predictions: list[PredictionRecord] = []
        self._notifications: list[NotificationRecord] = []
        self._frames: list[tuple[str, str, Mapping[str, Any] | str]] = []

    def _add(self, items: list[_T], item: _T) -> None:
        with self._lock:
            items.append(item)
            self._lock.notify_all()

    def add_request(self, item: RequestRecord) -> None:
        self._add(self._requests, item)

    def add_cancel(self, item: CancelRecord) -> None:
        self._add(self._cancels, item)

    def add_prediction(self, item: PredictionRecord) -> None:
        self._add(self._predictions, item)

    def add_notification(self, item: NotificationRecord) -> None:
        self._add(self._notifications, item)

    def add_frame(self, namespace: str, client: str, frame: Mapping[str, Any] | str) -> None:
        """Keep a raw incoming frame (after authentication)."""
        self._add(self._frames, (namespace, client, frame))

    @property
    def requests(self) -> list[RequestRecord]:
        """Every dispatched RPC call and channel creation, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def cancels(self) -> list[CancelRecord]:
        """Every ``cancel``/``stop`` packet received on an open channel."""
        with self._lock:
            return list(self._cancels)

    @property
    def predictions(self) -> list[PredictionRecord]:
        """Every prediction request that reached a model."""
        with self._lock:
            return list(self._predictions)

    @property
    def notifications(self) -> list[NotificationRecord]:
        """Every ``system.notify`` call."""
        with self._lock:
            return list(self._notifications)

    @property
    def frames(self) -> list[tuple[str, str, Mapping[str, Any] | str]]:
        """Raw frames received after authentication: ``(namespace, client, frame)``."""
        with self._lock:
            return list(self._frames)

    def endpoints(self, namespace: str | None = None) -> list[str]:
        """Endpoint names of the dispatched requests (optionally of one namespace)."""
        return [r.endpoint for r in self.requests if namespace in (None, r.namespace)]

    def wait_for(self, predicate: Callable[[ReceivedRecord], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(record)`` holds; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if predicate(self):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self._requests.clear()
            self._cancels.clear()
            self._predictions.clear()
            self._notifications.clear()
            self._frames.clear()
