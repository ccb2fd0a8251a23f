"""An LM Studio-compatible server for tests, CI and demos.

The emulator speaks LM Studio's native WebSocket protocol on a real socket, so the
official clients and this project's client work against it unchanged::

    from lmstudio_core.emulator import EmulatorThread

    with EmulatorThread() as emu:            # free port on 127.0.0.1
        client = lmstudio.Client(emu.api_host)
        ...

Inside an event loop use ``async with Emulator(port=0) as emu``; in pytest use the
``lmstudio_emulator`` fixture; from a shell run ``python -m lmstudio_core.emulator``.

Names are imported on first use, so loading the pytest plugin costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog import (
        ModelSpec,
        Quantization,
        default_catalog,
        load_catalog_file,
        parse_catalog,
    )
    from ._engine import DeterministicEngine, ScriptedError, ScriptedToolCall, ScriptedTurn
    from ._engines import EmbeddingEngine, TextChunk, TextEngine, TextRequest, ToolCallChunk
    from ._errors import EmulatorError
    from ._faults import Faults
    from ._instances import LoadedInstance
    from ._record import (
        CancelRecord,
        NotificationRecord,
        PredictionRecord,
        ReceivedRecord,
        RequestRecord,
    )
    from ._server import Emulator
    from ._thread import EmulatorThread, ThreadSafeEngine, run_in_thread

_EXPORTS: dict[str, str] = {
    "CancelRecord": "._record",
    "DeterministicEngine": "._engine",
    "EmbeddingEngine": "._engines",
    "Emulator": "._server",
    "EmulatorError": "._errors",
    "EmulatorThread": "._thread",
    "Faults": "._faults",
    "LoadedInstance": "._instances",
    "ModelSpec": "._catalog",
    "NotificationRecord": "._record",
    "PredictionRecord": "._record",
    "Quantization": "._catalog",
    "ReceivedRecord": "._record",
    "RequestRecord": "._record",
    "ScriptedError": "._engine",
    "ScriptedToolCall": "._engine",
    "ScriptedTurn": "._engine",
    "TextChunk": "._engines",
    "TextEngine": "._engines",
    "TextRequest": "._engines",
    "ThreadSafeEngine": "._thread",
    "ToolCallChunk": "._engines",
    "default_catalog": "._catalog",
    "load_catalog_file": "._catalog",
    "parse_catalog": "._catalog",
    "run_in_thread": "._thread",
}

__all__ = [
    "CancelRecord",
    "DeterministicEngine",
    "EmbeddingEngine",
    "Emulator",
    "EmulatorError",
    "EmulatorThread",
    "Faults",
    "LoadedInstance",
    "ModelSpec",
    "NotificationRecord",
    "PredictionRecord",
    "Quantization",
    "ReceivedRecord",
    "RequestRecord",
    "ScriptedError",
    "ScriptedToolCall",
    "ScriptedTurn",
    "TextChunk",
    "TextEngine",
    "TextRequest",
    "ThreadSafeEngine",
    "ToolCallChunk",
    "default_catalog",
    "load_catalog_file",
    "parse_catalog",
    "run_in_thread",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
