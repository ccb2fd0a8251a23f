"""Catalog entries of the real models, and the engines that serve them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .._catalog import ModelSpec, Quantization, default_catalog
from .._engines import EmbeddingEngine, TextEngine
from ._deps import (
    EMBEDDING_PACKAGES,
    INSTALL_COMMAND,
    TEXT_PACKAGES,
    RealEngineUnavailableError,
    minilm_onnx_path,
    missing_packages,
    smollm2_gguf_path,
)
from ._llama import LlamaTextEngine
from ._onnx import MINILM_DIMENSION, OnnxEmbeddingEngine

__all__ = [
    "MINILM_KEY",
    "SMOLLM2_KEY",
    "RealEngines",
    "real_catalog",
    "real_engines",
    "real_engines_available",
]

SMOLLM2_KEY: Final = "smollm2-135m-instruct"
MINILM_KEY: Final = "all-minilm-l6-v2"

# sizes of the shipped files, used when a package is not installed
_SMOLLM2_BYTES: Final = 98_362_432
_MINILM_BYTES: Final = 22_928_619


def _size(locate: Callable[[], Path], fallback: int) -> int:
    try:
        return int(locate().stat().st_size)
    except (RealEngineUnavailableError, OSError):
        return fallback


def real_catalog(*, preload: bool = False) -> tuple[ModelSpec, ...]:
    """The catalog entries of the real models.

    Args:
        preload: Mark both models to be loaded when the emulator starts.

    Returns:
        ``smollm2-135m-instruct`` (LLM, no vision, not trained for tool use) and
        ``all-minilm-l6-v2`` (384-dimensional embedding model).
    """
    return (
        ModelSpec(
            model_key=SMOLLM2_KEY,
            type="llm",
            path="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf",
            display_name="SmolLM2 135M Instruct",
            publisher="HuggingFaceTB",
            size_bytes=_size(smollm2_gguf_path, _SMOLLM2_BYTES),
            architecture="llama",
            params_string="135M",
            quantization=Quantization("Q4_1", 4),
            max_context_length=8192,
            default_context_length=4096,
            vision=False,
            trained_for_tool_use=False,
            format="gguf",
            preload=preload,
        ),
        ModelSpec(
            model_key=MINILM_KEY,
            type="embedding",
            path="sentence-transformers/all-MiniLM-L6-v2/all-MiniLM-L6-v2-int8.onnx",
            display_name="all-MiniLM-L6-v2",
            publisher="sentence-transformers",
            size_bytes=_size(minilm_onnx_path, _MINILM_BYTES),
            architecture="bert",
            params_string="22M",
            quantization=Quantization("int8", 8),
            max_context_length=512,
            default_context_length=256,
            format="onnx",
            embedding_dimension=MINILM_DIMENSION,
            preload=preload,
        ),
    )


@dataclass(frozen=True, slots=True)
class RealEngines:
    """Real models ready for :class:`~lmstudio_core.emulator.Emulator`.

    ``Emulator(**real.emulator_options())`` or pass the fields by name.

    Attributes:
        catalog: The models the emulator lists (real ones, plus the defaults if asked).
        text_engines: Engines of the LLMs, by model key.
        embedding_engines: Engines of the embedding models, by model key.
    """

    catalog: tuple[ModelSpec, ...]
    text_engines: dict[str, TextEngine]
    embedding_engines: dict[str, EmbeddingEngine]

    @property
    def llm(self) -> LlamaTextEngine:
        """The SmolLM2 engine."""
        engine = self.text_engines[SMOLLM2_KEY]
        assert isinstance(engine, LlamaTextEngine)
        return engine

    @property
    def embedder(self) -> OnnxEmbeddingEngine:
        """The all-MiniLM-L6-v2 engine."""
        engine = self.embedding_engines[MINILM_KEY]
        assert isinstance(engine, OnnxEmbeddingEngine)
        return engine

    def emulator_options(self) -> dict[str, Any]:
        """Keyword arguments for ``Emulator(...)`` / ``EmulatorThread(...)``."""
        return {
            "catalog": self.catalog,
            "text_engines": dict(self.text_engines),
            "embedding_engines": dict(self.embedding_engines),
        }

    def load(self) -> None:
        """Load both models now instead of on first use."""
        self.llm.load()
        self.embedder.load()

    def close(self) -> None:
        """Release both models (they reload on next use)."""
        self.llm.close()
        self.embedder.close()


def real_engines(
    *,
    include_defaults: bool = False,
    preload: bool = False,
    threads: int = 2,
    llm_threads: int = 1,
    context_length: int = 4096,
    max_tokens: int = 512,
) -> RealEngines:
    """The real models' catalog entries and (not yet loaded) engines.

    Args:
        include_defaults: Keep the emulator's deterministic default models in the catalog.
        preload: Load instances of the real models when the emulator starts.
        threads: onnxruntime threads of the embedder.
        llm_threads: llama.cpp threads of the LLM. One by default: on a machine whose
            cores are busy with other work, llama.cpp's threads wait for each other at
            every step and two threads generate 5-10x slower than one (measured: 4-8
            vs 30-50 tok/s under a load of 3-6 on 2 cores; idle, 2 threads give ~180
            and 1 thread ~130 tok/s).
        context_length: llama.cpp context size of the LLM.
        max_tokens: Longest LLM reply when a request sets no limit.

    Raises:
        RealEngineUnavailableError: A package is missing (the message says which
            command installs them).
    """
    missing = missing_packages({**TEXT_PACKAGES, **EMBEDDING_PACKAGES})
    if missing:
        raise RealEngineUnavailableError(
            f"The real engines need the optional package(s) {', '.join(missing)}. "
            f"Install them with: {INSTALL_COMMAND}"
        )
    catalog = real_catalog(preload=preload)
    if include_defaults:
        catalog = default_catalog() + catalog
    llm = LlamaTextEngine(
        context_length=context_length,
        threads=llm_threads,
        max_tokens=max_tokens,
    )
    return RealEngines(
        catalog=catalog,
        text_engines={SMOLLM2_KEY: llm},
        embedding_engines={MINILM_KEY: OnnxEmbeddingEngine(threads=threads)},
    )


def real_engines_available() -> bool:
    """Whether every package the real engines need is installed (nothing is imported)."""
    return not missing_packages({**TEXT_PACKAGES, **EMBEDDING_PACKAGES})
