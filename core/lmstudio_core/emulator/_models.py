"""Endpoints shared by the ``llm`` and ``embedding`` namespaces.

Listing, lookup, load configs, loading (``loadModel``, ``getOrLoad``), unloading and
tokenization. Every endpoint only sees instances of its namespace's domain.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from . import _errors
from ._catalog import ModelSpec
from ._endpoint import ABSENT, Channel, Endpoint, Request, channel, rpc
from ._engines import call_engine, load_engine
from ._instances import LoadedInstance, effective_load_config
from ._kvconfig import kvconfig, prediction_defaults
from ._params import (
    BasePredictionConfigParams,
    GetModelInfoParams,
    GetOrLoadParams,
    LoadModelParams,
    SpecifierParams,
    TextParams,
    UnloadParams,
)

__all__ = ["model_endpoints", "resolve"]

_LOAD_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)

Layers = list[list[dict[str, Any]]]


def resolve(req: Request, domain: str, specifier: Any) -> LoadedInstance:
    """Resolve a validated specifier model into an instance of ``domain``."""
    wire = specifier.model_dump(by_alias=True, exclude_unset=True)
    return req.state.store.resolve(domain, wire)


async def _list_loaded(domain: str, req: Request, _params: None) -> list[dict[str, Any]]:
    return [inst.to_wire() for inst in req.state.store.loaded(domain)]


async def _get_model_info(domain: str, req: Request, params: GetModelInfoParams) -> Any:
    try:
        return resolve(req, domain, params.specifier).to_wire()
    except _errors.EmulatorError:
        if params.throw_if_not_found:
            raise
        return ABSENT


async def _get_load_config(domain: str, req: Request, params: SpecifierParams) -> Any:
    return kvconfig(resolve(req, domain, params.specifier).load_config)


async def _unload(domain: str, req: Request, params: UnloadParams) -> Any:
    store = req.state.store
    inst = store.by_identifier(domain, params.identifier)
    if inst is None:
        loaded = [i.identifier for i in store.loaded(domain)]
        raise _errors.no_model_matching_query({"identifier": params.identifier}, loaded, domain)
    req.state.unload(inst)
    return ABSENT


async def _tokenize(domain: str, req: Request, params: TextParams) -> Any:
    inst = resolve(req, domain, params.specifier)
    inst.touch()
    engine = req.state.engines.tokenizer_for(inst.spec)
    return {"tokens": await call_engine(engine, engine.tokenize, params.input_string)}


async def _count_tokens(domain: str, req: Request, params: TextParams) -> Any:
    inst = resolve(req, domain, params.specifier)
    inst.touch()
    engine = req.state.engines.tokenizer_for(inst.spec)
    return {"tokenCount": await call_engine(engine, engine.count_tokens, params.input_string)}


async def _base_prediction_config(
    domain: str, req: Request, params: BasePredictionConfigParams
) -> Any:
    inst = resolve(req, domain, params.specifier)
    if domain != "llm":
        return {"fields": []}
    return kvconfig(prediction_defaults(inst.spec))


async def _processing_state(domain: str, req: Request, params: GetModelInfoParams) -> Any:
    try:
        inst = resolve(req, domain, params.specifier)
    except _errors.EmulatorError:
        if params.throw_if_not_found:
            raise
        return ABSENT
    status = "idle" if not inst.busy else "generating" if domain == "llm" else "computingEmbedding"
    return {"status": status, "queued": inst.queued}


def _downloaded(req: Request, domain: str, key: str) -> ModelSpec:
    store = req.state.store
    spec = store.find_downloaded(key)
    if spec is None:
        keys = [s.model_key for s in store.catalog if s.type == domain]
        raise _errors.path_not_found(key, keys)
    if spec.type != domain:
        raise _errors.domain_mismatch(spec.model_key, spec.type, domain)
    return spec


async def _load_engine(ch: Channel, spec: ModelSpec, layers: Layers) -> None:
    """Load the model's engine (a real engine reads its model now), in a worker thread."""
    context_length = effective_load_config(spec, layers)[f"{spec.type}.load.contextLength"]
    try:
        await load_engine(ch.state.engines.tokenizer_for(spec), int(context_length))
    except _errors.EmulatorError:
        raise
    except Exception as exc:
        raise _errors.EmulatorError(
            f'Failed to load model "{spec.model_key}"', cause=str(exc)
        ) from exc


async def _load_progress(ch: Channel, packet_type: str, spec: ModelSpec, layers: Layers) -> None:
    """Send progress packets, paced over the configured load duration; the last one
    only once the engine has loaded the model."""
    pause = ch.state.settings.load_seconds / (len(_LOAD_STEPS) - 1)
    for step in _LOAD_STEPS:
        if ch.cancelled.is_set():
            raise _errors.EmulatorError("Model loading was cancelled")
        if step == 1.0:
            await _load_engine(ch, spec, layers)
        await ch.send({"type": packet_type, "progress": step})
        if pause > 0 and step < 1.0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ch.cancelled.wait(), pause)
    if ch.cancelled.is_set():
        raise _errors.EmulatorError("Model loading was cancelled")


async def _load_model(domain: str, ch: Channel, params: LoadModelParams) -> None:
    spec = _downloaded(ch, domain, params.model_key)
    if params.identifier is not None and ch.state.store.identifier_taken(params.identifier):
        raise _errors.identifier_taken(params.identifier)
    await ch.send({"type": "resolved", "info": spec.to_wire()})
    layers = params.load_config_stack.field_layers()
    await _load_progress(ch, "progress", spec, layers)
    inst = ch.state.load(
        spec,
        identifier=params.identifier,
        config_layers=layers,
        ttl_ms=params.ttl_ms,
        owner=ch.client,
    )
    await ch.send({"type": "success", "info": inst.to_wire()})


async def _get_or_load(domain: str, ch: Channel, params: GetOrLoadParams) -> None:
    state = ch.state
    inst = state.store.for_get_or_load(domain, params.identifier)
    if inst is not None:
        inst.touch()
        await ch.send({"type": "alreadyLoaded", "info": inst.to_wire()})
        return
    spec = _downloaded(ch, domain, params.identifier)
    if state.settings.jit_auto_evict:
        for other in [i for i in state.store.instances if i.jit]:
            await ch.send({"type": "unloadingOtherJITModel", "info": other.to_wire()})
            state.unload(other)
    identifier = state.store.next_identifier(spec.model_key)
    await ch.send({"type": "startLoading", "identifier": identifier, "info": spec.to_wire()})
    layers = params.load_config_stack.field_layers()
    await _load_progress(ch, "loadProgress", spec, layers)
    # JIT instances outlive the client that asked for them; their TTL governs them.
    inst = state.load(
        spec,
        config_layers=layers,
        ttl_ms=params.load_ttl_ms,
        jit=True,
    )
    await ch.send({"type": "loadSuccess", "info": inst.to_wire()})


def model_endpoints(domain: str) -> list[Endpoint]:
    """The model-management endpoints of the ``llm`` or ``embedding`` namespace."""

    def bound(handler: Any) -> Any:
        return functools.partial(handler, domain)

    return [
        rpc("listLoaded", None, bound(_list_loaded)),
        rpc("getModelInfo", GetModelInfoParams, bound(_get_model_info)),
        rpc("getLoadConfig", SpecifierParams, bound(_get_load_config)),
        rpc("unloadModel", UnloadParams, bound(_unload)),
        rpc("tokenize", TextParams, bound(_tokenize)),
        rpc("countTokens", TextParams, bound(_count_tokens)),
        rpc("getBasePredictionConfig", BasePredictionConfigParams, bound(_base_prediction_config)),
        rpc("getInstanceProcessingState", GetModelInfoParams, bound(_processing_state)),
        channel("loadModel", LoadModelParams, bound(_load_model), counted_type="progress"),
        channel("getOrLoad", GetOrLoadParams, bound(_get_or_load), counted_type="loadProgress"),
    ]
