"""The ``embedding`` namespace's own endpoint: ``embedString``."""

from __future__ import annotations

import asyncio
from typing import Any

from ._endpoint import Endpoint, Request, rpc
from ._models import resolve
from ._params import EmbedStringParams

__all__ = ["embedding_endpoints"]


async def _embed_string(req: Request, params: EmbedStringParams) -> Any:
    inst = resolve(req, "embedding", params.model_specifier)
    engine = req.state.engines.embedding(inst.spec)
    inst.busy += 1
    try:
        if engine.blocking:
            vector = await asyncio.to_thread(engine.embed, params.input_string)
        else:
            vector = engine.embed(params.input_string)
    finally:
        inst.busy -= 1
        inst.touch()
    return {"embedding": vector}


def embedding_endpoints() -> list[Endpoint]:
    return [rpc("embedString", EmbedStringParams, _embed_string)]
