"""The model catalog: model descriptions, how requests address a model, and loading.

Theory of operation
-------------------
A loaded model is addressed by a *specifier*: either a query (identifier, path, vision,
...) or an exact instance reference. Handles use an identifier query, so a handle survives
the instance being unloaded and loaded again under the same identifier.

Loading runs on a channel (``loadModel`` for a new instance, ``getOrLoad`` to reuse a
loaded one or load on demand). :class:`LoadState` turns its packets into
:class:`LoadProgress` values and the final :class:`LoadedModelInfo`, for both clients.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .errors import ProtocolError, UnknownMessageWarning
from .options import LoadOptions, load_config_fields

__all__ = [
    "DownloadedModelInfo",
    "LoadProgress",
    "LoadState",
    "LoadedModelInfo",
    "ModelDomain",
    "ModelQuery",
    "ServerVersion",
    "build_get_or_load",
    "build_load",
    "model_specifier",
]

logger = logging.getLogger(__name__)

ModelDomain = Literal["llm", "embedding"]


class _WireData(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Quantization(_WireData):
    name: str
    bits: int | None = None


class DownloadedModelInfo(_WireData):
    """A model on disk (``list_downloaded()``)."""

    type: str
    model_key: str
    display_name: str = ""
    path: str = ""
    format: str = ""
    publisher: str | None = None
    size_bytes: int = 0
    params_string: str | None = None
    architecture: str | None = None
    quantization: Quantization | None = None
    max_context_length: int | None = None
    vision: bool = False
    trained_for_tool_use: bool = False
    device_identifier: str | None = None


class LoadedModelInfo(DownloadedModelInfo):
    """A loaded model instance (``list_loaded()``, ``get_info()``, results)."""

    identifier: str
    instance_reference: str = ""
    context_length: int | None = None
    ttl_ms: float | None = None
    last_used_time: float | None = None

    @property
    def ttl(self) -> float | None:
        """Idle time-to-live in seconds (``None``: no TTL)."""
        return None if self.ttl_ms is None else self.ttl_ms / 1000


class ServerVersion(_WireData):
    """LM Studio's version (``client.system.version()``)."""

    version: str
    build: int | None = None


class ModelQuery(_WireData):
    """Selects a loaded model; every given member must match."""

    identifier: str | None = None
    path: str | None = None
    domain: str | None = None
    vision: bool | None = None

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


_QUERY_KEYS = frozenset({"identifier", "path", "domain", "vision", "deviceIdentifier"})


def model_specifier(target: str | ModelQuery | Mapping[str, Any]) -> dict[str, Any]:
    """Build the wire ``ModelSpecifier`` for an identifier, a query or a raw specifier."""
    if isinstance(target, str):
        if not target.strip():
            raise ValueError("a model identifier must be a non-empty string")
        return {"type": "query", "query": {"identifier": target}}
    if isinstance(target, ModelQuery):
        return {"type": "query", "query": target.to_wire()}
    if isinstance(target, Mapping):
        if target.get("type") in ("query", "instanceReference"):
            return dict(target)
        unknown = set(target) - _QUERY_KEYS
        if unknown:
            raise ValueError(
                f"unknown model query keys {sorted(unknown)}; use {sorted(_QUERY_KEYS)}"
            )
        return {"type": "query", "query": dict(target)}
    raise TypeError(
        f"a model is selected by an identifier string, a ModelQuery or a dict, "
        f"not {type(target).__name__}"
    )


def _ttl_ms(ttl: float | None) -> int | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        raise ValueError("ttl must be a positive number of seconds, or None for no TTL")
    return max(1, round(ttl * 1000))


def _load_stack(domain: ModelDomain, config: LoadOptions | Mapping[str, Any] | None) -> Any:
    fields = load_config_fields(domain, config or {})
    return {"layers": [{"layerName": "apiOverride", "config": {"fields": fields}}]}


def build_load(
    domain: ModelDomain,
    model_key: str,
    *,
    identifier: str | None,
    ttl: float | None,
    config: LoadOptions | Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Creation parameter of ``loadModel`` (a new instance)."""
    if not isinstance(model_key, str) or not model_key.strip():
        raise ValueError("model key must be a non-empty string, e.g. 'qwen2.5-7b-instruct'")
    param: dict[str, Any] = {"modelKey": model_key}
    if identifier is not None:
        param["identifier"] = identifier
    ttl_ms = _ttl_ms(ttl)
    if ttl_ms is not None:
        param["ttlMs"] = ttl_ms
    param["loadConfigStack"] = _load_stack(domain, config)
    return param


def build_get_or_load(
    domain: ModelDomain,
    key: str,
    *,
    ttl: float | None,
    config: LoadOptions | Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Creation parameter of ``getOrLoad`` (reuse a loaded instance or load one)."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError("model key must be a non-empty string, e.g. 'qwen2.5-7b-instruct'")
    param: dict[str, Any] = {"identifier": key}
    ttl_ms = _ttl_ms(ttl)
    if ttl_ms is not None:
        param["loadTtlMs"] = ttl_ms
    param["loadConfigStack"] = _load_stack(domain, config)
    return param


@dataclass(frozen=True, slots=True)
class LoadProgress:
    """Loading progress, from 0.0 to 1.0 (``model_key`` once resolved)."""

    fraction: float
    model_key: str | None = None


_FINAL = frozenset({"success", "alreadyLoaded", "loadSuccess"})
_PROGRESS = frozenset({"progress", "loadProgress"})


class LoadState:
    """Accumulates the packets of a ``loadModel`` / ``getOrLoad`` channel."""

    def __init__(self) -> None:
        self.fraction = 0.0
        self.model_key: str | None = None
        self.info: LoadedModelInfo | None = None

    @property
    def done(self) -> bool:
        return self.info is not None

    def feed(self, message: Any) -> list[LoadProgress]:
        """Consume one packet; returns the progress events it produces."""
        kind = message.get("type") if isinstance(message, dict) else None
        if kind in _PROGRESS:
            value = message.get("progress")
            if isinstance(value, int | float) and value > self.fraction:
                self.fraction = min(float(value), 1.0)
                return [LoadProgress(self.fraction, self.model_key)]
            return []
        if kind in ("resolved", "startLoading"):
            info = message.get("info")
            if isinstance(info, dict) and isinstance(info.get("modelKey"), str):
                self.model_key = info["modelKey"]
            return [LoadProgress(self.fraction, self.model_key)]
        if kind == "unloadingOtherJITModel":
            logger.debug("server unloads another just-in-time model first")
            return []
        if kind in _FINAL:
            try:
                self.info = LoadedModelInfo.model_validate(message.get("info"))
            except ValueError as exc:
                raise ProtocolError(f"invalid model info in {kind!r} packet: {exc}") from exc
            if kind == "alreadyLoaded" or self.fraction >= 1.0:
                return []
            self.fraction = 1.0
            return [LoadProgress(1.0, self.model_key or self.info.model_key)]
        warn_unknown_packet("model loading", kind)
        return []


def warn_unknown_packet(context: str, kind: object) -> None:
    """Report a channel packet type this SDK does not know; it is then ignored.

    Called from the consumer's own frame (stream iteration), never from a reader.
    """
    logger.warning("ignored unknown %s packet type %r", context, kind)
    warnings.warn(
        f"LM Studio sent an unknown {context} packet type {kind!r}; it was ignored "
        "(a newer LM Studio may need a newer lmstudio-core)",
        UnknownMessageWarning,
        stacklevel=4,
    )
