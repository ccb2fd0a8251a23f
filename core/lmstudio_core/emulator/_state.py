"""Shared state of one emulator: models, engines, clients, files, logs, faults, record.

Owned by the emulator's event loop; only :class:`Faults` and :class:`ReceivedRecord`
are touched from other threads (they lock internally).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._catalog import ModelSpec
from ._diagnostics import LogHub
from ._engines import EngineSet
from ._faults import Faults
from ._files import FileStore
from ._instances import LoadedInstance, ModelStore
from ._record import ReceivedRecord

__all__ = ["ClientRecord", "EmulatorState", "Settings", "parse_api_token"]

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"^sk-lm-(?P<id>[A-Za-z0-9]{8}):(?P<key>[A-Za-z0-9]{20})$")

DEFAULT_VERSION = "0.3.31"
DEFAULT_BUILD = 7


def parse_api_token(token: str) -> tuple[str, str]:
    """Split ``sk-lm-<8 alnum>:<20 alnum>`` into identifier and passkey.

    Raises:
        ValueError: The token is malformed.
    """
    match = _TOKEN.match(token.strip())
    if match is None:
        raise ValueError("API tokens look like sk-lm-<8 letters or digits>:<20 letters or digits>")
    return match["id"], match["key"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Fixed behaviour switches of an emulator."""

    strict: bool = False
    auth_timeout: float = 10.0
    version: str = DEFAULT_VERSION
    build: int = DEFAULT_BUILD
    api_tokens: Mapping[str, str] | None = None
    load_seconds: float = 0.0
    jit_auto_evict: bool = True
    reply_tokens: int = 24
    ttl_check_interval: float = 0.1


@dataclass(slots=True)
class ClientRecord:
    """An authenticated client: passkey bound first-come-first-served, connection count."""

    passkey: str
    connections: int = 0


@dataclass
class EmulatorState:
    """Everything the endpoint handlers share."""

    settings: Settings
    store: ModelStore
    engines: EngineSet
    faults: Faults
    record: ReceivedRecord
    files: FileStore = field(default_factory=FileStore)
    logs: LogHub = field(default_factory=LogHub)
    clients: dict[str, ClientRecord] = field(default_factory=dict)
    presets: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    experiment_flags: set[str] = field(default_factory=set)

    # -- clients ---------------------------------------------------------------------

    def authenticate(self, identifier: str, passkey: str) -> str | None:
        """Bind or check a client; returns an error text, or ``None`` when accepted."""
        tokens = self.settings.api_tokens
        if tokens is not None:
            expected = tokens.get(identifier)
            if expected is None or expected != passkey:
                return (
                    "Invalid API token. This server requires an API token "
                    f'(client "{identifier}" presented none or a wrong one).'
                )
        record = self.clients.get(identifier)
        if record is None:
            record = self.clients[identifier] = ClientRecord(passkey)
        elif record.passkey != passkey:
            return f'Failed to validate client: Invalid client passkey for client "{identifier}"'
        record.connections += 1
        return None

    def release(self, identifier: str) -> None:
        """One connection of ``identifier`` closed; free its resources after the last."""
        record = self.clients.get(identifier)
        if record is None:
            return
        record.connections -= 1
        if record.connections > 0:
            return
        del self.clients[identifier]
        for inst in self.store.owned_by(identifier):
            logger.debug("unloading %s: its client disconnected", inst.identifier)
            self.unload(inst)
        self.files.drop_client(identifier)

    # -- models ----------------------------------------------------------------------

    def unload(self, inst: LoadedInstance) -> bool:
        return self.store.remove(inst)

    def load(
        self,
        spec: ModelSpec,
        *,
        identifier: str | None = None,
        config_layers: Iterable[Iterable[Mapping[str, Any]]] = (),
        ttl_ms: int | None = None,
        owner: str | None = None,
        jit: bool = False,
    ) -> LoadedInstance:
        return self.store.add(
            spec,
            identifier=identifier,
            config_layers=config_layers,
            ttl_ms=ttl_ms,
            owner=owner,
            jit=jit,
        )

    def expire_idle(self) -> list[str]:
        """Unload every instance whose idle TTL has run out; return their identifiers."""
        gone = []
        for inst in self.store.expired():
            self.unload(inst)
            gone.append(inst.identifier)
        return gone

    def preset_fields(self, identifier: str) -> list[dict[str, Any]] | None:
        """Fields of the preset matched by ``identifier`` (exact, then case-insensitive)."""
        if identifier in self.presets:
            return self.presets[identifier][1]
        lowered = identifier.lower()
        for key, (name, fields) in self.presets.items():
            if lowered in (key.lower(), name.lower()):
                return fields
        return None

    def preset_sample(self) -> Sequence[tuple[str, str]]:
        return [(key, name) for key, (name, _) in self.presets.items()]
