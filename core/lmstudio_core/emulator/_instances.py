"""Loaded model instances: identifiers, instance references, TTL and ownership.

The store is plain state owned by the emulator's event loop (no locking): every method
is called from that loop only.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _errors
from ._catalog import ModelSpec
from ._kvconfig import collapse, load_defaults

__all__ = ["LoadedInstance", "ModelStore", "effective_load_config", "now_ms"]

_REF_ALPHABET = string.ascii_letters + string.digits


def now_ms() -> int:
    return int(time.time() * 1000)


def _new_reference() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(16))


@dataclass(slots=True, eq=False)
class LoadedInstance:
    """One loaded instance of a downloaded model (mutable state)."""

    spec: ModelSpec
    identifier: str
    instance_reference: str
    load_config: dict[str, Any]
    ttl_ms: int | None = None
    owner: str | None = None
    jit: bool = False
    last_used_time: int | None = None
    idle_since: float = field(default_factory=time.monotonic)
    busy: int = 0
    queued: int = 0

    @property
    def context_length(self) -> int:
        key = f"{self.spec.type}.load.contextLength"
        value = self.load_config.get(key)
        if isinstance(value, int) and value > 0:
            return value
        return self.spec.initial_context_length

    def to_wire(self) -> dict[str, Any]:
        """The instance info object (HEAD superset)."""
        info = self.spec.to_wire()
        info.update(
            identifier=self.identifier,
            instanceReference=self.instance_reference,
            ttlMs=self.ttl_ms,
            lastUsedTime=self.last_used_time,
            contextLength=self.context_length,
        )
        return info

    def touch(self) -> None:
        """Mark the instance as used now (resets the idle TTL clock)."""
        self.last_used_time = now_ms()
        self.idle_since = time.monotonic()

    def expired(self, now: float) -> bool:
        if self.ttl_ms is None or self.busy:
            return False
        return (now - self.idle_since) * 1000 >= self.ttl_ms


class ModelStore:
    """The downloaded catalog and the loaded instances, with LM Studio's lookup rules."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self.hub: tuple[ModelSpec, ...] = tuple(specs)
        self._downloaded = {spec.model_key for spec in self.hub if spec.downloaded}
        self.instances: list[LoadedInstance] = []

    @property
    def catalog(self) -> tuple[ModelSpec, ...]:
        """The downloaded models, in catalog order."""
        return tuple(spec for spec in self.hub if spec.model_key in self._downloaded)

    def mark_downloaded(self, spec: ModelSpec) -> None:
        self._downloaded.add(spec.model_key)

    # -- lookups ------------------------------------------------------------------

    def loaded(self, domain: str | None = None) -> list[LoadedInstance]:
        return [i for i in self.instances if domain is None or i.spec.type == domain]

    def find_downloaded(self, key_or_path: str) -> ModelSpec | None:
        for spec in self.catalog:
            if spec.model_key == key_or_path or spec.path == key_or_path:
                return spec
        for spec in self.catalog:
            if spec.matches_path(key_or_path):
                return spec
        return None

    def query(self, domain: str, query: Mapping[str, Any]) -> LoadedInstance | None:
        """First loaded instance of ``domain`` satisfying every member of ``query``."""
        for inst in self.loaded(domain):
            if _satisfies(inst, query):
                return inst
        return None

    def by_reference(self, reference: str) -> LoadedInstance | None:
        for inst in self.instances:
            if inst.instance_reference == reference:
                return inst
        return None

    def resolve(self, domain: str, specifier: Mapping[str, Any]) -> LoadedInstance:
        """Resolve a wire ``ModelSpecifier`` or raise the error LM Studio would send."""
        if specifier.get("type") == "instanceReference":
            inst = self.by_reference(str(specifier.get("instanceReference")))
            if inst is None or inst.spec.type != domain:
                raise _errors.specific_model_unloaded()
            return inst
        query = specifier.get("query", {})
        inst = self.query(domain, query)
        if inst is None:
            raise _errors.no_model_matching_query(
                query, [i.identifier for i in self.loaded(domain)], domain
            )
        return inst

    def for_get_or_load(self, domain: str, identifier: str) -> LoadedInstance | None:
        """Instance for ``getOrLoad``: by identifier, then by model key or path."""
        for inst in self.loaded(domain):
            if inst.identifier == identifier:
                return inst
        for inst in self.loaded(domain):
            if inst.spec.matches_path(identifier):
                return inst
        return None

    # -- changes ------------------------------------------------------------------

    def next_identifier(self, model_key: str) -> str:
        taken = {i.identifier for i in self.instances}
        if model_key not in taken:
            return model_key
        n = 2
        while f"{model_key}:{n}" in taken:
            n += 1
        return f"{model_key}:{n}"

    def identifier_taken(self, identifier: str) -> bool:
        return any(i.identifier == identifier for i in self.instances)

    def add(
        self,
        spec: ModelSpec,
        *,
        identifier: str | None = None,
        config_layers: Iterable[Iterable[Mapping[str, Any]]] = (),
        ttl_ms: int | None = None,
        owner: str | None = None,
        jit: bool = False,
    ) -> LoadedInstance:
        """Create and register a loaded instance (raises if ``identifier`` is taken)."""
        if identifier is not None and self.identifier_taken(identifier):
            raise _errors.identifier_taken(identifier)
        config = effective_load_config(spec, config_layers)
        inst = LoadedInstance(
            spec=spec,
            identifier=identifier or self.next_identifier(spec.model_key),
            instance_reference=_new_reference(),
            load_config=config,
            ttl_ms=ttl_ms,
            owner=owner,
            jit=jit,
        )
        self.instances.append(inst)
        return inst

    def remove(self, inst: LoadedInstance) -> bool:
        if inst in self.instances:
            self.instances.remove(inst)
            return True
        return False

    def by_identifier(self, domain: str, identifier: str) -> LoadedInstance | None:
        for inst in self.loaded(domain):
            if inst.identifier == identifier:
                return inst
        return None

    def owned_by(self, client: str) -> list[LoadedInstance]:
        return [i for i in self.instances if i.owner == client]

    def expired(self) -> list[LoadedInstance]:
        now = time.monotonic()
        return [i for i in self.instances if i.expired(now)]


def effective_load_config(
    spec: ModelSpec, config_layers: Iterable[Iterable[Mapping[str, Any]]] = ()
) -> dict[str, Any]:
    """The load config an instance of ``spec`` gets from ``config_layers``."""
    config = collapse(load_defaults(spec), *config_layers)
    _clamp_context(spec, config)
    return config


def _clamp_context(spec: ModelSpec, config: dict[str, Any]) -> None:
    key = f"{spec.type}.load.contextLength"
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        config[key] = spec.initial_context_length
    elif value > spec.max_context_length:
        config[key] = spec.max_context_length


def _satisfies(inst: LoadedInstance, query: Mapping[str, Any]) -> bool:
    spec = inst.spec
    checks = (
        query.get("domain") in (None, spec.type),
        query.get("identifier") in (None, inst.identifier),
        query.get("path") is None or spec.matches_path(str(query["path"])),
        query.get("vision") is None or bool(query["vision"]) == spec.vision,
        query.get("deviceIdentifier") is None,
    )
    return all(checks)
